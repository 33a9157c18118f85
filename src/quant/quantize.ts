import { UnsupportedModelError } from '../errors.js';
import type { FloatGraph, FloatNode, LinearNode } from '../ir/graph.js';
import { carriesQuantization, size } from '../ir/graph.js';
import { unsignedBits } from '../ops/fixed_point.js';
import { fixedDomains, pwlFunctions, pwlTables, type PwlFn } from '../ops/pwl.js';
import { defOf, type PwlOp, type QOp } from '../ops/index.js';
import { calibrate, type TensorStats } from './calibrate.js';
import { defaultQuantConfig, unitOf, type Approximation, type QProgram, type QTensor, type QuantConfig } from './program.js';

/** Largest number of fractional bits a scale may use (keeps widths sane for tiny values). */
const MAX_FRAC = 24;

/** Fractional bits so that `maxAbs` fits in a signed `bits`-bit integer: the power-of-two scale. */
export function fracFor(maxAbs: number, bits: number, limit = MAX_FRAC): number {
  if (!(maxAbs > 0)) return limit;
  return Math.min(limit, Math.floor(Math.log2((2 ** (bits - 1) - 1) / maxAbs)));
}

/** The fewest fractional bits that hold every weight exactly (1, 1/2, 1/4 ...), if no more than `limit`. */
function exactFrac(weights: ArrayLike<number>, limit: number): number | undefined {
  for (let f = 0; f <= limit; f++) {
    const s = 2 ** f;
    if (Array.prototype.every.call(weights, (w: number) => Math.abs(w * s - Math.round(w * s)) < 1e-12)) return f;
  }
  return undefined;
}

/**
 * An input's scale and accepted integer range per element. Without known ranges, the calibrated
 * [min, max] of the whole tensor is widened by the margin, but a non-negative input (pixels,
 * counts) stays non-negative. With known ranges (`--input-range`: a scaler's or a sensor's bounds,
 * per feature), each element accepts exactly its own range, with no margin. The scale is the
 * finest at which the widest element's range is `inputBits` wide (its range check's cost), or
 * coarser when every calibration value lies on a power-of-two grid (pixels k/16 need 4 fractional
 * bits, not 10): values on that grid are represented exactly. The grid applies when only affine
 * ops read the input. Off the grid, an input that only affine ops read gets the step that spreads
 * its range over all 2^inputBits levels (`scale`, folded into those ops' weights): a range of
 * [0, 1] in 5 bits is 32 levels of 1/31, where a power-of-two step would give 17 levels of 1/16.
 */
export function inputRange(
  st: TensorStats,
  config: QuantConfig,
  n: number,
  useGrid = true,
  known?: { min: readonly number[]; max: readonly number[] },
): { frac: number; lo: bigint[]; hi: bigint[]; scale?: number } {
  let floatLo: number[];
  let floatHi: number[];
  if (known) {
    [floatLo, floatHi] = [[...known.min], [...known.max]];
  } else {
    const span = st.max - st.min || st.maxAbs || 1;
    const lo = st.min >= 0 ? Math.max(0, st.min - config.inputMargin * span) : st.min - config.inputMargin * span;
    [floatLo, floatHi] = [new Array(n).fill(lo), new Array(n).fill(st.max + config.inputMargin * span)];
  }
  const widest = floatLo.reduce((w, lo, i) => Math.max(w, floatHi[i] - lo), 2 ** -MAX_FRAC);
  const widthFrac = Math.min(MAX_FRAC, Math.floor(Math.log2((2 ** config.inputBits - 1) / widest)));
  if (useGrid && st.gridFrac !== undefined && st.gridFrac <= widthFrac) {
    const frac = st.gridFrac;
    return { frac, lo: floatLo.map((v) => BigInt(Math.floor(v * 2 ** frac))), hi: floatHi.map((v) => BigInt(Math.ceil(v * 2 ** frac))) };
  }
  // The finest step whose levels still cover every element's range: floor(lo / step) and
  // ceil(hi / step) are at most 2^inputBits - 1 apart (one level is kept for rounding unless lo sits on the grid).
  const fromZero = floatLo.every((v) => v === 0);
  const step = widest / (2 ** config.inputBits - (fromZero ? 1 : 2));
  if (useGrid && widest > 2 ** -MAX_FRAC && step < 2 ** -widthFrac * (1 - 1e-9)) {
    return { frac: 0, scale: step, lo: floatLo.map((v) => BigInt(Math.floor(v / step + 1e-9))), hi: floatHi.map((v) => BigInt(Math.ceil(v / step - 1e-9))) };
  }
  const frac = widthFrac;
  return { frac, lo: floatLo.map((v) => BigInt(Math.floor(v * 2 ** frac))), hi: floatHi.map((v) => BigInt(Math.ceil(v * 2 ** frac))) };
}

interface State {
  tensor: QTensor;
  /** True while the tensor is an accumulator at a product scale, not yet rescaled. */
  accumulator: boolean;
}

/**
 * Float IR + calibration samples -> integer program with power-of-two scales.
 * Affine ops accumulate at the product scale; a rescale brings the result back to the activation
 * scale chosen from calibration, fused with the activation that follows when there is one.
 * Max pooling and ArgMax work on accumulators directly (both commute with a monotone rescale).
 * The graph output stays at its scale: rescaling it would cost constraints and lose precision.
 */
export function quantize(
  graph: FloatGraph,
  samples: readonly (readonly number[])[],
  config: QuantConfig = defaultQuantConfig,
  // Calibration depends only on the samples: callers that try many configs pass it once.
  stats: Map<string, TensorStats> = calibrate(graph, samples),
): QProgram {
  if (carriesQuantization(graph.nodes, graph.inputs)) throw new UnsupportedModelError('model', graph.output.name, 'this model carries its own int8 quantization: it is compiled by quantizeQdq (src/quant/qdq.ts), not calibrated');
  const ops: QOp[] = [];
  const state = new Map<string, State>();
  const approximations: Approximation[] = [];
  let counter = 0;
  const fresh = (base: string) => `t${counter++}_${base.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}`;
  const stat = (name: string): TensorStats => stats.get(name)!;

  let offset = 0;
  const inputs: QTensor[] = graph.inputs.map((input) => {
    if (input.integer) {
      // Token ids: integers as they are, accepted in [0, max] (the lookup proves id < rows).
      const n = size(input.shape);
      const t: QTensor = { name: fresh(`input_${input.name}`), shape: input.shape, frac: 0 };
      ops.push({ kind: 'input', source: input.name, inputs: [], output: t.name, shape: input.shape, offset, lo: new Array(n).fill(0n), bits: new Array(n).fill(unsignedBits(BigInt(input.integer.max))), tokenIds: { max: BigInt(input.integer.max) } });
      offset += n;
      state.set(input.name, { tensor: t, accumulator: false });
      return t;
    }
    // An affine consumer adds the weights' fraction bits; any other op would keep the grid's
    // coarse scale for its own output (a LeakyRelu of integers would round away 0.1 x).
    const affineOnly = input.name !== graph.output.name && graph.nodes.every((n) => !n.inputs.includes(input.name) || n.kind === 'linear');
    const n = size(input.shape);
    const known = config.inputRange && { min: config.inputRange.min.slice(offset, offset + n), max: config.inputRange.max.slice(offset, offset + n) };
    const { frac, lo, hi, scale } = inputRange(stat(input.name), config, n, affineOnly, known);
    const t: QTensor = { name: fresh(`input_${input.name}`), shape: input.shape, frac, ...(scale !== undefined ? { scale } : {}) };
    ops.push({ kind: 'input', source: input.name, inputs: [], output: t.name, shape: input.shape, offset, lo, bits: lo.map((l, i) => unsignedBits(hi[i] - l)) });
    offset += n;
    state.set(input.name, { tensor: t, accumulator: false });
    return t;
  });

  const activationFrac = (name: string, current: number) => Math.min(current, fracFor(stat(name).maxAbs, config.activationBits));
  const push = (op: QOp, t: QTensor, accumulator: boolean, floatName: string) => {
    ops.push(op);
    state.set(floatName, { tensor: t, accumulator });
  };

  /** Brings an accumulator back to its activation scale before an op that needs settled values. */
  const settle = (name: string, source: string): QTensor => {
    const s = state.get(name)!;
    if (!s.accumulator) return s.tensor;
    const frac = activationFrac(name, s.tensor.frac);
    const out: QTensor = { name: fresh(`${source}_rescale`), shape: s.tensor.shape, frac };
    push({ kind: 'rescale', source, inputs: [s.tensor.name], output: out.name, shift: s.tensor.frac - frac, relu: false }, out, false, name);
    return out;
  };

  /**
   * `x` at exactly `frac` fractional bits, recorded as `floatName`'s tensor: rescaled down (round
   * half up), or raised exactly (multiplying by 2^d costs nothing).
   */
  const toFrac = (x: QTensor, frac: number, source: string, floatName: string): QTensor => {
    if (x.frac === frac) return x;
    const t: QTensor = { name: fresh(`${source}_scale`), shape: x.shape, frac };
    const n = size(x.shape);
    if (x.frac > frac) {
      ops.push({ kind: 'rescale', source, inputs: [x.name], output: t.name, shift: x.frac - frac, relu: false });
    } else {
      const factor = 1n << BigInt(frac - x.frac);
      ops.push({ kind: 'linear', source, inputs: [x.name], output: t.name, rowStart: Array.from({ length: n + 1 }, (_, j) => j), src: new Array(n).fill(0), index: Array.from({ length: n }, (_, j) => j), weight: new Array(n).fill(factor), bias: new Array(n).fill(0n) });
    }
    state.set(floatName, { tensor: t, accumulator: false });
    return t;
  };

  /** Raises tensors to a common scale exactly. */
  const align = (names: string[], source: string): QTensor[] => {
    const xs = names.map((n) => settle(n, source));
    const top = Math.max(...xs.map((x) => x.frac));
    return xs.map((x, k) => toFrac(x, top, source, names[k]));
  };

  /**
   * Softmax inside the model (attention): per group, m = max(x) (comparisons), d = x - m (free),
   * e = exp(d) (piecewise-linear on [-8, 0], exact 1 at d = 0), s = sum(e) (free), and
   * y = round(e * 2^shift / s) by a proved division (circuits/div_round.circom).
   */
  const provedSoftmax = (source: string, input: string, output: string, groups: number[][]) => {
    const x = settle(input, source);
    const n = size(x.shape);
    const frac = config.activationBits - 2;
    const m: QTensor = { name: fresh(`${source}_max`), shape: [groups.length], frac: x.frac };
    ops.push({ kind: 'max', source, inputs: [x.name], output: m.name, windows: groups });
    const groupOf = new Array<number>(n);
    groups.forEach((g, k) => g.forEach((i) => (groupOf[i] = k)));
    const d: QTensor = { name: fresh(`${source}_shifted`), shape: x.shape, frac: x.frac };
    ops.push({ kind: 'linear', source, inputs: [x.name, m.name], output: d.name, rowStart: Array.from({ length: n + 1 }, (_, j) => 2 * j), src: Array.from({ length: 2 * n }, (_, k) => k % 2), index: Array.from({ length: 2 * n }, (_, k) => (k % 2 ? groupOf[k >> 1] : k >> 1)), weight: Array.from({ length: 2 * n }, (_, k) => (k % 2 ? -1n : 1n)), bias: new Array(n).fill(0n) });
    const e: QTensor = { name: fresh(`${source}_exp`), shape: x.shape, frac };
    // Below the domain the weight is 0, not exp(-8): a masked score (-1e4) must get none.
    const exp: PwlOp = { kind: 'pwl', source, inputs: [d.name], output: e.name, ...pwlTables('exp', x.frac, frac, SOFTMAX_DOMAIN, SOFTMAX_SEGMENTS_LOG2), below: 0n };
    ops.push(exp);
    approximations.push({ op: source, fn: 'exp (softmax)', maxError: measureApproximation(exp, [-16, 0]), range: [-16, 0], output: exp.output });
    const sum: QTensor = { name: fresh(`${source}_sum`), shape: [groups.length], frac };
    const rowStart = [0];
    for (const g of groups) rowStart.push(rowStart[rowStart.length - 1] + g.length);
    ops.push({ kind: 'linear', source, inputs: [e.name], output: sum.name, rowStart, src: new Array(n).fill(0), index: groups.flat(), weight: new Array(n).fill(1n), bias: new Array(groups.length).fill(0n) });
    const y: QTensor = { name: fresh(`${source}_softmax`), shape: x.shape, frac };
    // e is one of the non-negative terms of s, so 0 <= q <= 2^frac: frac + 2 signed bits.
    ops.push({ kind: 'div', source, inputs: [e.name, sum.name], output: y.name, left: Array.from({ length: n }, (_, j) => j), right: groupOf, shift: frac, quotientBits: frac + 2 });
    state.set(output, { tensor: y, accumulator: false });
  };

  const consumers = new Map<string, FloatNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  let postprocess: QProgram['postprocess'];

  for (const node of graph.nodes) {
    const shape = graph.shapes.get(node.output)!;
    const out = (frac: number): QTensor => ({ name: fresh(node.node), shape, frac });
    switch (node.kind) {
      case 'linear': {
        const xs = node.inputs.map((i) => settle(i, node.node));
        const top = Math.max(...xs.map((x) => x.frac));
        // Each source's unit at the common scale 2^-top: a power of two, or an input's folded step.
        const factor = xs.map((x) => unitOf(x) * 2 ** top);
        const folded = xs.some((x) => x.scale !== undefined);
        const sized = folded ? Float64Array.from(node.weight, (w, k) => w * factor[node.src[k]]) : node.weight;
        const maxW = sized.reduce((m, w) => Math.max(m, Math.abs(w)), 0);
        // A folded step makes the weights that much smaller; the fraction cap is for the weights themselves.
        const limit = MAX_FRAC + (folded ? Math.max(0, Math.ceil(-Math.log2(Math.min(...factor)))) : 0);
        // Exact weights take the fewest fraction bits that hold them, and the bias too (a bias of
        // 0.6 beside weights of 1/2 needs more than one bit), else the budget's fraction.
        const budget = fracFor(maxW, config.weightBits, limit);
        const exact = exactFrac(sized, budget);
        const biasExact = exact === undefined ? undefined : exactFrac(Float64Array.from(node.bias, (b) => b * 2 ** (top + exact)), budget - exact);
        const wFrac = exact !== undefined && biasExact !== undefined ? exact + biasExact : budget;
        const t = out(top + wFrac);
        push(linearOp(node, xs, factor, t), t, true, node.output);
        break;
      }
      case 'gather': {
        const xs = node.inputs.length === 1 ? [state.get(node.inputs[0])!.tensor] : align(node.inputs, node.node);
        const accumulator = node.inputs.length === 1 && state.get(node.inputs[0])!.accumulator;
        const t = out(xs[0].frac);
        const constant = Array.from(node.constant, (c) => BigInt(Math.round(c * 2 ** t.frac)));
        push({ kind: 'gather', source: node.node, inputs: xs.map((x) => x.name), output: t.name, src: Array.from(node.src), index: Array.from(node.index), constant }, t, accumulator, node.output);
        break;
      }
      case 'relu': {
        const x = state.get(node.inputs[0])!.tensor;
        const t = out(activationFrac(node.output, x.frac));
        push({ kind: 'rescale', source: node.node, inputs: [x.name], output: t.name, shift: x.frac - t.frac, relu: true }, t, false, node.output);
        break;
      }
      case 'leakyRelu': {
        const x = state.get(node.inputs[0])!.tensor;
        const t = out(activationFrac(node.output, x.frac));
        const maxAlpha = node.alpha.reduce((m, a) => Math.max(m, Math.abs(a)), 0);
        const alphaFrac = Math.max(0, exactFrac(node.alpha, fracFor(maxAlpha, config.weightBits)) ?? fracFor(maxAlpha, config.weightBits));
        const alpha = Array.from(node.alpha, (a) => BigInt(Math.round(a * 2 ** alphaFrac)));
        push({ kind: 'leaky', source: node.node, inputs: [x.name], output: t.name, shift: x.frac - t.frac, alphaFrac, alpha }, t, false, node.output);
        break;
      }
      case 'clip': {
        const s = state.get(node.inputs[0])!;
        let x = s.tensor;
        let relu = false;
        if (s.accumulator) {
          relu = node.min === 0;
          const r = out(activationFrac(node.output, x.frac));
          push({ kind: 'rescale', source: node.node, inputs: [x.name], output: r.name, shift: x.frac - r.frac, relu }, r, false, node.output);
          x = r;
        }
        const q = (v: number) => (Number.isFinite(v) ? BigInt(Math.round(v * 2 ** x.frac)) : null);
        const t = out(x.frac);
        push({ kind: 'clamp', source: node.node, inputs: [x.name], output: t.name, lo: relu ? null : q(node.min), hi: q(node.max) }, t, false, node.output);
        break;
      }
      case 'sigmoid':
      case 'tanh':
      case 'fn': {
        const fn: PwlFn = node.kind === 'fn' ? node.fn : node.kind;
        const x = state.get(node.inputs[0])!.tensor;
        const st = stat(node.inputs[0]);
        // Bounded functions have fixed domains; the others are proved on the calibrated input range
        // widened by the input margin (the output saturates outside it; the manifest says so).
        const span = st.max - st.min || st.maxAbs || 1;
        const margin = Math.max(config.inputMargin, 0.25) * span;
        const domain = fixedDomains[fn] ?? (fn === 'log' ? [Math.max(st.min / 2, 2 ** -x.frac), st.max + margin] : [st.min - margin, st.max + margin]) as [number, number];
        const bounded = fixedDomains[fn] !== undefined;
        const t = out(bounded ? config.activationBits - 2 : fracFor(Math.max(...[...domain, st.min, st.max].map((v) => Math.abs(pwlFunctions[fn](v)))), config.activationBits));
        const op: PwlOp = { kind: 'pwl', source: node.node, inputs: [x.name], output: t.name, ...pwlTables(fn, x.frac, t.frac, domain) };
        const range: [number, number] = bounded ? [2 * domain[0], 2 * domain[1]] : [st.min, st.max];
        approximations.push({ op: node.node, fn, maxError: measureApproximation(op, range), range, output: op.output });
        push(op, t, false, node.output);
        break;
      }
      case 'lookup': {
        const ids = state.get(node.inputs[0])!.tensor;
        const maxAbs = node.table.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const t = out(fracFor(maxAbs, config.activationBits));
        const table = Array.from(node.table, (v) => BigInt(Math.round(v * 2 ** t.frac)));
        push({ kind: 'lookup', source: node.node, inputs: [ids.name], output: t.name, rows: node.rows, cols: node.cols, table }, t, false, node.output);
        break;
      }
      case 'sqrt': {
        // The standard deviation of LayerNorm: sqrt of a variance. The input is brought to an even
        // fraction 2g chosen so that the root has activationBits of precision at the calibrated
        // maximum (a low-precision variance would make a coarse divisor).
        const s = state.get(node.inputs[0])!;
        const g = Math.max(0, fracFor(Math.sqrt(stat(node.inputs[0]).maxAbs), config.activationBits));
        const x = toFrac(s.tensor, 2 * g, node.node, node.inputs[0]);
        const t = out(g);
        push({ kind: 'sqrt', source: node.node, inputs: [x.name], output: t.name }, t, false, node.output);
        break;
      }
      case 'div': {
        const [a, b] = node.inputs.map((i) => settle(i, node.node));
        const target = fracFor(stat(node.output).maxAbs, config.activationBits);
        const shift = Math.max(0, target - a.frac + b.frac);
        const t = out(a.frac + shift - b.frac);
        // Interval arithmetic bounds a / b by max|a| / min b, far above what a normalisation
        // produces (|x - mean| / std < sqrt(n)); the quotient's range check is instead sized at
        // DIV_HEADROOM times the calibrated maximum, and enforced (the bound stays sound; an input
        // beyond it is refused by the prover, as one outside the input range is).
        const peak = DIV_HEADROOM * stat(node.output).maxAbs * 2 ** t.frac;
        if (!Number.isFinite(peak)) throw new UnsupportedModelError('Div', node.node, 'the quotient is not finite on the calibration samples (a division by zero?)');
        const quotientBits = unsignedBits(BigInt(Math.ceil(peak)) + 1n) + 1;
        push({ kind: 'div', source: node.node, inputs: [a.name, b.name], output: t.name, left: Array.from(node.left), right: Array.from(node.right), shift, quotientBits }, t, false, node.output);
        break;
      }
      case 'maxPool': {
        const s = state.get(node.inputs[0])!;
        const t = out(s.tensor.frac);
        push({ kind: 'max', source: node.node, inputs: [s.tensor.name], output: t.name, windows: node.windows.map((w) => Array.from(w)) }, t, s.accumulator, node.output);
        break;
      }
      case 'mul': {
        const [a, b] = node.inputs.map((i) => settle(i, node.node));
        const t = out(a.frac + b.frac);
        push({ kind: 'mul', source: node.node, inputs: [a.name, b.name], output: t.name, rowStart: Array.from(node.rowStart), left: Array.from(node.left), right: Array.from(node.right) }, t, true, node.output);
        break;
      }
      case 'argmax': {
        if (node.output !== graph.output.name) throw new UnsupportedModelError('ArgMax', node.node, 'ArgMax is supported only as the model output');
        const x = state.get(node.inputs[0])!.tensor;
        const t = out(0);
        push({ kind: 'argmax', source: node.node, inputs: [x.name], output: t.name, groups: node.groups.map((g) => Array.from(g)), selectLast: node.selectLast }, t, false, node.output);
        break;
      }
      case 'softmax': {
        // Softmax is monotone within each group: the circuit proves the logits, and Softmax is a
        // public post-processing step (or disappears into a following ArgMax over the same groups).
        const next = consumers.get(node.output) ?? [];
        const groups = node.groups.map((g) => Array.from(g));
        const intoArgmax = next.length === 1 && next[0].kind === 'argmax' && sameGroups(groups, next[0].groups);
        if (node.output === graph.output.name || intoArgmax) {
          if (!intoArgmax) postprocess = { kind: 'softmax', groups };
          state.set(node.output, state.get(node.inputs[0])!);
          break;
        }
        provedSoftmax(node.node, node.inputs[0], node.output, groups);
        break;
      }
    }
  }
  const output = state.get(graph.output.name)!.tensor;
  return { ops, inputs, output, approximations, ...(postprocess ? { postprocess } : {}) };
}

function linearOp(node: LinearNode, xs: QTensor[], factor: number[], t: QTensor): QOp {
  const top = Math.max(...xs.map((x) => x.frac));
  const weight = Array.from(node.weight, (w, k) => BigInt(Math.round(w * factor[node.src[k]] * 2 ** (t.frac - top))));
  return {
    kind: 'linear',
    source: node.node,
    inputs: xs.map((x) => x.name),
    output: t.name,
    rowStart: Array.from(node.rowStart),
    src: Array.from(node.src),
    index: Array.from(node.index),
    weight,
    bias: Array.from(node.bias, (b) => BigInt(Math.round(b * 2 ** t.frac))),
  };
}

function sameGroups(a: number[][], b: Int32Array[]): boolean {
  const key = (g: ArrayLike<number>) => Array.from(g).join(',');
  const set = new Set(a.map(key));
  return a.length === b.length && b.every((g) => set.has(key(g)));
}

/** How far beyond its calibrated maximum a division's quotient may go before the prover refuses it. */
const DIV_HEADROOM = 4;

/**
 * Softmax's exponential: 2^6 segments over [-8, 0), steps of 1/8 (interpolation error below
 * 2^-9); below -8 it is 0, an error under exp(-8) = 3.4e-4, where [-16, 0) would need twice the
 * segments (and decoder constraints) for the same step.
 */
const SOFTMAX_DOMAIN: [number, number] = [-8, 0];
const SOFTMAX_SEGMENTS_LOG2 = 6;

/** Worst |approximation - f| over a fine grid of representable inputs in `range`. */
function measureApproximation(op: PwlOp, range: readonly [number, number]): number {
  const [f, inFrac, outFrac] = [pwlFunctions[op.fn], op.inFrac!, op.outFrac!];
  const step = Math.max(2 ** -inFrac, (range[1] - range[0]) / 20000);
  const xs: bigint[] = [];
  for (let v = range[0]; v <= range[1]; v += step) xs.push(BigInt(Math.round(v * 2 ** inFrac)));
  const ys = defOf(op).evaluate(op, [xs]);
  return xs.reduce((m, x, i) => Math.max(m, Math.abs(Number(ys[i]) * 2 ** -outFrac - f(Number(x) * 2 ** -inFrac))), 0);
}

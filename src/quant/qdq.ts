/**
 * An int8 model proved with its own quantization (QDQ and QOperator formats, src/onnx/lower/
 * quantization.ts). No calibration: the model's scales and zero points define the integers, and
 * the circuit computes exactly what the ONNX operators specify over the rationals (every float32
 * scale is a dyadic rational):
 *
 *   Q(op(DQ(x), DQ(w)) + DQ(b)) = saturate(round_half_even((sum (x - zx) sx (w - zw) sw + b sb) / sy) + zy)
 *
 * Each tensor is in one of two states:
 *  - quantized: the circuit holds c = q - z (centred), so padding and zero points cost nothing;
 *  - exact: the circuit holds integers A whose real value is f_j A_j + o_j, with rationals f_j > 0
 *    and o_j per element (and a ReLU still to apply, folded into the next requantization).
 * DequantizeLinear only changes f and o. An affine op (Conv, Gemm, MatMul) takes each row's
 * coefficients w_t f_t, exact dyadics, factors out their gcd g_j and keeps the quotients as small
 * integer weights (the model's int8 weights again): A' = sum k_t A_t + round(o'/g), f' = g_j.
 * QuantizeLinear becomes a `requant` op whose fixed-point multiplier rounds exactly like
 * round_half_even(f A / sy + o / sy) for every accumulator in the bound (requant_params.ts).
 */
import { UnsupportedModelError } from '../errors.js';
import { carriesQuantization, quantTypeRange, size, type FloatGraph, type FloatNode, type QuantType, type QuantizeNode } from '../ir/graph.js';
import { unsignedBits } from '../ops/fixed_point.js';
import { defOf, type Interval, type QOp } from '../ops/index.js';
import type { InputQuantizer, QProgram, QTensor } from './program.js';
import { addR, divR, gcdR, mulR, ONE, rational, rationalOf, sameR, toDouble, ZERO, type Rational } from './rational.js';
import { requantParams, roundHalfEven, type AccumulatorTerms } from './requant_params.js';

interface Quantized {
  kind: 'q';
  tensor: QTensor;
  /** The element's zero point: its integer value is c + zero[j]. */
  zero: number[];
  type?: QuantType;
}

interface Exact {
  kind: 'e';
  tensor: QTensor;
  f: Rational[];
  o: Rational[];
  /** A clamp of the real value still to apply (ReLU, Clip): folded into the next QuantizeLinear's saturation. */
  clamp?: Bounds;
}

/** [min, max] of a real value; an absent end is unbounded. */
interface Bounds {
  min?: Rational;
  max?: Rational;
}

const ltR = (a: Rational, b: Rational) => a.n * b.d < b.n * a.d;

/** clamp(clamp(v, a), b) as one clamp; undefined when the two ranges do not meet (a constant). */
function meet(a: Bounds | undefined, b: Bounds): Bounds | undefined {
  const min = a?.min === undefined ? b.min : b.min === undefined || ltR(b.min, a.min) ? a.min : b.min;
  const max = a?.max === undefined ? b.max : b.max === undefined || ltR(a.max, b.max) ? a.max : b.max;
  if (min !== undefined && max !== undefined && ltR(max, min)) return undefined;
  return { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
}

const sameBounds = (a: Bounds | undefined, b: Bounds | undefined) => {
  const same = (x?: Rational, y?: Rational) => (x === undefined ? y === undefined : y !== undefined && sameR(x, y));
  return same(a?.min, b?.min) && same(a?.max, b?.max);
};

type State = Quantized | Exact;

/** Whether a graph carries its own quantization, and so is proved by quantizeQdq. */
export function isQuantizedGraph(graph: FloatGraph): boolean {
  return carriesQuantization(graph.nodes, graph.inputs);
}

const ONNX_OP: Partial<Record<FloatNode['kind'], string>> = { quantize: 'QuantizeLinear', dequantize: 'DequantizeLinear', linear: 'affine', relu: 'Relu', clip: 'Clip', maxPool: 'MaxPool', gather: 'Reshape/Flatten', argmax: 'ArgMax', softmax: 'Softmax' };

/** Where each quantized tensor of the model lives in the program: value_j = program tensor_j + zero[j]. */
export type QuantizedTrace = Map<string, { tensor: string; zero: number[] }>;

/** The int8 model's integer program; `trace` (optional) receives every QuantizeLinear output's place in it. */
export function quantizeQdq(graph: FloatGraph, trace?: QuantizedTrace): QProgram {
  const ops: QOp[] = [];
  const bounds = new Map<string, Interval[]>();
  const state = new Map<string, State>();
  let counter = 0;
  const fresh = (base: string) => `t${counter++}_${base.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}`;
  const push = (op: QOp) => {
    ops.push(op);
    bounds.set(op.output, defOf(op).bounds(op, op.inputs.map((i) => bounds.get(i)!)));
  };
  /**
   * How each element of a tensor is made, where a linear op (possibly under a max pool) made it:
   * its row's terms, or the rows of its window. The tie check then sees which accumulators occur.
   */
  const accumulatorTerms = (tensor: string): ((j: number) => AccumulatorTerms[]) | undefined => {
    const producer = (name: string) => ops.find((op) => op.output === name);
    const made = producer(tensor);
    const pooled = made?.kind === 'max' ? made : undefined;
    const linear = pooled ? producer(pooled.inputs[0]) : made;
    if (linear?.kind !== 'linear') return undefined;
    const row = (j: number): AccumulatorTerms => {
      const [start, end] = [linear.rowStart[j], linear.rowStart[j + 1]];
      return { weight: linear.weight.slice(start, end), range: linear.index.slice(start, end).map((i, k) => bounds.get(linear.inputs[linear.src[start + k]])![i]), bias: linear.bias[j] };
    };
    return (j) => (pooled ? pooled.windows[j].map(row) : [row(j)]);
  };
  const consumers = new Map<string, FloatNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  let postprocess: QProgram['postprocess'];

  let offset = 0;
  const inputs = graph.inputs.map((input): QTensor => {
    const n = size(input.shape);
    const fail = (reason: string): never => {
      throw new UnsupportedModelError('input', input.name, reason);
    };
    if (input.integer) fail('token ids (an integer input) in an int8 model are not supported');
    let quantizer: InputQuantizer;
    let targets: string[];
    if (input.quantized) {
      const [qmin, qmax] = quantTypeRange[input.quantized];
      quantizer = { type: input.quantized, scale: new Array(n).fill(1), zeroPoint: new Array(n).fill(0), qmin, qmax, integer: true };
      targets = [input.name];
    } else {
      // A float input of an int8 model is quantized on the host, exactly as its QuantizeLinear does.
      const users = consumers.get(input.name) ?? [];
      const qs = users.filter((u): u is QuantizeNode => u.kind === 'quantize');
      const q = qs[0];
      if (!q || qs.length !== users.length || qs.some((u) => u.type !== q.type || !sameArray(u.scale, q.scale) || !sameArray(u.zeroPoint, q.zeroPoint))) {
        return fail('a float input of an int8 model must go straight into QuantizeLinear (one quantization of it)');
      }
      const [qmin, qmax] = quantTypeRange[q.type];
      quantizer = { type: q.type, scale: Array.from(q.scale), zeroPoint: Array.from(q.zeroPoint), qmin, qmax };
      targets = users.map((u) => u.output);
    }
    const uniform = quantizer.scale.every((s) => s === quantizer.scale[0]);
    const t: QTensor = { name: fresh(`input_${input.name}`), shape: input.shape, frac: 0, quantizer, ...(uniform ? { scale: quantizer.scale[0] } : {}) };
    const lo = quantizer.zeroPoint.map((z) => BigInt(quantizer.qmin - z));
    push({ kind: 'input', source: input.name, inputs: [], output: t.name, shape: input.shape, offset, lo, bits: new Array(n).fill(unsignedBits(BigInt(quantizer.qmax - quantizer.qmin))) });
    offset += n;
    for (const name of targets) {
      state.set(name, { kind: 'q', tensor: t, zero: [...quantizer.zeroPoint], type: quantizer.type });
      trace?.set(name, { tensor: t.name, zero: [...quantizer.zeroPoint] });
    }
    return t;
  });
  const handled = new Set(graph.inputs.filter((i) => !i.quantized).flatMap((i) => (consumers.get(i.name) ?? []).map((u) => u.output)));

  for (const node of graph.nodes) {
    if (handled.has(node.output)) continue;
    const shape = graph.shapes.get(node.output)!;
    const fail = (reason: string): never => {
      throw new UnsupportedModelError(ONNX_OP[node.kind] ?? node.kind, node.node, reason);
    };
    const get = (name: string): State => state.get(name) ?? fail(`it reads "${name}", a float tensor outside the model's quantization: in an int8 model, float ops must read DequantizeLinear outputs`);
    const out = (): QTensor => ({ name: fresh(node.node), shape, frac: 0 });

    /** The ReLU an exact state still carries, applied: max(A, 0) is exact when o = 0 (f > 0). */
    const settled = (x: Exact): Exact => {
      if (!x.clamp) return x;
      const relu = x.clamp.min?.n === 0n && x.clamp.max === undefined;
      if (!relu || x.o.some((o) => o.n !== 0n)) fail('a ReLU of a tensor with an offset, or a Clip, must be followed by QuantizeLinear (which it then costs nothing in)');
      const t = out();
      push({ kind: 'clamp', source: node.node, inputs: [x.tensor.name], output: t.name, lo: 0n, hi: null });
      return { ...x, tensor: t, clamp: undefined };
    };
    const exact = (name: string): Exact => {
      const s = get(name);
      if (s.kind !== 'e') return fail(`it reads the quantized tensor "${name}" directly: dequantize it first (DequantizeLinear)`);
      return s;
    };

    /**
     * The same values over one scale and offset: a pool over a padded convolution's border rows
     * (fewer taps, so possibly another row gcd and bias split) sees different f and o. With g the
     * gcd of every f_i and o_i - o_0, A'_i = (f_i A_i + o_i - o_0) / g is an exact integer map.
     */
    const commonScale = (x: Exact): Exact => {
      const shifts = x.o.map((o) => addR(o, mulR(x.o[0], rational(-1n))));
      const g = gcdR([...x.f, ...shifts]);
      const n = x.f.length;
      const t = out();
      push({ kind: 'linear', source: node.node, inputs: [x.tensor.name], output: t.name, rowStart: Array.from({ length: n + 1 }, (_, j) => j), src: new Array(n).fill(0), index: Array.from({ length: n }, (_, j) => j), weight: x.f.map((f) => divR(f, g).n), bias: shifts.map((d) => divR(d, g).n) });
      return { ...x, tensor: t, f: x.f.map(() => g), o: x.o.map(() => x.o[0]) };
    };

    switch (node.kind) {
      case 'quantize': {
        const x = get(node.inputs[0]);
        if (x.kind === 'q') fail('its input is already quantized');
        const e = x as Exact;
        state.set(node.output, requantize(e, node, out(), bounds.get(e.tensor.name)!, push, fail, accumulatorTerms(e.tensor.name)));
        const q = state.get(node.output) as Quantized;
        trace?.set(node.output, { tensor: q.tensor.name, zero: q.zero });
        break;
      }
      case 'dequantize': {
        // real = (value - zd) sd, with value = c + zq (quantized) or f A + o (an integer accumulator).
        const x = get(node.inputs[0]);
        const sd = Array.from(node.scale, rationalOf);
        if (x.kind === 'q') {
          state.set(node.output, { kind: 'e', tensor: x.tensor, f: sd, o: sd.map((s, j) => mulR(s, rational(BigInt(x.zero[j] - node.zeroPoint[j])))) });
        } else {
          const y = settled(x);
          state.set(node.output, { kind: 'e', tensor: y.tensor, f: y.f.map((f, j) => mulR(f, sd[j])), o: y.o.map((o, j) => mulR(addR(o, rational(BigInt(-node.zeroPoint[j]))), sd[j])) });
        }
        break;
      }
      case 'linear': {
        const xs = node.inputs.map((i) => settled(exact(i)));
        const rows = node.bias.length;
        const weight: bigint[] = [];
        const bias: bigint[] = [];
        const f: Rational[] = [];
        const o: Rational[] = [];
        const w = new Map<number, Rational>();
        const exactWeight = (v: number) => w.get(v) ?? (w.set(v, rationalOf(v)), w.get(v)!);
        for (let j = 0; j < rows; j++) {
          const scale = node.rowScale ? rationalOf(node.rowScale[j]) : ONE;
          const rs = node.rowDivisor ? divR(scale, rational(BigInt(node.rowDivisor[j]))) : scale;
          const coeffs: Rational[] = [];
          let offsetJ = rationalOf(node.bias[j]);
          for (let t = node.rowStart[j]; t < node.rowStart[j + 1]; t++) {
            const x = xs[node.src[t]];
            const wt = exactWeight(node.weight[t]);
            coeffs.push(mulR(mulR(wt, x.f[node.index[t]]), rs));
            offsetJ = addR(offsetJ, mulR(wt, x.o[node.index[t]]));
          }
          offsetJ = mulR(offsetJ, rs);
          const g = gcdR(coeffs);
          for (const c of coeffs) weight.push(divR(c, g).n);
          // The integral part of the offset joins the accumulator as its bias (hidden with the
          // weights); what is left, under one step of g, stays in the requantization's offset.
          const b = nearest(divR(offsetJ, g));
          bias.push(b);
          f.push(g);
          o.push(addR(offsetJ, mulR(rational(-b), g)));
        }
        const t = out();
        push({ kind: 'linear', source: node.node, inputs: xs.map((x) => x.tensor.name), output: t.name, rowStart: Array.from(node.rowStart), src: Array.from(node.src), index: Array.from(node.index), weight, bias });
        state.set(node.output, { kind: 'e', tensor: t, f, o });
        break;
      }
      case 'relu':
      case 'clip': {
        // Kept pending: the QuantizeLinear after it saturates there anyway (ReLU6 is Clip(0, 6)).
        const x = exact(node.inputs[0]);
        const bounds: Bounds = node.kind === 'relu' ? { min: ZERO } : { ...(Number.isFinite(node.min) ? { min: rationalOf(node.min) } : {}), ...(Number.isFinite(node.max) ? { max: rationalOf(node.max) } : {}) };
        const clamp = meet(x.clamp, bounds);
        if (!clamp) fail('its range and the clamp before it do not meet (the output would be a constant)');
        // Clip without bounds is the identity.
        const y: Exact = { ...x, clamp: clamp!.min === undefined && clamp!.max === undefined ? undefined : clamp };
        const next = consumers.get(node.output) ?? [];
        state.set(node.output, next.length > 0 && next.every((c) => c.kind === 'quantize' || c.kind === 'maxPool' || c.kind === 'gather' || c.kind === 'relu' || c.kind === 'clip') && node.output !== graph.output.name ? y : settled(y));
        break;
      }
      case 'maxPool': {
        const x0 = get(node.inputs[0]);
        const windows = node.windows.map((w) => Array.from(w));
        // max commutes with an increasing map shared by the window (and with a pending ReLU).
        if (x0.kind === 'q' && windows.some((w) => w.some((i) => x0.zero[i] !== x0.zero[w[0]]))) fail('a pooling window mixes zero points');
        const x = x0.kind === 'e' && windows.some((w) => w.some((i) => !sameR(x0.f[i], x0.f[w[0]]) || !sameR(x0.o[i], x0.o[w[0]]))) ? commonScale(x0) : x0;
        const t = out();
        push({ kind: 'max', source: node.node, inputs: [x.tensor.name], output: t.name, windows });
        state.set(node.output, x.kind === 'q' ? { ...x, tensor: t, zero: windows.map((w) => x.zero[w[0]]) } : { ...x, tensor: t, f: windows.map((w) => x.f[w[0]]), o: windows.map((w) => x.o[w[0]]) });
        break;
      }
      case 'gather': {
        const xs = node.inputs.map(get);
        if (xs.some((x) => x.kind !== xs[0].kind)) fail('it mixes quantized and dequantized tensors');
        const n = node.index.length;
        const t = out();
        const src = Array.from(node.src);
        const index = Array.from(node.index);
        if (xs[0].kind === 'q') {
          const qs = xs as Quantized[];
          const constant = Array.from(node.constant, (c, j) => {
            if (src[j] >= 0) return 0n;
            if (!Number.isInteger(c)) fail(`its constant ${c} is not an integer (the tensor is quantized)`);
            return BigInt(c);
          });
          push({ kind: 'gather', source: node.node, inputs: qs.map((x) => x.tensor.name), output: t.name, src, index, constant });
          state.set(node.output, { kind: 'q', tensor: t, zero: index.map((i, j) => (src[j] < 0 ? 0 : qs[src[j]].zero[i])), type: qs[0].type });
        } else {
          // Re-indexing keeps a clamp all its inputs share (a Flatten between Relu and QuantizeLinear).
          const shared = (xs as Exact[]).every((x) => sameBounds(x.clamp, (xs[0] as Exact).clamp)) && src.every((v) => v >= 0);
          const es = shared ? (xs as Exact[]) : (xs as Exact[]).map(settled);
          push({ kind: 'gather', source: node.node, inputs: es.map((x) => x.tensor.name), output: t.name, src, index, constant: new Array(n).fill(0n) });
          const f = index.map((i, j) => (src[j] < 0 ? ONE : es[src[j]].f[i]));
          const o = index.map((i, j) => (src[j] < 0 ? rationalOf(node.constant[j]) : es[src[j]].o[i]));
          state.set(node.output, { kind: 'e', tensor: t, f, o, ...(shared && es[0].clamp ? { clamp: es[0].clamp } : {}) });
        }
        break;
      }
      case 'argmax': {
        if (node.output !== graph.output.name) fail('ArgMax is supported only as the model output');
        const x0 = get(node.inputs[0]);
        const x = x0.kind === 'e' ? settled(x0) : x0;
        const groups = node.groups.map((g) => Array.from(g));
        const mixed = x.kind === 'q' ? groups.some((g) => g.some((i) => x.zero[i] !== x.zero[g[0]])) : groups.some((g) => g.some((i) => !sameR(x.f[i], x.f[g[0]]) || !sameR(x.o[i], x.o[g[0]])));
        if (mixed) fail('its groups mix scales or zero points');
        const t = out();
        push({ kind: 'argmax', source: node.node, inputs: [x.tensor.name], output: t.name, groups, selectLast: node.selectLast });
        state.set(node.output, { kind: 'e', tensor: t, f: groups.map(() => ONE), o: groups.map(() => ZERO) });
        break;
      }
      case 'softmax': {
        // At the output, Softmax is public post-processing of the proved values (as for float models).
        const next = consumers.get(node.output) ?? [];
        if (node.output !== graph.output.name && !(next.length === 1 && next[0].kind === 'argmax')) fail('Softmax inside an int8 model is not supported (only at its output)');
        if (node.output === graph.output.name) postprocess = { kind: 'softmax', groups: node.groups.map((g) => Array.from(g)) };
        state.set(node.output, get(node.inputs[0]));
        break;
      }
      default:
        fail(`${node.kind} is not supported in an int8 model: between DequantizeLinear and QuantizeLinear zkml proves Conv, Gemm, MatMul, Add, averages, Relu, Clip, MaxPool and re-indexing (Reshape, Flatten, Transpose, Concat)`);
    }
  }

  let final = state.get(graph.output.name);
  if (!final) throw new UnsupportedModelError('output', graph.output.name, 'the output is not computed from the model input');
  if (final.kind === 'e' && final.clamp) {
    const x = final;
    const clamp = final.clamp;
    if (clamp.min?.n !== 0n || clamp.max !== undefined || x.o.some((o) => o.n !== 0n)) throw new UnsupportedModelError('Relu', graph.output.name, 'a ReLU of a tensor with an offset, or a Clip, at the output is not supported');
    const t: QTensor = { name: fresh('output_relu'), shape: x.tensor.shape, frac: 0 };
    push({ kind: 'clamp', source: graph.output.name, inputs: [x.tensor.name], output: t.name, lo: 0n, hi: null });
    final = { ...x, tensor: t, clamp: undefined };
  }
  let tensor = final.tensor;
  if (ops.some((op) => op.kind === 'input' && op.output === tensor.name)) {
    // The output is the input itself (a Q -> DQ round trip): an explicit copy keeps them distinct signals.
    const n = size(tensor.shape);
    tensor = { name: fresh('output_copy'), shape: graph.output.shape, frac: 0 };
    push({ kind: 'gather', source: 'output copy', inputs: [final.tensor.name], output: tensor.name, src: new Array(n).fill(0), index: Array.from({ length: n }, (_, j) => j), constant: new Array(n).fill(0n) });
  }
  const affine =
    final.kind === 'q'
      ? { scale: final.zero.map(() => 1), offset: [...final.zero], float32: false }
      : { scale: final.f.map(toDouble), offset: final.o.map(toDouble), float32: !final.f.every((f) => f.d === 1n) || !final.o.every((o) => o.d === 1n) };
  const output: QTensor = { ...tensor, shape: graph.output.shape, affine };
  return { ops, inputs, output, approximations: [], ...(postprocess ? { postprocess } : {}) };
}

/**
 * QuantizeLinear of an exact tensor: c = clamp(round_half_even(f A / sy + o / sy), qmin - zy, qmax - zy)
 * (a pending ReLU or Clip narrows that range: rounding is monotone). One shift for the op: each
 * element's (M, C) are scaled up to it, which changes no result.
 */
function requantize(x: Exact, node: QuantizeNode, t: QTensor, range: Interval[], push: (op: QOp) => void, fail: (reason: string) => never, terms?: (j: number) => AccumulatorTerms[]): Quantized {
  const z = node.zeroPoint[0];
  if (node.zeroPoint.some((v) => v !== z)) fail('per-channel zero points of a computed tensor are not supported (PyTorch and onnxruntime quantize activations per tensor)');
  const [qmin, qmax] = quantTypeRange[node.type];
  const sy = Array.from(node.scale, rationalOf);
  // A pending clamp of the real value to [a, b]: rounding is monotone, so it clamps the rounded
  // value to [rne(a / sy), rne(b / sy)], inside the type's range.
  const ends = (end: Rational | undefined, fallback: number, pick: (a: bigint, b: bigint) => bigint) => {
    const per = sy.map((s) => (end === undefined ? BigInt(fallback) : pick(BigInt(fallback), roundHalfEven(divR(end, s)))));
    if (per.some((v) => v !== per[0])) fail('a Clip before a per-channel QuantizeLinear is not supported');
    return per[0] ?? BigInt(fallback);
  };
  const lo = ends(x.clamp?.min, qmin - z, (a, b) => (a > b ? a : b));
  const hi = ends(x.clamp?.max, qmax - z, (a, b) => (a < b ? a : b));
  if (lo > hi) fail('its clamp and the type range do not meet (the output would be a constant)');
  const f = x.f.map((v, j) => divR(v, sy[j]));
  const o = x.o.map((v, j) => divR(v, sy[j]));
  const zero = new Array<number>(f.length).fill(z);
  // Same scale, no offset, nothing to saturate (MaxPool, Flatten between DQ and Q): the same integers.
  if (f.every((v) => v.n === 1n && v.d === 1n) && o.every((v) => v.n === 0n) && range.every((r) => r.lo >= lo && r.hi <= hi)) {
    return { kind: 'q', tensor: x.tensor, zero, type: node.type };
  }
  if (f.length === 0) fail('an empty tensor');
  const params = f.map((v, j) => requantParams(v, o[j], range[j], node.node, terms?.(j)));
  // The RoundShift elements share one shift and ties rule; an exact divisor has its own (ties to even).
  const shifted = params.filter((p) => !p.divisor);
  const even = shifted.some((p) => p.even);
  const shift = Math.max(0, ...shifted.map((p) => p.shift));
  const divided = params.some((p) => p.divisor);
  push({
    kind: 'requant',
    source: node.node,
    inputs: [x.tensor.name],
    output: t.name,
    multiplier: params.map((p) => (p.divisor ? p.multiplier : p.multiplier << BigInt(shift - p.shift))),
    offset: params.map((p) => (p.divisor ? p.offset : p.offset << BigInt(shift - p.shift))),
    shift,
    even,
    ...(divided ? { divisor: params.map((p) => p.divisor ?? 1n) } : {}),
    lo,
    hi,
  });
  return { kind: 'q', tensor: t, zero, type: node.type };
}

/** round(x) to the nearest integer (ties up: only the split between bias and offset depends on it). */
function nearest(x: Rational): bigint {
  const twice = 2n * x.n + x.d;
  const d = 2n * x.d;
  const q = twice / d;
  return twice % d !== 0n && twice < 0n ? q - 1n : q;
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);
}

import { broadcastIndex, broadcastShapes, elementwiseProduct, formatShape, reductionGroups, size, sumOfSquares, type SmoothFn } from '../../ir/graph.js';
import { exactFns } from '../../ir/float_eval.js';
import { LinearBuilder } from '../../ir/linear_builder.js';
import { axis, constInts, requireConstant, type LoweringContext } from './context.js';
import { emitMovement } from './movement.js';

/**
 * Reductions, normalisation and the smooth functions of transformers. Each lowers onto the float
 * IR: sums and means are linear (free), ReduceMax is a max node, and LayerNorm becomes
 * centre (linear) -> sum of squares (mul) -> variance + eps (linear) -> sqrt -> div -> affine.
 */

/** Axes of a Reduce* node (an input from opset 13 for ReduceSum, 18 for the others), normalised; undefined: all. */
function reduceAxes(ctx: LoweringContext, rank: number): number[] | undefined {
  const fromInput = ctx.op === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
  const axes = fromInput ? (ctx.has(1) ? constInts(ctx, 1, 'axes') : undefined) : ctx.attrs.ints('axes');
  if (axes === undefined || axes.length === 0) return undefined;
  return [...new Set(axes.map((a) => axis(ctx, a, rank)))].sort((a, b) => a - b);
}

export function lowerReduce(kind: 'sum' | 'mean' | 'max' | 'sumSquare') {
  return (ctx: LoweringContext): void => {
    const shape = ctx.shape(0);
    const given = reduceAxes(ctx, shape.length);
    if (!given && ctx.attrs.int('noop_with_empty_axes', 0) === 1) {
      emitMovement(ctx, [0], shape, new Int8Array(size(shape)), Int32Array.from({ length: size(shape) }, (_, i) => i));
      return;
    }
    const axes = given ?? shape.map((_, i) => i);
    const out = ctx.attrs.int('keepdims', 1) === 1 ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
    const groups = reductionGroups(shape, axes);
    const c = ctx.constant(0);
    if (c) ctx.fail('reducing a constant tensor: constant-fold the model before export');
    if (kind === 'max') {
      ctx.emit({ kind: 'maxPool', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output(), windows: groups }, out);
      return;
    }
    if (kind === 'sumSquare') {
      ctx.emit(sumOfSquares(ctx.name, ctx.tensor(0), ctx.output(), groups), out);
      return;
    }
    const b = new LinearBuilder();
    for (const g of groups) {
      for (const i of g) b.term(0, i, kind === 'mean' ? 1 / g.length : 1);
      b.endRow();
    }
    ctx.emit(b.build(ctx.name, [ctx.tensor(0)], ctx.output()), out);
  };
}

/**
 * LayerNormalization (opset 17): y = (x - mean) / sqrt(var + eps) * scale + B over the axes from
 * `axis` on. The same float nodes as PyTorch's opset-13 decomposition, so both prove alike.
 */
export function lowerLayerNormalization(ctx: LoweringContext): void {
  // The Mean and InvStdDev outputs (training) are not produced: a node reading them fails as
  // reading an unknown tensor; the graph output rarely does (unused outputs are not lowered).
  const shape = ctx.shape(0);
  const ax = axis(ctx, ctx.attrs.int('axis', -1), shape.length);
  const eps = ctx.attrs.float('epsilon', 1e-5);
  const normalized = shape.slice(ax);
  const scale = requireConstant(ctx, 1, 'the scale');
  const bias = ctx.has(2) ? requireConstant(ctx, 2, 'the bias B') : undefined;
  for (const [what, t] of [['scale', scale], ['B', bias]] as const) {
    if (t && broadcastShapes(t.dims, normalized)?.join() !== normalized.join()) ctx.fail(`${what} ${formatShape(t.dims)} does not broadcast to the normalized shape ${formatShape(normalized)}`);
  }
  const groups = reductionGroups(shape, normalized.map((_, i) => ax + i));
  const n = groups[0].length;
  const base = ctx.output();
  const x = ctx.tensor(0);
  const [centered, squares, variance, deviation, ratio] = ['centered', 'squares', 'variance', 'deviation', 'normalized'].map((s) => `${base}__${s}`);
  const groupOf = new Int32Array(size(shape));
  groups.forEach((g, k) => g.forEach((i) => (groupOf[i] = k)));
  const stats = shape.map((d, i) => (i < ax ? d : 1));

  const center = new LinearBuilder();
  for (let j = 0; j < size(shape); j++) {
    for (const i of groups[groupOf[j]]) center.term(0, i, (i === j ? 1 : 0) - 1 / n);
    center.endRow();
  }
  ctx.emit(center.build(ctx.name, [x], centered), shape);
  ctx.emit(sumOfSquares(ctx.name, centered, squares, groups), stats);
  const mean = new LinearBuilder();
  for (let g = 0; g < groups.length; g++) mean.term(0, g, 1 / n).endRow(eps);
  ctx.emit(mean.build(ctx.name, [squares], variance), stats);
  ctx.emit({ kind: 'sqrt', node: ctx.name, inputs: [variance], output: deviation }, stats);
  ctx.emit({ kind: 'div', node: ctx.name, inputs: [centered, deviation], output: ratio, left: Int32Array.from({ length: size(shape) }, (_, j) => j), right: groupOf }, shape);
  const gamma = broadcastIndex(scale.dims, normalized);
  const beta = bias && broadcastIndex(bias.dims, normalized);
  const affine = new LinearBuilder();
  for (let j = 0; j < size(shape); j++) {
    const k = j % n;
    affine.term(0, j, scale.data[gamma[k]]).endRow(bias ? bias.data[beta![k]] : 0);
  }
  ctx.emit(affine.build(ctx.name, [ratio], base), shape);
}

/** A unary function of a constant folds; of a computed tensor it is `make`'s node. */
function unaryOrFold(ctx: LoweringContext, f: (x: number) => number, make: () => void): void {
  const c = ctx.constant(0);
  if (c) ctx.defineConstant(ctx.output(), { dims: c.dims, data: c.data.map(f) });
  else make();
}

export function lowerSmooth(fn: SmoothFn) {
  return (ctx: LoweringContext): void =>
    unaryOrFold(ctx, exactFns[fn], () => ctx.emit({ kind: 'fn', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output(), fn }, ctx.shape(0)));
}

export function lowerSqrt(ctx: LoweringContext): void {
  unaryOrFold(ctx, Math.sqrt, () => ctx.emit({ kind: 'sqrt', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output() }, ctx.shape(0)));
}

/** Pow with a constant exponent of 1, 2 (a product with itself) or 0.5 (Sqrt); constants fold. */
export function lowerPow(ctx: LoweringContext): void {
  const e = requireConstant(ctx, 1, 'the exponent');
  if (e.data.length !== 1 && !ctx.constant(0)) ctx.fail('the exponent must be a single value');
  const base = ctx.constant(0);
  if (base) {
    const out = broadcastShapes(base.dims, e.dims);
    if (!out) ctx.fail(`shapes ${formatShape(base.dims)} and ${formatShape(e.dims)} do not broadcast`);
    const [ia, ib] = [broadcastIndex(base.dims, out), broadcastIndex(e.dims, out)];
    ctx.defineConstant(ctx.output(), { dims: out, data: Float64Array.from({ length: size(out) }, (_, j) => base.data[ia[j]] ** e.data[ib[j]]) });
    return;
  }
  const p = e.data[0];
  const shape = ctx.shape(0);
  const n = size(shape);
  const same = Int32Array.from({ length: n }, (_, i) => i);
  if (p === 1) emitMovement(ctx, [0], shape, new Int8Array(n), same);
  else if (p === 2) ctx.emit(elementwiseProduct(ctx.name, [ctx.tensor(0), ctx.tensor(0)], ctx.output(), same, same), shape);
  else if (p === 0.5) ctx.emit({ kind: 'sqrt', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output() }, shape);
  else ctx.fail(`exponent ${p} is not supported (1, 2 and 0.5 are)`);
}

/** HardSigmoid: max(0, min(1, alpha * x + beta)), an affine map and a clip. */
export function lowerHardSigmoid(ctx: LoweringContext): void {
  hardSigmoid(ctx, ctx.attrs.float('alpha', 0.2), ctx.attrs.float('beta', 0.5), ctx.output());
}

function hardSigmoid(ctx: LoweringContext, alpha: number, beta: number, output: string): void {
  const shape = ctx.shape(0);
  const b = new LinearBuilder();
  for (let j = 0; j < size(shape); j++) b.term(0, j, alpha).endRow(beta);
  const affine = `${output}__affine`;
  ctx.emit(b.build(ctx.name, [ctx.tensor(0)], affine), shape);
  ctx.emit({ kind: 'clip', node: ctx.name, inputs: [affine], output, min: 0, max: 1 }, shape);
}

/** HardSwish: x * HardSigmoid(x) with alpha 1/6, beta 1/2. */
export function lowerHardSwish(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const gate = `${ctx.output()}__gate`;
  hardSigmoid(ctx, 1 / 6, 0.5, gate);
  const n = size(shape);
  const same = Int32Array.from({ length: n }, (_, i) => i);
  ctx.emit(elementwiseProduct(ctx.name, [ctx.tensor(0), gate], ctx.output(), same, same), shape);
}

/** Where with a constant condition (a mask): each element is taken from X or Y, a re-indexing. */
export function lowerWhere(ctx: LoweringContext): void {
  const cond = ctx.constant(0);
  if (!cond) ctx.fail('the condition must be a constant (a mask); a condition computed from the input is not supported');
  const shapes = [cond.dims, ctx.shape(1), ctx.shape(2)];
  const out = shapes.reduce<number[] | undefined>((acc, s) => acc && broadcastShapes(acc, s), []);
  if (!out) ctx.fail(`shapes ${shapes.map(formatShape).join(', ')} do not broadcast`);
  const [ic, ix, iy] = shapes.map((s) => broadcastIndex(s, out));
  const n = size(out);
  const src = new Int8Array(n);
  const index = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const takeX = cond.data[ic[j]] !== 0;
    src[j] = takeX ? 0 : 1;
    index[j] = takeX ? ix[j] : iy[j];
  }
  emitMovement(ctx, [1, 2], out, src, index);
}

const comparisons: Record<string, (a: number, b: number) => boolean> = {
  Equal: (a, b) => a === b,
  Less: (a, b) => a < b,
  LessOrEqual: (a, b) => a <= b,
  Greater: (a, b) => a > b,
  GreaterOrEqual: (a, b) => a >= b,
  And: (a, b) => a !== 0 && b !== 0,
  Or: (a, b) => a !== 0 || b !== 0,
};

/** Comparisons and logic fold on constants (masks, shape tests); on computed tensors they are refused. */
export function lowerComparison(ctx: LoweringContext): void {
  const f = comparisons[ctx.op];
  const [a, b] = [ctx.constant(0), ctx.constant(1)];
  if (!a || !b) ctx.fail('comparisons are supported between constants only (masks); this one reads a tensor computed from the input');
  const out = broadcastShapes(a.dims, b.dims);
  if (!out) ctx.fail(`shapes ${formatShape(a.dims)} and ${formatShape(b.dims)} do not broadcast`);
  const [ia, ib] = [broadcastIndex(a.dims, out), broadcastIndex(b.dims, out)];
  ctx.defineConstant(ctx.output(), { dims: out, data: Float64Array.from({ length: size(out) }, (_, j) => Number(f(a.data[ia[j]], b.data[ib[j]]))), integer: true });
}

export function lowerNot(ctx: LoweringContext): void {
  const c = ctx.constant(0);
  if (!c) ctx.fail('Not is supported on constants only (masks)');
  ctx.defineConstant(ctx.output(), { dims: c.dims, data: c.data.map((v) => Number(v === 0)), integer: true });
}

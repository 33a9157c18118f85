import { broadcastIndex, broadcastShapes, formatShape, reductionGroups, size } from '../../ir/graph.js';
import { axis, requireConstant, type LoweringContext } from './context.js';
import { windowGeometry, windowTaps } from './windows.js';

/** Non-linear ops: these are what the circuit pays for. */

function unary(ctx: LoweringContext, kind: 'relu' | 'sigmoid' | 'tanh'): void {
  ctx.emit({ kind, node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output() }, ctx.shape(0));
}

export const lowerRelu = (ctx: LoweringContext) => unary(ctx, 'relu');
export const lowerSigmoid = (ctx: LoweringContext) => unary(ctx, 'sigmoid');
export const lowerTanh = (ctx: LoweringContext) => unary(ctx, 'tanh');

export function lowerLeakyRelu(ctx: LoweringContext): void {
  const alpha = ctx.attrs.float('alpha', 0.01);
  const shape = ctx.shape(0);
  ctx.emit({ kind: 'leakyRelu', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output(), alpha: new Float64Array(size(shape)).fill(alpha) }, shape);
}

export function lowerPRelu(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const slope = requireConstant(ctx, 1, 'the slope');
  // PyTorch exports a per-channel slope as [C] or [C, 1, 1]: align it with axis 1 when it does not broadcast as is.
  let dims = slope.dims;
  if (!broadcastShapes(dims, shape) || (dims.length === 1 && shape.length > 2 && dims[0] === shape[1] && dims[0] !== shape[shape.length - 1])) {
    dims = [dims[0] ?? 1, ...new Array(Math.max(0, shape.length - 2)).fill(1)];
  }
  const out = broadcastShapes(dims, shape);
  if (!out || out.join() !== shape.join()) ctx.fail(`slope ${formatShape(slope.dims)} does not broadcast to the input ${formatShape(shape)}`);
  const idx = broadcastIndex(dims, shape);
  ctx.emit({ kind: 'leakyRelu', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output(), alpha: Float64Array.from(idx, (i) => slope.data[i]) }, shape);
}

export function lowerClip(ctx: LoweringContext): void {
  const bound = (i: number, attr: string, fallback: number) => {
    if (ctx.opset < 11) return ctx.attrs.float(attr, fallback);
    return ctx.has(i) ? requireConstant(ctx, i, attr).data[0] : fallback;
  };
  const min = bound(1, 'min', -Infinity);
  const max = bound(2, 'max', Infinity);
  if (min > max) ctx.fail(`min ${min} is greater than max ${max}`);
  ctx.emit({ kind: 'clip', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output(), min, max }, ctx.shape(0));
}

export function lowerMaxPool(ctx: LoweringContext): void {
  if ((ctx.node.output ?? []).length > 1 && ctx.node.output![1] !== '') ctx.fail('the Indices output is not supported');
  if (ctx.attrs.int('storage_order', 0) !== 0) ctx.fail('storage_order 1 is not supported');
  const x = ctx.shape(0);
  const kernel = ctx.attrs.ints('kernel_shape');
  if (!kernel) ctx.fail('kernel_shape is required');
  const spatial = x.slice(2);
  const g = windowGeometry(ctx, spatial, kernel, ctx.attrs.int('ceil_mode', 0) === 1);
  const taps = windowTaps(spatial, g);
  const inPlane = size(spatial);
  const windows: Int32Array[] = [];
  for (let plane = 0; plane < x[0] * x[1]; plane++) {
    for (const window of taps) windows.push(Int32Array.from(window.filter((t) => t.offset >= 0), (t) => plane * inPlane + t.offset));
  }
  const split = separablePasses(x[0] * x[1], spatial, g);
  if (split && comparisons(split.rows) + comparisons(split.columns) < comparisons(windows)) {
    // Overlapping 2-D windows: the maximum over each window row is shared by every window that
    // covers it, so max over rows, then over columns, compares fewer pairs (3x3 stride 2: 6 per
    // window instead of 8). Exact: each window is a product of a row range and a column range.
    const rows = `${ctx.output()}__row_max`;
    ctx.emit({ kind: 'maxPool', node: ctx.name, inputs: [ctx.tensor(0)], output: rows, windows: split.rows }, [x[0], x[1], split.usedRows, g.out[1]]);
    ctx.emit({ kind: 'maxPool', node: ctx.name, inputs: [rows], output: ctx.output(), windows: split.columns }, [x[0], x[1], ...g.out]);
    return;
  }
  ctx.emit({ kind: 'maxPool', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output(), windows }, [x[0], x[1], ...g.out]);
}

const comparisons = (windows: Int32Array[]) => windows.reduce((n, w) => n + w.length - 1, 0);

/**
 * 2-D max pooling as two 1-D passes: along each input row over every window's columns (an
 * [H, W_out] plane), then along each column of that over every window's rows. Undefined when a
 * window has no column or no row inside the input, or the pooling is not 2-D.
 */
function separablePasses(planes: number, spatial: readonly number[], g: ReturnType<typeof windowGeometry>): { rows: Int32Array[]; columns: Int32Array[]; usedRows: number } | undefined {
  if (spatial.length !== 2) return undefined;
  const [h, w] = spatial;
  const inside = (axis: number, o: number, n: number) =>
    Array.from({ length: g.kernel[axis] }, (_, k) => o * g.stride[axis] - g.padBegin[axis] + k * g.dilation[axis]).filter((v) => v >= 0 && v < n);
  const cols = Array.from({ length: g.out[1] }, (_, ox) => inside(1, ox, w));
  const rowsOf = Array.from({ length: g.out[0] }, (_, oy) => inside(0, oy, h));
  if (cols.some((c) => c.length === 0) || rowsOf.some((r) => r.length === 0)) return undefined;
  // Only the input rows some window reads get a row pass; `at` is a row's place among them.
  const used = [...new Set(rowsOf.flat())].sort((a, b) => a - b);
  const at = new Map(used.map((r, i) => [r, i]));
  const rows: Int32Array[] = [];
  const columns: Int32Array[] = [];
  for (let p = 0; p < planes; p++) {
    for (const r of used) for (const c of cols) rows.push(Int32Array.from(c, (v) => (p * h + r) * w + v));
    for (const rs of rowsOf) for (let ox = 0; ox < g.out[1]; ox++) columns.push(Int32Array.from(rs, (r) => (p * used.length + at.get(r)!) * g.out[1] + ox));
  }
  return { rows, columns, usedRows: used.length };
}

export function lowerSoftmax(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  let groups: Int32Array[];
  if (ctx.opset < 13) {
    // Before opset 13 Softmax flattened the input to 2-D at `axis` (default 1).
    const ax = axis(ctx, ctx.attrs.int('axis', 1), shape.length);
    const inner = size(shape.slice(ax));
    groups = Array.from({ length: size(shape.slice(0, ax)) }, (_, g) => Int32Array.from({ length: inner }, (_, k) => g * inner + k));
  } else {
    groups = reductionGroups(shape, [axis(ctx, ctx.attrs.int('axis', -1), shape.length)]);
  }
  ctx.emit({ kind: 'softmax', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output(), groups }, shape);
}

export function lowerArgMax(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const ax = axis(ctx, ctx.attrs.int('axis', 0), shape.length);
  const keep = ctx.attrs.int('keepdims', 1) === 1;
  const out = keep ? shape.map((d, i) => (i === ax ? 1 : d)) : shape.filter((_, i) => i !== ax);
  ctx.emit({ kind: 'argmax', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output(), groups: reductionGroups(shape, [ax]), selectLast: ctx.attrs.int('select_last_index', 0) === 1 }, out);
}

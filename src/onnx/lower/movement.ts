import { broadcastIndex, broadcastShapes, size, strides, unflatten, type QuantType, type Shape } from '../../ir/graph.js';
import { axis, constInts, requireConstant, sameSize, type LoweringContext } from './context.js';

/**
 * Pure data movement. Each op computes, for every output element, which input element (or which
 * constant) it is. With only constant inputs the result is folded to a constant (this is how the
 * Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains of `x.view(x.size(0), -1)` disappear);
 * otherwise it becomes a gather node, which costs no constraint.
 */
export function emitMovement(ctx: LoweringContext, inputs: number[], shape: Shape, src: Int8Array, index: Int32Array, constant?: Float64Array, output = ctx.output()): void {
  const consts = new Float64Array(src.length);
  if (constant) consts.set(constant);
  const computed: number[] = [];
  const remap = new Map<number, number>();
  let integer = constant === undefined || Array.prototype.every.call(constant, Number.isInteger);
  const outSrc = new Int8Array(src.length);
  for (let j = 0; j < src.length; j++) {
    if (src[j] < 0) {
      outSrc[j] = -1;
      continue;
    }
    const input = inputs[src[j]];
    const c = ctx.constant(input);
    if (c) {
      integer &&= c.integer === true;
      consts[j] = c.data[index[j]];
      outSrc[j] = -1;
      continue;
    }
    if (!remap.has(input)) {
      remap.set(input, computed.length);
      computed.push(input);
    }
    outSrc[j] = remap.get(input)!;
  }
  if (computed.length === 0) {
    ctx.defineConstant(output, { dims: [...shape], data: consts, ...(integer ? { integer } : {}) });
    return;
  }
  ctx.emit({ kind: 'gather', node: ctx.name, inputs: computed.map((i) => ctx.tensor(i)), output, src: outSrc, index: index.slice(), constant: consts }, shape);
}

function identityMove(ctx: LoweringContext, shape: Shape): void {
  const n = size(shape);
  emitMovement(ctx, [0], shape, new Int8Array(n), Int32Array.from({ length: n }, (_, i) => i));
}

export function lowerReshape(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const target = constInts(ctx, 1, 'the target shape');
  const allowZero = ctx.attrs.int('allowzero', 0);
  const dims = target.map((d, i) => (d === 0 && !allowZero ? shape[i] : d));
  const inferred = dims.indexOf(-1);
  if (inferred >= 0) dims[inferred] = size(shape) / size(dims.filter((d) => d !== -1));
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) ctx.fail(`cannot infer a shape from [${target}] for ${size(shape)} elements`);
  sameSize(ctx, shape, dims);
  identityMove(ctx, dims);
}

export function lowerFlatten(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const a = ctx.attrs.int('axis', 1);
  const ax = a < 0 ? a + shape.length : a;
  identityMove(ctx, [size(shape.slice(0, ax)), size(shape.slice(ax))]);
}

function axesOf(ctx: LoweringContext): number[] | undefined {
  if (ctx.has(1)) return constInts(ctx, 1, 'axes');
  return ctx.attrs.ints('axes');
}

export function lowerSqueeze(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const axes = axesOf(ctx)?.map((a) => axis(ctx, a, shape.length));
  if (axes?.some((a) => shape[a] !== 1)) ctx.fail(`cannot squeeze axes [${axes}] of shape [${shape}]: not of size 1`);
  identityMove(ctx, shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)));
}

export function lowerUnsqueeze(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const axes = axesOf(ctx);
  if (!axes) ctx.fail('axes are required');
  const rank = shape.length + axes.length;
  const normalized = axes.map((a) => axis(ctx, a, rank));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(normalized.includes(i) ? 1 : shape[k++]);
  identityMove(ctx, out);
}

export function lowerTranspose(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const perm = ctx.attrs.ints('perm') ?? shape.map((_, i) => shape.length - 1 - i);
  if (perm.length !== shape.length || [...perm].sort().some((p, i) => p !== i)) ctx.fail(`perm [${perm}] is not a permutation of the ${shape.length} axes`);
  const out = perm.map((p) => shape[p]);
  const inStrides = strides(shape);
  const n = size(shape);
  const index = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const idx = unflatten(j, out);
    index[j] = idx.reduce((acc, v, d) => acc + v * inStrides[perm[d]], 0);
  }
  emitMovement(ctx, [0], out, new Int8Array(n), index);
}

export function lowerConcat(ctx: LoweringContext): void {
  const count = (ctx.node.input ?? []).length;
  const shapes = Array.from({ length: count }, (_, i) => ctx.shape(i));
  const ax = axis(ctx, ctx.attrs.int('axis', 0), shapes[0].length);
  for (const s of shapes) {
    if (s.length !== shapes[0].length || s.some((d, i) => i !== ax && d !== shapes[0][i])) ctx.fail(`inputs [${shapes.map((x) => `[${x}]`).join(', ')}] differ outside axis ${ax}`);
  }
  const out = [...shapes[0]];
  out[ax] = shapes.reduce((a, s) => a + s[ax], 0);
  const n = size(out);
  const src = new Int8Array(n);
  const index = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const idx = unflatten(j, out);
    let k = 0;
    let pos = idx[ax];
    while (pos >= shapes[k][ax]) pos -= shapes[k++][ax];
    idx[ax] = pos;
    src[j] = k;
    index[j] = idx.reduce((acc, v, d) => acc + v * strides(shapes[k])[d], 0);
  }
  emitMovement(ctx, shapes.map((_, i) => i), out, src, index);
}

export function lowerPad(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const mode = ctx.attrs.string('mode', 'constant');
  if (mode !== 'constant') ctx.fail(`mode "${mode}" is not supported (only "constant")`);
  const pads = ctx.has(1) ? constInts(ctx, 1, 'pads') : ctx.attrs.ints('pads') ?? ctx.attrs.ints('paddings');
  if (!pads || pads.length !== 2 * shape.length) ctx.fail(`pads must list a begin and end for each of the ${shape.length} axes`);
  if (ctx.has(3)) ctx.fail('the axes input is not supported');
  const value = ctx.has(2) ? requireConstant(ctx, 2, 'constant_value').data[0] ?? 0 : ctx.attrs.float('value', 0);
  const rank = shape.length;
  const out = shape.map((d, i) => d + pads[i] + pads[i + rank]);
  if (out.some((d) => d < 0)) ctx.fail('negative pads remove more than the axis holds');
  const n = size(out);
  const inStrides = strides(shape);
  const src = new Int8Array(n);
  const index = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const idx = unflatten(j, out).map((v, d) => v - pads[d]);
    if (idx.some((v, d) => v < 0 || v >= shape[d])) src[j] = -1;
    else index[j] = idx.reduce((acc, v, d) => acc + v * inStrides[d], 0);
  }
  emitMovement(ctx, [0], out, src, index, new Float64Array(n).fill(value));
}

export function lowerGather(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  if (!ctx.constant(1)) {
    lowerLookup(ctx);
    return;
  }
  const indices = requireConstant(ctx, 1, 'indices');
  const ax = axis(ctx, ctx.attrs.int('axis', 0), shape.length);
  const out = [...shape.slice(0, ax), ...indices.dims, ...shape.slice(ax + 1)];
  const n = size(out);
  const inStrides = strides(shape);
  const index = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const idx = unflatten(j, out);
    const q = idx.slice(ax, ax + indices.dims.length);
    let k = indices.data[q.reduce((acc, v, d) => acc + v * strides(indices.dims)[d], 0)];
    if (k < 0) k += shape[ax];
    if (k < 0 || k >= shape[ax]) ctx.fail(`index ${k} is out of range for axis ${ax} of size ${shape[ax]}`);
    const full = [...idx.slice(0, ax), k, ...idx.slice(ax + indices.dims.length)];
    index[j] = full.reduce((acc, v, d) => acc + v * inStrides[d], 0);
  }
  emitMovement(ctx, [0], out, new Int8Array(n), index);
}

/** Expand: NumPy broadcasting of the input to a constant shape (the result may be larger than both). */
export function lowerExpand(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const target = constInts(ctx, 1, 'the shape');
  const out = broadcastShapes(shape, target);
  if (!out) ctx.fail(`[${shape}] does not broadcast to [${target}]`);
  emitMovement(ctx, [0], out, new Int8Array(size(out)), broadcastIndex(shape, out));
}

/** Split along an axis into the node's outputs: sizes from the input (opset 13+), the attribute, or equal parts. */
export function lowerSplit(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const ax = axis(ctx, ctx.attrs.int('axis', 0), shape.length);
  const outputs = (ctx.node.output ?? []).length;
  const given = ctx.opset >= 13 ? (ctx.has(1) ? constInts(ctx, 1, 'split') : undefined) : ctx.attrs.ints('split');
  const parts = ctx.attrs.int('num_outputs', outputs);
  const even = Math.ceil(shape[ax] / parts);
  const sizes = given ?? Array.from({ length: parts }, (_, k) => Math.max(0, Math.min(even, shape[ax] - k * even)));
  if (sizes.length !== outputs) ctx.fail(`${sizes.length} split sizes for ${outputs} outputs`);
  if (sizes.reduce((a, b) => a + b, 0) !== shape[ax]) ctx.fail(`split sizes [${sizes}] do not add up to axis ${ax}'s ${shape[ax]}`);
  const inStrides = strides(shape);
  let begin = 0;
  sizes.forEach((len, k) => {
    const out = shape.map((d, i) => (i === ax ? len : d));
    if (len === 0) ctx.fail(`output ${k} would be empty: empty tensors are not supported`);
    const n = size(out);
    const index = Int32Array.from({ length: n }, (_, j) => unflatten(j, out).reduce((acc, v, d) => acc + (d === ax ? v + begin : v) * inStrides[d], 0));
    emitMovement(ctx, [0], out, new Int8Array(n), index, undefined, ctx.output(k));
    begin += len;
  });
}

export function lowerConstantOfShape(ctx: LoweringContext): void {
  const dims = constInts(ctx, 0, 'the shape');
  const value = ctx.attrs.constantValue(ctx.name) ?? { dims: [1], data: Float64Array.of(0) };
  ctx.defineConstant(ctx.output(), { dims, data: new Float64Array(size(dims)).fill(value.data[0] ?? 0), ...(value.integer ? { integer: true } : {}) });
}

export function lowerRange(ctx: LoweringContext): void {
  const [start, limit, delta] = [0, 1, 2].map((i) => requireConstant(ctx, i, ['start', 'limit', 'delta'][i]));
  const [s, l, d] = [start.data[0], limit.data[0], delta.data[0]];
  if (d === 0) ctx.fail('a delta of 0');
  const n = Math.max(0, Math.ceil((l - s) / d));
  ctx.defineConstant(ctx.output(), { dims: [n], data: Float64Array.from({ length: n }, (_, i) => s + i * d), ...(start.integer ? { integer: true } : {}) });
}

export function lowerSlice(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const rank = shape.length;
  const starts = ctx.opset >= 10 ? constInts(ctx, 1, 'starts') : ctx.attrs.ints('starts')!;
  const ends = ctx.opset >= 10 ? constInts(ctx, 2, 'ends') : ctx.attrs.ints('ends')!;
  const axes = (ctx.opset >= 10 ? (ctx.has(3) ? constInts(ctx, 3, 'axes') : undefined) : ctx.attrs.ints('axes')) ?? starts.map((_, i) => i);
  const steps = ctx.opset >= 10 && ctx.has(4) ? constInts(ctx, 4, 'steps') : starts.map(() => 1);
  const begin = shape.map(() => 0);
  const step = shape.map(() => 1);
  const out = [...shape];
  axes.forEach((a0, k) => {
    const a = axis(ctx, a0, rank);
    const d = shape[a];
    const s = steps[k];
    if (s === 0) ctx.fail('a step of 0');
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let st = starts[k] < 0 ? starts[k] + d : starts[k];
    let en = ends[k] < 0 ? ends[k] + d : ends[k];
    st = s > 0 ? clamp(st, 0, d) : clamp(st, 0, d - 1);
    en = s > 0 ? clamp(en, 0, d) : clamp(en, -1, d - 1);
    begin[a] = st;
    step[a] = s;
    out[a] = Math.max(0, Math.ceil((en - st) / s));
  });
  const n = size(out);
  const inStrides = strides(shape);
  const index = new Int32Array(n);
  for (let j = 0; j < n; j++) index[j] = unflatten(j, out).reduce((acc, v, d) => acc + (begin[d] + v * step[d]) * inStrides[d], 0);
  emitMovement(ctx, [0], out, new Int8Array(n), index);
}

export function lowerShape(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const rank = shape.length;
  const norm = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const dims = shape.slice(norm(ctx.attrs.int('start', 0)), norm(ctx.attrs.int('end', rank)));
  ctx.defineConstant(ctx.output(), { dims: [dims.length], data: Float64Array.from(dims), integer: true });
}

/** ONNX element types UINT8 (2) and INT8 (3). */
const CAST_QUANT_TYPES: Record<number, QuantType | undefined> = { 2: 'uint8', 3: 'int8' };

export function lowerCast(ctx: LoweringContext): void {
  const c = ctx.constant(0);
  if (c) {
    // Shape arithmetic is integral; a cast to an integer type truncates.
    const to = ctx.attrs.int('to', 1);
    const integral = [2, 3, 4, 5, 6, 7, 12, 13].includes(to);
    const quantType = CAST_QUANT_TYPES[to];
    ctx.defineConstant(ctx.output(), integral ? { dims: c.dims, data: c.data.map(Math.trunc), integer: true, ...(quantType ? { quantType } : {}) } : { dims: c.dims, data: c.data });
    return;
  }
  const to = ctx.attrs.int('to', 1);
  // FLOAT, FLOAT16, DOUBLE, BFLOAT16: the values stay real numbers (fixed-point in the circuit).
  if ([1, 10, 11, 16].includes(to)) ctx.alias(ctx.output(), ctx.tensor(0));
  // PyTorch's QDQ export casts every QuantizeLinear output to its own type: a no-op.
  else if (CAST_QUANT_TYPES[to] && ctx.quantType(0) === CAST_QUANT_TYPES[to]) ctx.alias(ctx.output(), ctx.tensor(0));
  else ctx.fail('casting a computed tensor to an integer or boolean type is not supported (values are fixed-point numbers), except a quantized tensor to its own type');
}

export function lowerIdentity(ctx: LoweringContext): void {
  const c = ctx.constant(0);
  if (c) ctx.defineConstant(ctx.output(), c);
  else ctx.alias(ctx.output(), ctx.tensor(0));
}

export function lowerDropout(ctx: LoweringContext): void {
  if (ctx.has(2)) {
    const training = ctx.constant(2);
    if (!training || training.data[0] !== 0) ctx.fail('training mode is not supported: export the model in eval mode');
  }
  if ((ctx.node.output ?? []).length > 1 && ctx.node.output![1] !== '') ctx.fail('the mask output is not supported');
  lowerIdentity(ctx);
}

export function lowerConstant(ctx: LoweringContext): void {
  const value = ctx.attrs.constantValue(ctx.name);
  if (!value) ctx.fail('Constant without a value attribute');
  ctx.defineConstant(ctx.output(), value);
}

/**
 * Gather of a constant table by computed indices: an embedding lookup. The indices must be an
 * integer model input (token ids, possibly reshaped), since an index computed from fixed-point
 * values has no exact integer meaning; the circuit proves each lookup by a one-hot selector.
 */
function lowerLookup(ctx: LoweringContext): void {
  const data = ctx.constant(0);
  if (!data) ctx.fail('Gather of a computed tensor by computed indices is not supported (an embedding table must be a constant)');
  if (!ctx.isInteger(1)) ctx.fail('computed indices must be an integer model input (token ids), not values computed from the input');
  const ax = axis(ctx, ctx.attrs.int('axis', 0), data.dims.length);
  const ids = ctx.shape(1);
  const [outer, rows, inner] = [size(data.dims.slice(0, ax)), data.dims[ax], size(data.dims.slice(ax + 1))];
  const out = [...data.dims.slice(0, ax), ...ids, ...data.dims.slice(ax + 1)];
  if (ax === 0) {
    ctx.emit({ kind: 'lookup', node: ctx.name, inputs: [ctx.tensor(1)], output: ctx.output(), table: data.data, rows, cols: inner }, out);
    return;
  }
  // Along another axis: look up rows of the table with that axis first ([rows, outer * inner]),
  // then move each id's row to its place in the output (free).
  const table = new Float64Array(data.data.length);
  for (let o = 0; o < outer; o++) for (let k = 0; k < rows; k++) for (let i = 0; i < inner; i++) table[k * outer * inner + o * inner + i] = data.data[(o * rows + k) * inner + i];
  const rowsOut = `${ctx.output()}__rows`;
  const n = size(ids);
  ctx.emit({ kind: 'lookup', node: ctx.name, inputs: [ctx.tensor(1)], output: rowsOut, table, rows, cols: outer * inner }, [n, outer * inner]);
  const index = new Int32Array(outer * n * inner);
  for (let o = 0; o < outer; o++) for (let t = 0; t < n; t++) for (let i = 0; i < inner; i++) index[(o * n + t) * inner + i] = t * outer * inner + o * inner + i;
  ctx.emit({ kind: 'gather', node: ctx.name, inputs: [rowsOut], output: ctx.output(), src: new Int8Array(index.length), index, constant: new Float64Array(index.length) }, out);
}

import { quantTypeRange, size, strides, type QuantType, type Shape } from '../../ir/graph.js';
import { quantizeValue } from '../../ir/float_eval.js';
import type { ConstTensor } from '../tensor.js';
import { axis as normalizeAxis, requireConstant, type Lowering, type LoweringContext } from './context.js';
import { lowerArithmetic, lowerAveragePool, lowerConv, lowerGemm, lowerGlobalAveragePool, lowerMatMul } from './affine.js';

/**
 * An int8 model's own quantization (QDQ and QOperator formats). QuantizeLinear and
 * DequantizeLinear of computed tensors become `quantize` and `dequantize` nodes (src/quant/qdq.ts
 * proves them exactly); of constants they fold (dequantized weights are exact in float64). The
 * QOperator ops expand to the QDQ pattern they stand for:
 *   QLinearConv(x, w, B) = Q(rowScale * (Conv(x - x_zp, w - w_zp) + B)), rowScale = x_scale * w_scale,
 * and ConvInteger / MatMulInteger are the same integer accumulation without the Q.
 */

/** Scales and zero points are per tensor (one value) or per slice along `axis` (a 1-D tensor). */
function perElement(ctx: LoweringContext, param: ConstTensor, shape: Shape, axisAttr: number, what: string): Float64Array {
  const n = size(shape);
  if (size(param.dims) === 1) return new Float64Array(n).fill(param.data[0]);
  if (param.dims.length !== 1) ctx.fail(`${what} must be a scalar or a 1-D tensor, got shape [${param.dims}]`);
  if (ctx.opset < 13) ctx.fail(`${what} has ${param.data.length} values: per-axis quantization needs opset 13 or later`);
  const a = normalizeAxis(ctx, axisAttr, shape.length);
  if (param.dims[0] !== shape[a]) ctx.fail(`${what} has ${param.dims[0]} values for axis ${a} of size ${shape[a]}`);
  return alongAxis(param.data, shape, a);
}

/** One value per slice along axis `a`, repeated to every element of `shape`. */
function alongAxis(values: ArrayLike<number>, shape: Shape, a: number): Float64Array {
  const stride = strides(shape)[a];
  return Float64Array.from({ length: size(shape) }, (_, j) => values[Math.floor(j / stride) % shape[a]]);
}

/** Scales must be positive float32 values (every float32 is an exact dyadic rational). */
function checkScales(ctx: LoweringContext, data: ArrayLike<number>, what: string): void {
  for (const v of Array.from(data)) {
    if (!(v > 0) || !Number.isFinite(v)) ctx.fail(`${what} must be positive and finite, got ${v}`);
    if (Math.fround(v) !== v) ctx.fail(`${what} ${v} is not a float32 value`);
  }
}

/** Zero points must be integers of the quantized type. */
function checkZeroPoints(ctx: LoweringContext, data: ArrayLike<number>, type: QuantType, what: string): void {
  const [lo, hi] = quantTypeRange[type];
  for (const v of Array.from(data)) if (!Number.isInteger(v) || v < lo || v > hi) ctx.fail(`${what} ${v} is outside the ${type} range [${lo}, ${hi}]`);
}

function checkNoBlocks(ctx: LoweringContext): void {
  if (ctx.attrs.int('block_size', 0) !== 0) ctx.fail('blocked quantization (block_size) is not supported: use per-tensor or per-axis scales');
}

function scales(ctx: LoweringContext, i: number, shape: Shape, what: string): Float64Array {
  const s = requireConstant(ctx, i, what);
  const data = perElement(ctx, s, shape, ctx.attrs.int('axis', 1), what);
  checkScales(ctx, data, what);
  return data;
}

/** The zero point (default 0 of uint8) and the quantized type it sets. */
function zeroPoints(ctx: LoweringContext, i: number, shape: Shape, what: string, type?: QuantType): { zeroPoint: Int32Array; type: QuantType } {
  if (!ctx.has(i)) return { zeroPoint: new Int32Array(size(shape)), type: type ?? 'uint8' };
  const z = requireConstant(ctx, i, what);
  const t = z.quantType ?? (z.integer ? type : undefined);
  if (!t) ctx.fail(`${what} must be uint8 or int8 (the quantized type); other types (int16, int4, float8) are not supported`);
  const data = perElement(ctx, z, shape, ctx.attrs.int('axis', 1), what);
  checkZeroPoints(ctx, data, t!, what);
  return { zeroPoint: Int32Array.from(data), type: t! };
}

/** ONNX element types QuantizeLinear's `output_dtype` (opset 21) may name here. */
const OUTPUT_DTYPES: Record<number, QuantType> = { 2: 'uint8', 3: 'int8' };

export function lowerQuantizeLinear(ctx: LoweringContext): void {
  checkNoBlocks(ctx);
  const shape = ctx.shape(0);
  const scale = scales(ctx, 1, shape, 'y_scale');
  const dtype = ctx.attrs.int('output_dtype', 0);
  if (dtype !== 0 && !OUTPUT_DTYPES[dtype]) ctx.fail(`output_dtype ${dtype} is not supported: uint8 (2) and int8 (3) are`);
  const { zeroPoint, type } = zeroPoints(ctx, 2, shape, 'y_zero_point', OUTPUT_DTYPES[dtype]);
  if (dtype !== 0 && type !== OUTPUT_DTYPES[dtype]) ctx.fail(`output_dtype says ${OUTPUT_DTYPES[dtype]} but the zero point is ${type}`);
  const c = ctx.constant(0);
  if (c) {
    const data = Float64Array.from(c.data, (v, j) => quantizeValue(v, scale[j], zeroPoint[j], type));
    ctx.defineConstant(ctx.output(), { dims: c.dims, data, integer: true, quantType: type });
    return;
  }
  ctx.emit({ kind: 'quantize', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output(), scale, zeroPoint, type }, shape);
}

/** (k - z) * s in float64, refused where it would not be exact (a float32 scale has 24 significant bits). */
function dequantizeConstant(ctx: LoweringContext, c: ConstTensor, scale: ArrayLike<number>, zeroPoint: ArrayLike<number>, what: string): ConstTensor {
  const data = Float64Array.from(c.data, (v, j) => {
    const k = v - zeroPoint[j];
    if (!Number.isInteger(k) || Math.abs(k) >= 2 ** 29) ctx.fail(`${what} value ${v} (zero point ${zeroPoint[j]}) is not an integer below 2^29: its dequantized value would not be exact`);
    return k * scale[j];
  });
  return { dims: c.dims, data };
}

/** An int32 input's (a bias's) zero point: integers; the dequantized values' exactness is checked on them. */
function int32ZeroPoints(ctx: LoweringContext, shape: Shape): { zeroPoint: Int32Array } {
  const z = requireConstant(ctx, 2, 'x_zero_point');
  if (!z.integer) ctx.fail('x_zero_point must be an integer tensor (uint8, int8 or int32)');
  const data = perElement(ctx, z, shape, ctx.attrs.int('axis', 1), 'x_zero_point');
  for (const v of data) if (!Number.isInteger(v) || Math.abs(v) >= 2 ** 31) ctx.fail(`x_zero_point ${v} is not an int32`);
  return { zeroPoint: Int32Array.from(data) };
}

export function lowerDequantizeLinear(ctx: LoweringContext): void {
  checkNoBlocks(ctx);
  const shape = ctx.shape(0);
  const scale = scales(ctx, 1, shape, 'x_scale');
  const c = ctx.constant(0);
  const { zeroPoint } = ctx.has(2) && !requireConstant(ctx, 2, 'x_zero_point').quantType ? int32ZeroPoints(ctx, shape) : zeroPoints(ctx, 2, shape, 'x_zero_point', c?.quantType ?? ctx.quantType(0) ?? 'uint8');
  if (c) {
    ctx.defineConstant(ctx.output(), dequantizeConstant(ctx, c, scale, zeroPoint, 'x'));
    return;
  }
  ctx.emit({ kind: 'dequantize', node: ctx.name, inputs: [ctx.tensor(0)], output: ctx.output(), scale, zeroPoint }, shape);
}

type Operand = { tensor: string; shape: Shape } | ConstTensor | undefined;

/**
 * The context of an existing lowering (Conv, MatMul) run on other operands: the QOperator ops
 * reuse them on the centred input and the zero-point-corrected weights, writing `output`.
 */
function withOperands(ctx: LoweringContext, operands: Operand[], output: string, rowScale?: (shape: Shape) => Float64Array): LoweringContext {
  const get = (i: number) => {
    const o = operands[i];
    if (!o) ctx.fail(`input ${i} is missing`);
    return o!;
  };
  return {
    ...ctx,
    has: (i) => operands[i] !== undefined,
    constant: (i) => {
      const o = operands[i];
      return o && 'data' in o ? o : undefined;
    },
    shape: (i) => {
      const o = get(i);
      return 'data' in o ? o.dims : o.shape;
    },
    tensor: (i) => {
      const o = get(i);
      if ('data' in o) ctx.fail(`input ${i} must be computed from the model input`);
      return (o as { tensor: string }).tensor;
    },
    isInteger: () => false,
    quantType: () => undefined,
    output: () => output,
    emit: (n, shape) => ctx.emit(n.kind === 'linear' && rowScale ? { ...n, rowScale: rowScale(shape) } : n, shape),
  };
}

/** x - zero point as a computed tensor (a dequantize at scale 1), or the corrected constant. */
function centred(ctx: LoweringContext, i: number, zpIndex: number | undefined, what: string, axisOf?: (shape: Shape) => number): Operand {
  const shape = ctx.shape(i);
  const zp = zpIndex !== undefined && ctx.has(zpIndex) ? requireConstant(ctx, zpIndex, `${what}'s zero point`) : undefined;
  const type = zp?.quantType ?? ctx.constant(i)?.quantType ?? ctx.quantType(i) ?? 'uint8';
  const perAxis = (z: ConstTensor) => {
    if (size(z.dims) === 1) return new Float64Array(size(shape)).fill(z.data[0]);
    if (!axisOf) ctx.fail(`${what}'s zero point must be a scalar`);
    const a = axisOf!(shape);
    if (z.dims.length !== 1 || z.dims[0] !== shape[a]) ctx.fail(`${what}'s zero point has shape [${z.dims}], expected a scalar or [${shape[a]}]`);
    return alongAxis(z.data, shape, a);
  };
  const zeroPoint = zp ? perAxis(zp) : new Float64Array(size(shape));
  checkZeroPoints(ctx, zeroPoint, type, `${what}'s zero point`);
  const c = ctx.constant(i);
  if (c) return dequantizeConstant(ctx, c, new Float64Array(size(shape)).fill(1), zeroPoint, what);
  const tensor = `${ctx.output()}__${what}_centred`;
  ctx.emit({ kind: 'dequantize', node: ctx.name, inputs: [ctx.tensor(i)], output: tensor, scale: new Float64Array(size(shape)).fill(1), zeroPoint: Int32Array.from(zeroPoint) }, shape);
  return { tensor, shape };
}

/** One scale (x_scale: `scalar`) or one per output channel (w_scale), read as float32 values. */
function scaleValues(ctx: LoweringContext, i: number, what: string, scalar = true): Float64Array {
  const s = requireConstant(ctx, i, what);
  if (scalar && s.data.length !== 1) ctx.fail(`${what} must be a single value, got shape [${s.dims}]`);
  checkScales(ctx, s.data, what);
  return s.data;
}

/** Requantizes an accumulator (rowScale times integers) to the op's output, as QuantizeLinear would. */
function requantizeOutput(ctx: LoweringContext, acc: string, shape: Shape, scaleIndex: number, zeroIndex: number): void {
  const [yScale] = scaleValues(ctx, scaleIndex, 'y_scale');
  // An omitted zero point is 0 of uint8, as for QuantizeLinear.
  const yZero: ConstTensor = ctx.has(zeroIndex) ? requireConstant(ctx, zeroIndex, 'y_zero_point') : { dims: [], data: Float64Array.of(0), integer: true, quantType: 'uint8' };
  if (size(yZero.dims) !== 1) ctx.fail('y_zero_point must be a scalar');
  lowerQuantizeLinear(withOperands(ctx, [{ tensor: acc, shape }, { dims: [], data: Float64Array.of(yScale) }, { ...yZero, dims: [] }], ctx.output()));
}

export function lowerQLinearConv(ctx: LoweringContext): void {
  const x = centred(ctx, 0, 2, 'x');
  const w = centred(ctx, 3, 5, 'w', () => 0);
  const [xScale] = scaleValues(ctx, 1, 'x_scale');
  const wScale = scaleValues(ctx, 4, 'w_scale', false);
  const bias = ctx.has(8) ? requireConstant(ctx, 8, 'B (the int32 bias)') : undefined;
  const acc = `${ctx.output()}__accumulator`;
  const channels = (ctx.constant(3)?.dims ?? [])[0];
  if (wScale.length !== 1 && wScale.length !== channels) ctx.fail(`w_scale has ${wScale.length} values for ${channels} output channels`);
  let accShape: Shape = [];
  lowerConv(
    withOperands(ctx, [x, w, bias], acc, (shape) => {
      accShape = shape;
      const inner = size(shape.slice(2));
      return Float64Array.from({ length: size(shape) }, (_, j) => xScale * wScale[wScale.length === 1 ? 0 : Math.floor(j / inner) % shape[1]]);
    }),
  );
  requantizeOutput(ctx, acc, accShape, 6, 7);
}

export function lowerQLinearMatMul(ctx: LoweringContext): void {
  const a = centred(ctx, 0, 2, 'a');
  const b = centred(ctx, 3, 5, 'b', (shape) => shape.length - 1);
  const [aScale] = scaleValues(ctx, 1, 'a_scale');
  const bScale = scaleValues(ctx, 4, 'b_scale', false);
  const acc = `${ctx.output()}__accumulator`;
  let accShape: Shape = [];
  lowerMatMul(
    withOperands(ctx, [a, b], acc, (shape) => {
      accShape = shape;
      const n = shape[shape.length - 1];
      if (bScale.length !== 1 && bScale.length !== n) ctx.fail(`b_scale has ${bScale.length} values for ${n} columns`);
      return Float64Array.from({ length: size(shape) }, (_, j) => aScale * bScale[bScale.length === 1 ? 0 : j % n]);
    }),
  );
  requantizeOutput(ctx, acc, accShape, 6, 7);
}

/** ConvInteger: the int32 accumulation of (x - x_zp) (w - w_zp), with the weights' zero point per output channel. */
export function lowerConvInteger(ctx: LoweringContext): void {
  lowerConv(withOperands(ctx, [centred(ctx, 0, 2, 'x'), centred(ctx, 1, 3, 'w', () => 0)], ctx.output()));
}

/** MatMulInteger: the int32 products of (A - a_zp) and (B - b_zp), B's zero point per column. */
export function lowerMatMulInteger(ctx: LoweringContext): void {
  lowerMatMul(withOperands(ctx, [centred(ctx, 0, 2, 'a', (s) => s.length - 2), centred(ctx, 1, 3, 'b', (s) => s.length - 1)], ctx.output()));
}

/**
 * com.microsoft QGemm (onnxruntime's fusion of DQ -> Gemm -> Q): Y = alpha a_scale b_scale ((A - a_zp)(B - b_zp) + C)
 * with an int32 C, requantized by y_scale and y_zero_point, or left in float when y_scale is absent.
 */
export function lowerQGemm(ctx: LoweringContext): void {
  if (ctx.attrs.float('alpha', 1) !== 1) ctx.fail('alpha other than 1 is not supported');
  const transB = ctx.attrs.int('transB', 0);
  const a = centred(ctx, 0, 2, 'a');
  const b = centred(ctx, 3, 5, 'b', () => (transB ? 0 : 1));
  const [aScale] = scaleValues(ctx, 1, 'a_scale');
  const bScale = scaleValues(ctx, 4, 'b_scale', false);
  const c = ctx.has(6) ? requireConstant(ctx, 6, 'C (the int32 bias)') : undefined;
  const quantized = ctx.has(7);
  const acc = quantized ? `${ctx.output()}__accumulator` : ctx.output();
  let accShape: Shape = [];
  lowerGemm(
    withOperands(ctx, [a, b, c], acc, (shape) => {
      accShape = shape;
      const n = shape[1];
      if (bScale.length !== 1 && bScale.length !== n) ctx.fail(`b_scale has ${bScale.length} values for ${n} columns`);
      return Float64Array.from({ length: size(shape) }, (_, j) => aScale * bScale[bScale.length === 1 ? 0 : j % n]);
    }),
  );
  if (quantized) requantizeOutput(ctx, acc, accShape, 7, 8);
}

/** DequantizeLinear of input i with its scale and zero point inputs: a node, or a folded constant. */
function dequantized(ctx: LoweringContext, i: number, scaleIndex: number, zeroIndex: number, what: string): Operand {
  const shape = ctx.shape(i);
  const [scale] = scaleValues(ctx, scaleIndex, `${what}_scale`);
  const z = ctx.has(zeroIndex) ? requireConstant(ctx, zeroIndex, `${what}_zero_point`) : undefined;
  if (z && (size(z.dims) !== 1 || !z.integer || !Number.isInteger(z.data[0]))) ctx.fail(`${what}_zero_point must be a single integer`);
  const zero = z?.data[0] ?? 0;
  const type = z?.quantType ?? ctx.quantType(i) ?? ctx.constant(i)?.quantType;
  if (type && (zero < quantTypeRange[type][0] || zero > quantTypeRange[type][1])) ctx.fail(`${what}_zero_point ${zero} is outside the ${type} range`);
  const n = size(shape);
  const c = ctx.constant(i);
  if (c) return dequantizeConstant(ctx, c, new Float64Array(n).fill(scale), new Float64Array(n).fill(zero), what);
  const tensor = `${ctx.output()}__${what}_dequantized`;
  ctx.emit({ kind: 'dequantize', node: ctx.name, inputs: [ctx.tensor(i)], output: tensor, scale: new Float64Array(n).fill(scale), zeroPoint: new Int32Array(n).fill(zero) }, shape);
  return { tensor, shape };
}

/**
 * An onnxruntime contrib op that is Q(f(DQ(x), ...)) for a float op f: the float op's own lowering
 * between a DequantizeLinear per input and a QuantizeLinear, as the QDQ form of the model would be.
 */
function quantizedAround(f: Lowering, inputs: [number, number, number][], yScaleIndex: number, yZeroIndex: number) {
  return (ctx: LoweringContext): void => {
    if (ctx.attrs.int('channels_last', 0) !== 0) ctx.fail('channels_last is not supported');
    const operands = inputs.map(([i, s, z], k) => dequantized(ctx, i, s, z, ['a', 'b'][k]));
    const out = `${ctx.output()}__float`;
    let shape: Shape = [];
    f({ ...withOperands(ctx, operands, out), emit: (n, sh) => ((shape = sh), ctx.emit(n, sh)) });
    requantizeOutput(ctx, out, shape, yScaleIndex, yZeroIndex);
  };
}

/** com.microsoft QLinearAdd(A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp) = Q(DQ(A) + DQ(B)). */
export const lowerQLinearAdd = quantizedAround(lowerArithmetic('Add'), [[0, 1, 2], [3, 4, 5]], 6, 7);
/** com.microsoft QLinearAveragePool(X, x_scale, x_zp, y_scale, y_zp) = Q(AveragePool(DQ(X))), the average exact. */
export const lowerQLinearAveragePool = quantizedAround(lowerAveragePool, [[0, 1, 2]], 3, 4);
/** com.microsoft QLinearGlobalAveragePool(X, x_scale, x_zp, y_scale, y_zp) = Q(GlobalAveragePool(DQ(X))). */
export const lowerQLinearGlobalAveragePool = quantizedAround(lowerGlobalAveragePool, [[0, 1, 2]], 3, 4);

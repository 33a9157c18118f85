import { ShapeMismatchError, UnsupportedModelError } from '../errors.js';
import { formatShape, size, type FloatNode, type Shape } from '../ir/graph.js';
import { Attributes } from './attributes.js';
import type { NodeProto } from './proto.js';
import type { ConstTensor } from './tensor.js';

/** What a lowering sees: the tensors known so far, and where to put what it produces. */
export interface LoweringContext {
  readonly node: NodeProto;
  readonly name: string;
  readonly attrs: Attributes;
  /** A constant (initializer or Constant output), or undefined if the tensor is computed. */
  constant(input: number): ConstTensor | undefined;
  /** The shape of a computed input; throws if the input is missing. */
  shape(input: number): Shape;
  /** The computed tensor behind an input (after Identity/Dropout aliasing). */
  tensor(input: number): string;
  emit(node: FloatNode, shape: Shape): void;
  alias(output: string, input: string): void;
  defineConstant(output: string, value: ConstTensor): void;
  fail(reason: string): never;
}

type Lowering = (ctx: LoweringContext) => void;

/** One entry per supported ONNX op: each lowers onto the float IR's small op set. */
export const lowerings: Record<string, Lowering> = {
  Gemm: lowerGemm,
  MatMul: lowerMatMul,
  Add: lowerAdd,
  Relu: (ctx) => emitUnary(ctx, 'relu'),
  Flatten: lowerFlatten,
  Reshape: lowerReshape,
  Identity: (ctx) => ctx.alias(ctx.node.output![0], ctx.tensor(0)),
  Dropout: lowerDropout,
  Constant: lowerConstant,
};

export const supportedOps = Object.keys(lowerings).sort();

function output(ctx: LoweringContext): string {
  return ctx.node.output![0];
}

function emitUnary(ctx: LoweringContext, kind: 'relu'): void {
  ctx.emit({ kind, node: ctx.name, input: ctx.tensor(0), output: output(ctx) }, ctx.shape(0));
}

/** A computed operand that holds one row vector (batch 1): its feature count. */
function rowVector(ctx: LoweringContext, shape: Shape, what: string): number {
  const leading = shape.slice(0, -1);
  if (shape.length === 0 || size(leading) !== 1) {
    throw new ShapeMismatchError(`${ctx.node.opType} node "${ctx.name}" ${what}`, 'a single row [1, K] (batch 1)', formatShape(shape));
  }
  return shape[shape.length - 1];
}

function requireWeight(ctx: LoweringContext, input: number, what: string): ConstTensor {
  const w = ctx.constant(input);
  if (!w) ctx.fail(`${what} must be a constant (an initializer): weights computed at run time are not supported`);
  if (w.dims.length !== 2) ctx.fail(`${what} must be 2-D, got shape ${formatShape(w.dims)}`);
  return w;
}

function lowerGemm(ctx: LoweringContext): void {
  const { attrs } = ctx;
  const alpha = attrs.float('alpha', 1);
  const beta = attrs.float('beta', 1);
  const transA = attrs.int('transA', 0);
  const transB = attrs.int('transB', 0);
  if (ctx.constant(0)) ctx.fail('operand A must be computed from the model input, not a constant');
  const aShape = ctx.shape(0);
  if (aShape.length !== 2) ctx.fail(`operand A must be 2-D, got ${formatShape(aShape)}`);
  const k = rowVector(ctx, transA ? [aShape[1], aShape[0]] : aShape, 'operand A');
  const b = requireWeight(ctx, 1, 'operand B');
  const [bRows, bCols] = transB ? [b.dims[1], b.dims[0]] : b.dims;
  if (bRows !== k) {
    throw new ShapeMismatchError(`Gemm node "${ctx.name}" operand B`, `${k} rows to match A`, formatShape(b.dims));
  }
  const n = bCols;
  const weight = new Float64Array(n * k);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < k; i++) weight[j * k + i] = alpha * (transB ? b.data[j * k + i] : b.data[i * n + j]);
  }
  const bias = new Float64Array(n);
  if ((ctx.node.input ?? []).length > 2 && ctx.node.input![2] !== '') {
    const c = ctx.constant(2);
    if (!c) ctx.fail('operand C (bias) must be a constant');
    const cb = broadcastTo(c, [1, n], ctx);
    for (let j = 0; j < n; j++) bias[j] = beta * cb[j];
  }
  ctx.emit({ kind: 'dense', node: ctx.name, input: ctx.tensor(0), output: output(ctx), inFeatures: k, outFeatures: n, weight, bias }, [1, n]);
}

function lowerMatMul(ctx: LoweringContext): void {
  if (ctx.constant(0)) ctx.fail('a constant first operand is not supported: the model input must be the first operand');
  const aShape = ctx.shape(0);
  const k = rowVector(ctx, aShape, 'operand A');
  const b = requireWeight(ctx, 1, 'operand B');
  if (b.dims[0] !== k) {
    throw new ShapeMismatchError(`MatMul node "${ctx.name}" operand B`, `${k} rows to match A`, formatShape(b.dims));
  }
  const n = b.dims[1];
  const weight = new Float64Array(n * k);
  for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) weight[j * k + i] = b.data[i * n + j];
  ctx.emit(
    { kind: 'dense', node: ctx.name, input: ctx.tensor(0), output: output(ctx), inFeatures: k, outFeatures: n, weight, bias: new Float64Array(n) },
    [...aShape.slice(0, -1), n],
  );
}

function lowerAdd(ctx: LoweringContext): void {
  const [a, b] = [ctx.constant(0), ctx.constant(1)];
  if (a && b) ctx.fail('both operands are constants; constant-fold the model before export');
  if (!a && !b) ctx.fail('adding two computed tensors is not supported yet');
  const computed = a ? 1 : 0;
  const shape = ctx.shape(computed);
  const constant = broadcastTo((a ?? b)!, shape, ctx);
  ctx.emit({ kind: 'addConst', node: ctx.name, input: ctx.tensor(computed), output: output(ctx), constant }, shape);
}

function lowerFlatten(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  let axis = ctx.attrs.int('axis', 1);
  if (axis < 0) axis += shape.length;
  const outShape = [size(shape.slice(0, axis)), size(shape.slice(axis))];
  ctx.emit({ kind: 'reshape', node: ctx.name, input: ctx.tensor(0), output: output(ctx), shape: outShape }, outShape);
}

function lowerReshape(ctx: LoweringContext): void {
  const shape = ctx.shape(0);
  const target = ctx.constant(1);
  if (!target) ctx.fail('the target shape must be a constant (computed shapes are not supported)');
  const allowZero = ctx.attrs.int('allowzero', 0);
  const dims = Array.from(target.data, (d, i) => (d === 0 && !allowZero ? shape[i] : d));
  const inferred = dims.indexOf(-1);
  if (inferred >= 0) {
    const known = size(dims.filter((d) => d !== -1));
    dims[inferred] = size(shape) / known;
  }
  if (size(dims) !== size(shape) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeMismatchError(`Reshape node "${ctx.name}"`, `a shape with ${size(shape)} elements`, formatShape(Array.from(target.data)));
  }
  ctx.emit({ kind: 'reshape', node: ctx.name, input: ctx.tensor(0), output: output(ctx), shape: dims }, dims);
}

function lowerDropout(ctx: LoweringContext): void {
  // Inference: Dropout is the identity. Its optional mask output is not computed.
  ctx.alias(output(ctx), ctx.tensor(0));
}

function lowerConstant(ctx: LoweringContext): void {
  const value = ctx.attrs.constantValue(ctx.name);
  if (!value) ctx.fail('Constant without a value attribute');
  ctx.defineConstant(output(ctx), value);
}

/** NumPy-style broadcast of a constant to a computed tensor's shape, flattened row-major. */
function broadcastTo(c: ConstTensor, shape: Shape, ctx: LoweringContext): Float64Array {
  const rank = shape.length;
  const cdims = [...Array(Math.max(0, rank - c.dims.length)).fill(1), ...c.dims];
  if (cdims.length > rank || cdims.some((d, i) => d !== 1 && d !== shape[i])) {
    throw new ShapeMismatchError(`${ctx.node.opType} node "${ctx.name}" constant`, `a shape broadcastable to ${formatShape(shape)}`, formatShape(c.dims));
  }
  const out = new Float64Array(size(shape));
  const strides = cdims.map((_, i) => size(cdims.slice(i + 1)));
  for (let flat = 0; flat < out.length; flat++) {
    let rest = flat;
    let src = 0;
    for (let d = 0; d < rank; d++) {
      const inner = size(shape.slice(d + 1));
      const idx = Math.floor(rest / inner);
      rest %= inner;
      if (cdims[d] !== 1) src += idx * strides[d];
    }
    out[flat] = c.data[src];
  }
  return out;
}


import { ShapeMismatchError } from '../../errors.js';
import { broadcastIndex, broadcastShapes, elementwiseProduct, formatShape, size, strides, unflatten, type Shape } from '../../ir/graph.js';
import { LinearBuilder } from '../../ir/linear_builder.js';
import type { ConstTensor } from '../tensor.js';
import { requireConstant, type LoweringContext } from './context.js';
import { windowGeometry, windowTaps } from './windows.js';

/**
 * Affine ops: each output is a weighted sum of input elements plus a constant, so the circuit
 * pays no multiplication for them. Two computed operands of Mul (or of MatMul) are the exception:
 * they become a `mul` node, one constraint per product.
 */

function emitLinear(ctx: LoweringContext, b: LinearBuilder, inputs: number[], shape: Shape, rowDivisor?: Int32Array): void {
  const node = b.build(ctx.name, inputs.map((i) => ctx.tensor(i)), ctx.output());
  ctx.emit(rowDivisor ? { ...node, rowDivisor } : node, shape);
}

/** Numpy matmul of [.., M, K] by [.., K, N], with 1-D operands promoted and their axis dropped after. */
function matmulShapes(ctx: LoweringContext, a: Shape, b: Shape) {
  const a2 = a.length === 1 ? [1, a[0]] : [...a];
  const b2 = b.length === 1 ? [b[0], 1] : [...b];
  const [m, k] = a2.slice(-2);
  const [k2, n] = b2.slice(-2);
  if (k !== k2) throw new ShapeMismatchError(`MatMul node "${ctx.name}"`, `inner dimensions that agree`, `${formatShape(a)} x ${formatShape(b)}`);
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  if (!batch) ctx.fail(`batch dimensions do not broadcast: ${formatShape(a)} x ${formatShape(b)}`);
  const full = [...batch, m, n];
  const out = [...batch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])];
  const aBatch = broadcastIndex(a2.slice(0, -2), batch);
  const bBatch = broadcastIndex(b2.slice(0, -2), batch);
  /** Flat offsets of a[.., i, kk] and b[.., kk, j] for output (batch, i, j). */
  const terms = (flat: number) => {
    const idx = unflatten(flat, full);
    const bi = size(batch) === 1 ? 0 : idx.slice(0, -2).reduce((acc, v, d) => acc + v * strides(batch)[d], 0);
    const [i, j] = idx.slice(-2);
    return Array.from({ length: k }, (_, kk) => [aBatch[bi] * m * k + i * k + kk, bBatch[bi] * k * n + kk * n + j] as const);
  };
  return { out, count: size(full), terms };
}

export function lowerMatMul(ctx: LoweringContext): void {
  const [ca, cb] = [ctx.constant(0), ctx.constant(1)];
  if (ca && cb) ctx.fail('both operands are constants; constant-fold the model before export');
  const { out, count, terms } = matmulShapes(ctx, ctx.shape(0), ctx.shape(1));
  if (!ca && !cb) {
    const rowStart = new Int32Array(count + 1);
    const left: number[] = [];
    const right: number[] = [];
    for (let j = 0; j < count; j++) {
      for (const [ia, ib] of terms(j)) {
        left.push(ia);
        right.push(ib);
      }
      rowStart[j + 1] = left.length;
    }
    ctx.emit({ kind: 'mul', node: ctx.name, inputs: [ctx.tensor(0), ctx.tensor(1)], output: ctx.output(), rowStart, left: Int32Array.from(left), right: Int32Array.from(right) }, out);
    return;
  }
  const b = new LinearBuilder();
  for (let j = 0; j < count; j++) {
    for (const [ia, ib] of terms(j)) b.term(0, cb ? ia : ib, cb ? cb.data[ib] : ca!.data[ia]);
    b.endRow();
  }
  emitLinear(ctx, b, [ca ? 1 : 0], out);
}

export function lowerGemm(ctx: LoweringContext): void {
  const alpha = ctx.attrs.float('alpha', 1);
  const beta = ctx.attrs.float('beta', 1);
  const transA = ctx.attrs.int('transA', 0);
  const transB = ctx.attrs.int('transB', 0);
  const [ca, cb] = [ctx.constant(0), ctx.constant(1)];
  if (!!ca === !!cb) ctx.fail(ca ? 'both operands are constants' : 'both A and B are computed; one of them must hold constant weights');
  const [a, bShape] = [ctx.shape(0), ctx.shape(1)];
  if (a.length !== 2 || bShape.length !== 2) ctx.fail(`A and B must be 2-D, got ${formatShape(a)} and ${formatShape(bShape)}`);
  const [m, k] = transA ? [a[1], a[0]] : a;
  const [k2, n] = transB ? [bShape[1], bShape[0]] : bShape;
  if (k !== k2) {
    throw new ShapeMismatchError(`Gemm node "${ctx.name}"`, 'inner dimensions that agree', `A ${formatShape(a)}${transA ? ' (transposed)' : ''}, B ${formatShape(bShape)}${transB ? ' (transposed)' : ''}`);
  }
  const aAt = (i: number, kk: number) => (transA ? kk * m + i : i * k + kk);
  const bAt = (kk: number, j: number) => (transB ? j * k + kk : kk * n + j);
  const c: ConstTensor | undefined = ctx.has(2) ? requireConstant(ctx, 2, 'C (the bias)') : undefined;
  const bias = c ? broadcastIndex(c.dims, [m, n]) : undefined;
  const b = new LinearBuilder();
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      for (let kk = 0; kk < k; kk++) {
        if (cb) b.term(0, aAt(i, kk), alpha * cb.data[bAt(kk, j)]);
        else b.term(0, bAt(kk, j), alpha * ca!.data[aAt(i, kk)]);
      }
      b.endRow(c ? beta * c.data[bias![i * n + j]] : 0);
    }
  }
  emitLinear(ctx, b, [ca ? 1 : 0], [m, n]);
}

export function lowerConv(ctx: LoweringContext): void {
  const x = ctx.shape(0);
  const w = requireConstant(ctx, 1, 'the weight W');
  if (x.length < 3) ctx.fail(`input must be [N, C, ...spatial], got ${formatShape(x)}`);
  const group = ctx.attrs.int('group', 1);
  const [nBatch, c] = x;
  const [mOut, cPerGroup, ...kernel] = w.dims;
  if (c !== cPerGroup * group || mOut % group !== 0) ctx.fail(`weight ${formatShape(w.dims)} does not fit ${c} input channels in ${group} groups`);
  const ks = ctx.attrs.ints('kernel_shape');
  if (ks && ks.join() !== kernel.join()) ctx.fail(`kernel_shape [${ks}] differs from the weight's [${kernel}]`);
  const spatial = x.slice(2);
  const g = windowGeometry(ctx, spatial, kernel);
  const taps = windowTaps(spatial, g);
  const bias = ctx.has(2) ? requireConstant(ctx, 2, 'the bias B').data : undefined;
  const inPlane = size(spatial);
  const nKernel = size(kernel);
  const mPerGroup = mOut / group;
  const b = new LinearBuilder();
  for (let n = 0; n < nBatch; n++) {
    for (let m = 0; m < mOut; m++) {
      const g0 = Math.floor(m / mPerGroup) * cPerGroup;
      for (const window of taps) {
        for (let ci = 0; ci < cPerGroup; ci++) {
          for (const tap of window) {
            if (tap.offset < 0) continue;
            b.term(0, (n * c + g0 + ci) * inPlane + tap.offset, w.data[(m * cPerGroup + ci) * nKernel + tap.kernelOffset]);
          }
        }
        b.endRow(bias ? bias[m] : 0);
      }
    }
  }
  emitLinear(ctx, b, [0], [nBatch, mOut, ...g.out]);
}

export function lowerAveragePool(ctx: LoweringContext): void {
  const x = ctx.shape(0);
  const kernel = ctx.attrs.ints('kernel_shape');
  if (!kernel) ctx.fail('kernel_shape is required');
  const includePad = ctx.attrs.int('count_include_pad', 0) === 1;
  const spatial = x.slice(2);
  const g = windowGeometry(ctx, spatial, kernel, ctx.attrs.int('ceil_mode', 0) === 1);
  const taps = windowTaps(spatial, g);
  const inPlane = size(spatial);
  const b = new LinearBuilder();
  const divisors: number[] = [];
  for (let plane = 0; plane < x[0] * x[1]; plane++) {
    for (const window of taps) {
      const valid = window.filter((t) => t.offset >= 0);
      divisors.push(includePad ? window.filter((t) => t.inPadded).length : valid.length);
      for (const t of valid) b.term(0, plane * inPlane + t.offset, 1);
      b.endRow();
    }
  }
  emitLinear(ctx, b, [0], [x[0], x[1], ...g.out], Int32Array.from(divisors));
}

export function lowerGlobalAveragePool(ctx: LoweringContext): void {
  const x = ctx.shape(0);
  const inPlane = size(x.slice(2));
  const b = new LinearBuilder();
  for (let plane = 0; plane < x[0] * x[1]; plane++) {
    for (let i = 0; i < inPlane; i++) b.term(0, plane * inPlane + i, 1);
    b.endRow();
  }
  emitLinear(ctx, b, [0], [x[0], x[1], ...x.slice(2).map(() => 1)], new Int32Array(x[0] * x[1]).fill(inPlane));
}

export function lowerBatchNormalization(ctx: LoweringContext): void {
  if (ctx.attrs.int('training_mode', 0) !== 0) ctx.fail('training mode is not supported: export the model in eval mode');
  if ((ctx.node.output ?? []).slice(1).some((o) => o !== '')) ctx.fail('the running mean/variance outputs (training mode) are not supported');
  const x = ctx.shape(0);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => requireConstant(ctx, i, ['', 'scale', 'B', 'input_mean', 'input_var'][i]).data);
  const eps = ctx.attrs.float('epsilon', 1e-5);
  const channels = x[1] ?? 1;
  const inner = size(x.slice(2));
  const b = new LinearBuilder();
  for (let j = 0; j < size(x); j++) {
    const ch = Math.floor(j / inner) % channels;
    const a = scale[ch] / Math.sqrt(variance[ch] + eps);
    b.term(0, j, a);
    b.endRow(bias[ch] - a * mean[ch]);
  }
  emitLinear(ctx, b, [0], x);
}

type Arith = 'Add' | 'Sub' | 'Mul' | 'Div';

/** Elementwise Add/Sub/Mul/Div with NumPy broadcasting. */
export function lowerArithmetic(op: Arith) {
  return (ctx: LoweringContext): void => {
    const [ca, cb] = [ctx.constant(0), ctx.constant(1)];
    const out = broadcastShapes(ctx.shape(0), ctx.shape(1));
    if (!out) ctx.fail(`shapes ${formatShape(ctx.shape(0))} and ${formatShape(ctx.shape(1))} do not broadcast`);
    const ia = broadcastIndex(ctx.shape(0), out);
    const ib = broadcastIndex(ctx.shape(1), out);
    const n = size(out);
    if (ca && cb) {
      // Integer tensors (shape arithmetic) fold as onnxruntime computes them: Div truncates.
      const integer = ca.integer === true && cb.integer === true;
      const div = (x: number, y: number) => (integer ? Math.trunc(x / y) : x / y);
      const apply = (x: number, y: number) => (op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : div(x, y));
      const data = Float64Array.from({ length: n }, (_, j) => apply(ca.data[ia[j]], cb.data[ib[j]]));
      ctx.defineConstant(ctx.output(), integer ? { dims: out, data, integer } : { dims: out, data });
      return;
    }
    if (op === 'Mul' && !ca && !cb) {
      ctx.emit(elementwiseProduct(ctx.name, [ctx.tensor(0), ctx.tensor(1)], ctx.output(), ia, ib), out);
      return;
    }
    if (op === 'Div' && ca) ctx.fail('dividing a constant by a computed tensor is not supported (a computed numerator is)');
    if (op === 'Div' && !cb) {
      ctx.emit({ kind: 'div', node: ctx.name, inputs: [ctx.tensor(0), ctx.tensor(1)], output: ctx.output(), left: ia, right: ib }, out);
      return;
    }
    const b = new LinearBuilder();
    for (let j = 0; j < n; j++) {
      if (!ca && !cb) {
        b.term(0, ia[j], 1).term(1, ib[j], op === 'Sub' ? -1 : 1);
        b.endRow();
      } else if (cb) {
        const v = cb.data[ib[j]];
        if (op === 'Add' || op === 'Sub') b.term(0, ia[j], 1).endRow(op === 'Add' ? v : -v);
        else b.term(0, ia[j], op === 'Mul' ? v : 1 / v).endRow();
      } else {
        const v = ca!.data[ia[j]];
        if (op === 'Add' || op === 'Sub') b.term(0, ib[j], op === 'Add' ? 1 : -1).endRow(v);
        else b.term(0, ib[j], v).endRow();
      }
    }
    emitLinear(ctx, b, ca ? [1] : cb ? [0] : [0, 1], out);
  };
}

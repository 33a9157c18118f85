/**
 * Float graph IR: what an ONNX model lowers to before quantization. A small, closed set of ops;
 * every supported ONNX op becomes one of these (or disappears, like Identity). Tensors are named,
 * stored flat in row-major order with static shapes; nodes are in topological order.
 */
export type Shape = readonly number[];

/**
 * y[j] = bias[j] + sum over terms t of row j: weight[t] * inputs[src[t]][index[t]].
 * Compressed sparse rows: the terms of row j are rowStart[j] .. rowStart[j+1]-1. Covers Gemm,
 * MatMul with a constant operand, Conv, average pooling, BatchNorm, and Add/Sub/Mul with constants
 * or between computed tensors (Add/Sub).
 */
export interface LinearNode {
  kind: 'linear';
  node: string;
  inputs: string[];
  output: string;
  rowStart: Int32Array;
  src: Uint8Array;
  index: Int32Array;
  weight: Float64Array;
  bias: Float64Array;
  /**
   * y[j] = rowScale[j] * (bias[j] + sum ...): an exact per-row factor, set by the expansions of
   * QLinearConv and QLinearMatMul, whose integer accumulator and int32 bias are at the scale
   * x_scale * w_scale. Keeping the factor apart keeps every number exact in float64.
   */
  rowScale?: Float64Array;
  /**
   * y[j] = (bias[j] + sum ...) / rowDivisor[j]: average pooling's exact divisor (1/n has no exact
   * float64 value, and an int8 model's average is defined over the rationals). The calibrated
   * quantizer folds it into the weights.
   */
  rowDivisor?: Int32Array;
}

/** y[j] = inputs[src[j]][index[j]], or constant[j] where src[j] is -1: reshape, transpose, pad, concat, slice. */
export interface GatherNode {
  kind: 'gather';
  node: string;
  inputs: string[];
  output: string;
  src: Int8Array;
  index: Int32Array;
  constant: Float64Array;
}

interface Unary<K extends string> {
  kind: K;
  node: string;
  inputs: [string];
  output: string;
}

export type ReluNode = Unary<'relu'>;
export type SigmoidNode = Unary<'sigmoid'>;
export type TanhNode = Unary<'tanh'>;

/** y = x if x >= 0 else alpha * x, with one alpha per element (LeakyRelu, PRelu). */
export interface LeakyReluNode extends Unary<'leakyRelu'> {
  alpha: Float64Array;
}

/** y = min(max(x, min), max); either bound may be infinite. */
export interface ClipNode extends Unary<'clip'> {
  min: number;
  max: number;
}

/** y[j] = max over windows[j] of x (indices into x); padding is simply absent from the window. */
export interface MaxPoolNode extends Unary<'maxPool'> {
  windows: Int32Array[];
}

/** y[j] = sum over pairs p of row j: a[left[p]] * b[right[p]] (elementwise Mul, MatMul of computed tensors). */
export interface MulNode {
  kind: 'mul';
  node: string;
  inputs: [string, string];
  output: string;
  rowStart: Int32Array;
  left: Int32Array;
  right: Int32Array;
}

/** y[j] = position of the maximum within groups[j] (first or last on ties). */
export interface ArgMaxNode extends Unary<'argmax'> {
  groups: Int32Array[];
  selectLast: boolean;
}

/**
 * Softmax over groups. At the graph output it is applied to the proven logits outside the circuit
 * (see README); anywhere else (attention) the circuit proves it.
 */
export interface SoftmaxNode extends Unary<'softmax'> {
  groups: Int32Array[];
}

/** y = sqrt(x), x >= 0 (LayerNorm's standard deviation). */
export type SqrtNode = Unary<'sqrt'>;

/** y[j] = a[left[j]] / b[right[j]]: division by a computed tensor (LayerNorm, a normalisation). */
export interface DivNode {
  kind: 'div';
  node: string;
  inputs: [string, string];
  output: string;
  left: Int32Array;
  right: Int32Array;
}

/** Smooth functions proved by a piecewise-linear table over a bounded domain (src/ops/pwl.ts). */
export type SmoothFn = 'erf' | 'exp' | 'log' | 'softplus';

export interface FnNode extends Unary<'fn'> {
  fn: SmoothFn;
}

/**
 * Embedding lookup: row ids[t] of a constant table (rows x cols) for every id of the input, which
 * must be an integer model input (token ids): y[t * cols + d] = table[ids[t] * cols + d].
 */
export interface LookupNode extends Unary<'lookup'> {
  table: Float64Array;
  rows: number;
  cols: number;
}

/** The integer types of an int8 model's quantized tensors. */
export type QuantType = 'uint8' | 'int8';

export const quantTypeRange: Record<QuantType, readonly [number, number]> = { uint8: [0, 255], int8: [-128, 127] };

/**
 * QuantizeLinear: y = saturate(round_half_to_even(x / scale) + zeroPoint) to the type's range, with
 * a scale (a float32 value) and zero point per element (per tensor or per axis in ONNX).
 */
export interface QuantizeNode extends Unary<'quantize'> {
  scale: Float64Array;
  zeroPoint: Int32Array;
  type: QuantType;
}

/** DequantizeLinear: y = (x - zeroPoint) * scale, per element. */
export interface DequantizeNode extends Unary<'dequantize'> {
  scale: Float64Array;
  zeroPoint: Int32Array;
}

export type FloatNode = QuantizeNode | DequantizeNode | LinearNode | GatherNode | ReluNode | SigmoidNode | TanhNode | LeakyReluNode | ClipNode | MaxPoolNode | MulNode | ArgMaxNode | SoftmaxNode | SqrtNode | DivNode | FnNode | LookupNode;
export type FloatOpKind = FloatNode['kind'];

export interface TensorInfo {
  name: string;
  shape: Shape;
  /** An integer model input (INT64/INT32 token ids, read only by embedding lookups): ids in [0, max]. */
  integer?: { type: 'int64' | 'int32'; max: number };
  /** A uint8/int8 model input (the quantized input of an int8 model's first QLinear op). */
  quantized?: QuantType;
}

export interface FloatGraph {
  /** Graph inputs in order; the circuit's input vector is their concatenation. */
  inputs: TensorInfo[];
  output: TensorInfo;
  /** The ONNX graph output's own name (the IR tensor may be an alias of it). */
  onnxOutputName: string;
  nodes: FloatNode[];
  shapes: Map<string, Shape>;
}

/**
 * Whether a model carries its own int8 quantization (QDQ or QOperator): it is then proved as it is
 * (src/quant/qdq.ts), and its affine ops keep exact weights (no composition of two of them).
 */
export function carriesQuantization(nodes: readonly FloatNode[], inputs: readonly TensorInfo[]): boolean {
  return inputs.some((i) => i.quantized) || nodes.some((n) => n.kind === 'quantize' || n.kind === 'dequantize' || (n.kind === 'linear' && n.rowScale));
}

/** An average's exact divisor as weights of 1/n, for calibrated models (which round their weights anyway). */
export function foldDivisor(node: FloatNode): FloatNode {
  if (node.kind !== 'linear' || !node.rowDivisor) return node;
  const d = node.rowDivisor;
  const weight = new Float64Array(node.weight.length);
  for (let j = 0; j < d.length; j++) for (let t = node.rowStart[j]; t < node.rowStart[j + 1]; t++) weight[t] = node.weight[t] / d[j];
  const { rowDivisor: _, ...rest } = node;
  return { ...rest, weight, bias: node.bias.map((b, j) => b / d[j]) };
}

export function size(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function strides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Multi-index of a flat row-major offset. */
export function unflatten(offset: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = offset % shape[i];
    offset = Math.floor(offset / shape[i]);
  }
  return idx;
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: Shape, b: Shape): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(Math.max(x, y));
  }
  return out;
}

/** For each element of `target`, the flat index of the element of `from` it broadcasts from. */
export function broadcastIndex(from: Shape, target: Shape): Int32Array {
  const out = new Int32Array(size(target));
  const rank = target.length;
  const fromDims = [...new Array(rank - from.length).fill(1), ...from];
  const fromStrides = strides(fromDims);
  for (let j = 0; j < out.length; j++) {
    const idx = unflatten(j, target);
    let src = 0;
    for (let d = 0; d < rank; d++) if (fromDims[d] !== 1) src += idx[d] * fromStrides[d];
    out[j] = src;
  }
  return out;
}

/** The flat indices of each group reduced over `axes`, in row-major order of the kept axes. */
export function reductionGroups(shape: Shape, axes: readonly number[]): Int32Array[] {
  const st = strides(shape);
  const outer = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const inner = shape.map((d, i) => (axes.includes(i) ? d : 1));
  const n = size(inner);
  return Array.from({ length: size(outer) }, (_, g) => {
    const base = unflatten(g, outer).reduce((acc, v, d) => acc + v * st[d], 0);
    return Int32Array.from({ length: n }, (_, k) => base + unflatten(k, inner).reduce((acc, v, d) => acc + v * st[d], 0));
  });
}

/** y[j] = a[left[j]] * b[right[j]]: one product per element (elementwise Mul, x^2, HardSwish's gate). */
export function elementwiseProduct(node: string, inputs: [string, string], output: string, left: Int32Array, right: Int32Array): MulNode {
  return { kind: 'mul', node, inputs, output, rowStart: Int32Array.from({ length: left.length + 1 }, (_, j) => j), left, right };
}

/** y[g] = sum of x[i]^2 over group g (ReduceSumSquare, LayerNorm's variance); groups of equal size. */
export function sumOfSquares(node: string, input: string, output: string, groups: readonly Int32Array[]): MulNode {
  const flat = Int32Array.from(groups.flatMap((g) => Array.from(g)));
  const n = groups[0]?.length ?? 0;
  return { kind: 'mul', node, inputs: [input, input], output, rowStart: Int32Array.from({ length: groups.length + 1 }, (_, g) => g * n), left: flat, right: flat };
}

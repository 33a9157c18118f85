/**
 * Float graph IR: what an ONNX model lowers to before quantization. A small, closed set of ops;
 * every ONNX op the importer accepts becomes one of these (or disappears, like Identity).
 * Tensors are named; nodes are in topological order; batch size is 1 and shapes are static.
 */
export type Shape = readonly number[];

export interface DenseNode {
  kind: 'dense';
  /** ONNX node that produced it, for error messages. */
  node: string;
  input: string;
  output: string;
  inFeatures: number;
  outFeatures: number;
  /** Row-major [outFeatures][inFeatures]: y[j] = sum_i weight[j][i] * x[i] + bias[j]. */
  weight: Float64Array;
  bias: Float64Array;
}

export interface AddConstNode {
  kind: 'addConst';
  node: string;
  input: string;
  output: string;
  /** Same length as the input: broadcasting is resolved at import. */
  constant: Float64Array;
}

export interface ReluNode {
  kind: 'relu';
  node: string;
  input: string;
  output: string;
}

export interface ReshapeNode {
  kind: 'reshape';
  node: string;
  input: string;
  output: string;
  shape: Shape;
}

export type FloatNode = DenseNode | AddConstNode | ReluNode | ReshapeNode;
export type FloatOpKind = FloatNode['kind'];

export interface TensorInfo {
  name: string;
  shape: Shape;
}

export interface FloatGraph {
  input: TensorInfo;
  output: TensorInfo;
  /** The ONNX graph output's own name (the IR tensor may be an alias of it). */
  onnxOutputName: string;
  nodes: FloatNode[];
  shapes: Map<string, Shape>;
}

export function size(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

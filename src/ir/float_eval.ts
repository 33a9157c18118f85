import type { FloatGraph, FloatNode } from './graph.js';

/**
 * Evaluates the float IR in float64. Used for calibration (the range of every tensor) and to
 * check the importer against onnxruntime; it is not the model's reference (onnxruntime is).
 */
export function evaluateFloat(graph: FloatGraph, input: ArrayLike<number>): Map<string, Float64Array> {
  const values = new Map<string, Float64Array>([[graph.input.name, Float64Array.from(input)]]);
  for (const node of graph.nodes) values.set(node.output, evalNode(node, values.get(node.input)!));
  return values;
}

function evalNode(node: FloatNode, x: Float64Array): Float64Array {
  switch (node.kind) {
    case 'dense': {
      const y = new Float64Array(node.outFeatures);
      for (let j = 0; j < node.outFeatures; j++) {
        let acc = node.bias[j];
        const row = j * node.inFeatures;
        for (let i = 0; i < node.inFeatures; i++) acc += node.weight[row + i] * x[i];
        y[j] = acc;
      }
      return y;
    }
    case 'addConst':
      return x.map((v, i) => v + node.constant[i]);
    case 'relu':
      return x.map((v) => (v > 0 ? v : 0));
    case 'reshape':
      return x;
  }
}

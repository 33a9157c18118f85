import type { FloatGraph, FloatNode } from './graph.js';
import { size } from './graph.js';

/**
 * Evaluates the float IR in float64. Used for calibration (the range of every tensor) and to
 * check the importer against onnxruntime; the model's float reference is onnxruntime itself.
 */
export function evaluateFloat(graph: FloatGraph, input: ArrayLike<number>): Map<string, Float64Array> {
  const values = new Map<string, Float64Array>();
  let offset = 0;
  for (const t of graph.inputs) {
    const n = size(t.shape);
    values.set(t.name, Float64Array.from(Array.prototype.slice.call(input, offset, offset + n)));
    offset += n;
  }
  for (const node of graph.nodes) values.set(node.output, evalNode(node, node.inputs.map((i) => values.get(i)!)));
  return values;
}

export function evalNode(node: FloatNode, x: Float64Array[]): Float64Array {
  switch (node.kind) {
    case 'linear': {
      const y = Float64Array.from(node.bias);
      for (let j = 0; j < y.length; j++) {
        for (let t = node.rowStart[j]; t < node.rowStart[j + 1]; t++) y[j] += node.weight[t] * x[node.src[t]][node.index[t]];
      }
      return y;
    }
    case 'gather':
      return Float64Array.from(node.index, (i, j) => (node.src[j] < 0 ? node.constant[j] : x[node.src[j]][i]));
    case 'relu':
      return x[0].map((v) => (v > 0 ? v : 0));
    case 'sigmoid':
      return x[0].map((v) => 1 / (1 + Math.exp(-v)));
    case 'tanh':
      return x[0].map(Math.tanh);
    case 'leakyRelu':
      return x[0].map((v, i) => (v >= 0 ? v : node.alpha[i] * v));
    case 'clip':
      return x[0].map((v) => Math.min(Math.max(v, node.min), node.max));
    case 'maxPool':
      return Float64Array.from(node.windows, (w) => w.reduce((m, i) => Math.max(m, x[0][i]), -Infinity));
    case 'mul': {
      const y = new Float64Array(node.rowStart.length - 1);
      for (let j = 0; j < y.length; j++) {
        for (let p = node.rowStart[j]; p < node.rowStart[j + 1]; p++) y[j] += x[0][node.left[p]] * x[1][node.right[p]];
      }
      return y;
    }
    case 'argmax':
      return Float64Array.from(node.groups, (g) => {
        let best = 0;
        g.forEach((i, k) => {
          const v = x[0][i];
          if (node.selectLast ? v >= x[0][g[best]] : v > x[0][g[best]]) best = k;
        });
        return best;
      });
    case 'softmax': {
      const y = new Float64Array(x[0].length);
      for (const g of node.groups) {
        const m = g.reduce((acc, i) => Math.max(acc, x[0][i]), -Infinity);
        let sum = 0;
        for (const i of g) sum += Math.exp(x[0][i] - m);
        for (const i of g) y[i] = Math.exp(x[0][i] - m) / sum;
      }
      return y;
    }
  }
}

import { InvalidInputError } from '../errors.js';
import type { FloatGraph, FloatNode, QuantType, SmoothFn } from './graph.js';
import { quantTypeRange, size } from './graph.js';

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
        if (node.rowScale) y[j] *= node.rowScale[j];
        if (node.rowDivisor) y[j] /= node.rowDivisor[j];
      }
      return y;
    }
    case 'quantize':
      return x[0].map((v, j) => quantizeValue(v, node.scale[j], node.zeroPoint[j], node.type));
    case 'dequantize':
      return x[0].map((v, j) => Math.fround((v - node.zeroPoint[j]) * node.scale[j]));
    case 'gather':
      return Float64Array.from(node.index, (i, j) => (node.src[j] < 0 ? node.constant[j] : x[node.src[j]][i]));
    case 'relu':
      return x[0].map((v) => (v > 0 ? v : 0));
    case 'sigmoid':
    case 'tanh':
      return x[0].map(exactFns[node.kind]);
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
    case 'sqrt':
      return x[0].map(Math.sqrt);
    case 'div':
      return Float64Array.from(node.left, (l, j) => x[0][l] / x[1][node.right[j]]);
    case 'fn':
      return x[0].map(exactFns[node.fn]);
    case 'lookup': {
      const y = new Float64Array(x[0].length * node.cols);
      x[0].forEach((id, t) => {
        if (!Number.isInteger(id) || id < 0 || id >= node.rows) throw new InvalidInputError(`token id ${id} at position ${t} is not a row of the ${node.rows}-row table of "${node.node}"`);
        y.set(node.table.subarray(id * node.cols, (id + 1) * node.cols), t * node.cols);
      });
      return y;
    }
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

/** The smooth functions of the float IR, exactly in float64 (the circuit approximates them: src/ops/pwl.ts). */
export const exactFns: Record<SmoothFn | 'sigmoid' | 'tanh', (x: number) => number> = {
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  erf,
  exp: Math.exp,
  log: Math.log,
  softplus: (x) => (x > 30 ? x : Math.log1p(Math.exp(x))),
};

/** erf to double precision (W. J. Cody's rational approximations, as in most libms). */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 0.5) {
    const t = x * x;
    const p = [3.1611237438705656, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315];
    const q = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
    let num = p[4] * t;
    let den = t;
    for (let i = 0; i < 3; i++) {
      num = (num + p[i]) * t;
      den = (den + q[i]) * t;
    }
    return (x * (num + p[3])) / (den + q[3]);
  }
  return Math.sign(x) * (1 - erfcPositive(a));
}

function erfcPositive(a: number): number {
  if (a >= 6) return 0;
  let r: number;
  if (a < 4) {
    const c = [0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769, 1712.0476126340707, 2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8];
    const d = [15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597, 4362.619090143247, 3439.3676741437216, 1230.3393548037495];
    let num = c[8] * a;
    let den = a;
    for (let i = 0; i < 7; i++) {
      num = (num + c[i]) * a;
      den = (den + d[i]) * a;
    }
    r = (num + c[7]) / (den + d[7]);
  } else {
    const p = [0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275, 6.587491615298378e-4, 0.016315387137302097];
    const q = [2.568520192289822, 1.8729528499234604, 0.5279051029514285, 0.06051834131244132, 0.0023352049762686918];
    const z = 1 / (a * a);
    let num = p[5] * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + p[i]) * z;
      den = (den + q[i]) * z;
    }
    r = (z * (num + p[4])) / (den + q[4]);
    r = (1 / Math.sqrt(Math.PI) - r) / a;
  }
  return Math.exp(-a * a) * r;
}

/** Rounds to the nearest integer, ties to even (QuantizeLinear's rounding). */
export function roundHalfEvenNumber(x: number): number {
  const r = Math.round(x); // ties toward +infinity
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * QuantizeLinear of one value as onnxruntime and the ONNX reference compute it: the division in
 * float32, rounding half to even, then the zero point and saturation to the type's range.
 */
export function quantizeValue(x: number, scale: number, zeroPoint: number, type: QuantType): number {
  const [lo, hi] = quantTypeRange[type];
  const v = roundHalfEvenNumber(Math.fround(Math.fround(x) / scale)) + zeroPoint;
  return Math.min(hi, Math.max(lo, v));
}

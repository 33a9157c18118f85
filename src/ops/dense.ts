import type { DenseOp, Interval, OpDef } from './types.js';
import { circomArray } from './circom_literals.js';

/** Affine layer with constant weights: a linear combination, so no multiplication constraints. */
export const denseDef: OpDef<DenseOp> = {
  shape: (op) => [1, op.nOut],
  evaluate(op, x) {
    const y: bigint[] = new Array(op.nOut);
    for (let j = 0; j < op.nOut; j++) {
      let acc = op.bias[j];
      const row = j * op.nIn;
      for (let i = 0; i < op.nIn; i++) acc += op.weight[row + i] * x[i];
      y[j] = acc;
    }
    return y;
  },
  bounds(op, x) {
    const out: Interval[] = new Array(op.nOut);
    for (let j = 0; j < op.nOut; j++) {
      let lo = op.bias[j];
      let hi = op.bias[j];
      const row = j * op.nIn;
      for (let i = 0; i < op.nIn; i++) {
        const w = op.weight[row + i];
        if (w >= 0n) {
          lo += w * x[i].lo;
          hi += w * x[i].hi;
        } else {
          lo += w * x[i].hi;
          hi += w * x[i].lo;
        }
      }
      out[j] = { lo, hi };
    }
    return out;
  },
  emit(op, ctx) {
    const rows = Array.from({ length: op.nOut }, (_, j) => op.weight.slice(j * op.nIn, (j + 1) * op.nIn));
    return {
      declarations: [
        `function ${ctx.id}_weight() {\n    var w[${op.nOut}][${op.nIn}] = ${circomArray(rows)};\n    return w;\n}`,
        `function ${ctx.id}_bias() {\n    var b[${op.nOut}] = ${circomArray(op.bias)};\n    return b;\n}`,
      ],
      statements: [
        `component ${ctx.id} = Dense(${op.nIn}, ${op.nOut}, ${ctx.id}_weight(), ${ctx.id}_bias());`,
        `for (var i = 0; i < ${op.nIn}; i++) ${ctx.id}.in[i] <== ${ctx.input}[i];`,
      ],
      signal: `${ctx.id}.out`,
    };
  },
  // Dense(nIn, nOut): 0 non-linear; nOut linear output constraints (+ nIn input wires).
  cost: (op) => ({ nonLinear: 0, linear: op.nOut + op.nIn }),
};

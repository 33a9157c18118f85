import { balancedSum, term } from './circom_literals.js';
import type { Interval, LinearOp, OpDef } from './types.js';

function rows<T>(op: LinearOp, f: (j: number, terms: [number, number, bigint][]) => T): T[] {
  return op.bias.map((_, j) => {
    const terms: [number, number, bigint][] = [];
    for (let t = op.rowStart[j]; t < op.rowStart[j + 1]; t++) terms.push([op.src[t], op.index[t], op.weight[t]]);
    return f(j, terms);
  });
}

/**
 * Affine map with constant integer weights (Gemm, MatMul, Conv, average pooling, BatchNorm,
 * Add/Sub): each output is a linear combination, so it costs no multiplication constraint.
 */
export const linearDef: OpDef<LinearOp> = {
  evaluate: (op, x) => rows(op, (j, terms) => terms.reduce((acc, [s, i, w]) => acc + w * x[s][i], op.bias[j])),
  bounds: (op, x) =>
    rows(op, (j, terms) =>
      terms.reduce<Interval>(
        (acc, [s, i, w]) => {
          const r = x[s][i];
          return w >= 0n ? { lo: acc.lo + w * r.lo, hi: acc.hi + w * r.hi } : { lo: acc.lo + w * r.hi, hi: acc.hi + w * r.lo };
        },
        { lo: op.bias[j], hi: op.bias[j] },
      ),
    ),
  emit(op, ctx) {
    const n = op.bias.length;
    const statements = [`signal ${ctx.id}[${n}];`];
    rows(op, (j, terms) => {
      const parts = terms.map(([s, i, w]) => term(w, ctx.inputs[s][i]));
      if (op.bias[j] !== 0n || parts.length === 0) parts.push(String(op.bias[j]));
      statements.push(`${ctx.id}[${j}] <== ${balancedSum(parts)};`);
    });
    return { declarations: [], statements, outputs: Array.from({ length: n }, (_, j) => `${ctx.id}[${j}]`) };
  },
  // One linear constraint per output, which circom --O2 substitutes away.
  cost: (op) => ({ nonLinear: 0, linear: op.bias.length, floor: 0 }),
};

import { hull, scale } from './fixed_point.js';
import { balancedSum } from './circom_literals.js';
import type { Interval, MulOp, OpDef } from './types.js';

function product(a: Interval, b: Interval): Interval {
  return hull([scale(a, b.lo), scale(a, b.hi)]);
}

/** Products of two computed tensors (elementwise Mul, MatMul of computed operands): one constraint per product. */
export const mulDef: OpDef<MulOp> = {
  evaluate(op, [a, b]) {
    return op.rowStart.slice(0, -1).map((start, j) => {
      let acc = 0n;
      for (let p = start; p < op.rowStart[j + 1]; p++) acc += a[op.left[p]] * b[op.right[p]];
      return acc;
    });
  },
  bounds(op, [a, b]) {
    return op.rowStart.slice(0, -1).map((start, j) => {
      let acc: Interval = { lo: 0n, hi: 0n };
      for (let p = start; p < op.rowStart[j + 1]; p++) {
        const r = product(a[op.left[p]], b[op.right[p]]);
        acc = { lo: acc.lo + r.lo, hi: acc.hi + r.hi };
      }
      return acc;
    });
  },
  emit(op, ctx) {
    const pairs = op.left.length;
    const statements = [`signal ${ctx.id}_p[${pairs}];`, `signal ${ctx.id}[${op.rowStart.length - 1}];`];
    for (let p = 0; p < pairs; p++) statements.push(`${ctx.id}_p[${p}] <== (${ctx.inputs[0][op.left[p]]}) * (${ctx.inputs[1][op.right[p]]});`);
    op.rowStart.slice(0, -1).forEach((start, j) => {
      const terms = Array.from({ length: op.rowStart[j + 1] - start }, (_, k) => `${ctx.id}_p[${start + k}]`);
      statements.push(`${ctx.id}[${j}] <== ${terms.length ? balancedSum(terms) : '0'};`);
    });
    return { declarations: [], statements, outputs: Array.from({ length: op.rowStart.length - 1 }, (_, j) => `${ctx.id}[${j}]`) };
  },
  synthesize(op, { cs, inputs: [a, b] }) {
    return op.rowStart.slice(0, -1).map((start, j) => {
      const products = [];
      for (let p = start; p < op.rowStart[j + 1]; p++) products.push([cs.mul(a[op.left[p]], b[op.right[p]], 'product'), 1n] as const);
      return cs.sum(products);
    });
  },
  cost: (op) => ({ nonLinear: op.left.length, linear: op.rowStart.length - 1, floor: op.left.length }),
};

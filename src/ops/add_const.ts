import type { AddConstOp, OpDef } from './types.js';

/** Adds a constant vector: linear, no multiplication constraints. */
export const addConstDef: OpDef<AddConstOp> = {
  shape: (_op, input) => input,
  evaluate: (op, x) => x.map((v, i) => v + op.constant[i]),
  bounds: (op, x) => x.map((r, i) => ({ lo: r.lo + op.constant[i], hi: r.hi + op.constant[i] })),
  emit(op, ctx) {
    const n = op.constant.length;
    return {
      declarations: [],
      statements: [
        `signal ${ctx.id}[${n}];`,
        ...op.constant.map((c, i) => `${ctx.id}[${i}] <== ${ctx.input}[${i}] + ${c};`),
      ],
      signal: ctx.id,
    };
  },
  cost: (op) => ({ nonLinear: 0, linear: op.constant.length }),
};

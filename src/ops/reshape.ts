import type { OpDef, ReshapeOp } from './types.js';

/** Values are stored flat in row-major order, so a reshape re-indexes nothing and costs nothing. */
export const reshapeDef: OpDef<ReshapeOp> = {
  shape: (op) => op.shape,
  evaluate: (_op, x) => [...x],
  bounds: (_op, x) => [...x],
  emit: (_op, ctx) => ({ declarations: [], statements: [], signal: ctx.input }),
  cost: () => ({ nonLinear: 0, linear: 0 }),
};

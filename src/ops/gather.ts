import type { GatherOp, OpDef } from './types.js';

/**
 * Reshape, transpose, concat, pad, slice: the output elements are input elements (or constants)
 * in another order. The circuit re-indexes its expressions and emits nothing: cost 0.
 */
export const gatherDef: OpDef<GatherOp> = {
  evaluate: (op, x) => op.index.map((i, j) => (op.src[j] < 0 ? op.constant[j] : x[op.src[j]][i])),
  bounds: (op, x) => op.index.map((i, j) => (op.src[j] < 0 ? { lo: op.constant[j], hi: op.constant[j] } : x[op.src[j]][i])),
  emit: (op, ctx) => ({
    declarations: [],
    statements: [],
    outputs: op.index.map((i, j) => (op.src[j] < 0 ? String(op.constant[j]) : ctx.inputs[op.src[j]][i])),
  }),
  synthesize: (op, { cs, inputs }) => op.index.map((i, j) => (op.src[j] < 0 ? cs.constant(op.constant[j]) : inputs[op.src[j]][i])),
  cost: () => ({ nonLinear: 0, linear: 0, floor: 0 }),
};

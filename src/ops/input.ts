import { FixedPointRangeError } from '../errors.js';
import { size } from '../ir/graph.js';
import type { InputOp, OpDef } from './types.js';

/** Highest integer the circuit accepts: the range check admits exactly [lo, lo + 2^bits - 1]. */
export function inputMax(op: InputOp): bigint {
  return op.lo + (1n << BigInt(op.bits)) - 1n;
}

/** Model input, range-checked so that every later bound (and so every decomposition width) is sound. */
export const inputDef: OpDef<InputOp> = {
  evaluate(op, [x]) {
    const max = inputMax(op);
    x.forEach((v, i) => {
      if (v < op.lo || v > max) throw new FixedPointRangeError(op.source, i, v, op.lo, max);
    });
    return [...x];
  },
  bounds: (op) => Array.from({ length: size(op.shape) }, () => ({ lo: op.lo, hi: inputMax(op) })),
  emit(op, ctx) {
    const n = size(op.shape);
    const outputs = Array.from({ length: n }, (_, i) => `in[${op.offset + i}]`);
    return {
      declarations: [],
      statements: [`component ${ctx.id}[${n}];`, ...outputs.map((e, i) => `${ctx.id}[${i}] = InputRange(${op.lo}, ${op.bits}); ${ctx.id}[${i}].in <== ${e};`)],
      outputs,
    };
  },
  // InputRange(lo, bits): bits booleanity constraints + 1 linear recomposition.
  cost: (op) => ({ nonLinear: size(op.shape) * op.bits, linear: size(op.shape) * 2, floor: size(op.shape) * op.bits }),
};

import { FixedPointRangeError } from '../errors.js';
import { inputRange } from '../r1cs/gadgets.js';
import type { InputOp, OpDef } from './types.js';

/** Highest integer the circuit accepts for element i: the range check admits exactly [lo, lo + 2^bits - 1]. */
export function inputMax(op: InputOp, i: number): bigint {
  return op.lo[i] + (1n << BigInt(op.bits[i])) - 1n;
}

/**
 * Model input, range-checked element by element so that every later bound (and so every
 * decomposition width) is sound. Each element has its own window (a per-feature range from
 * `--input-range`), though usually they are all the same.
 */
export const inputDef: OpDef<InputOp> = {
  evaluate(op, [x]) {
    x.forEach((v, i) => {
      if (v < op.lo[i] || v > inputMax(op, i)) throw new FixedPointRangeError(op.source, i, v, op.lo[i], inputMax(op, i));
    });
    return [...x];
  },
  bounds: (op) => op.lo.map((lo, i) => ({ lo, hi: inputMax(op, i) })),
  emit(op, ctx) {
    const outputs = op.lo.map((_, i) => `in[${op.offset + i}]`);
    return {
      declarations: [],
      statements: [`component ${ctx.id}[${outputs.length}];`, ...outputs.map((e, i) => `${ctx.id}[${i}] = InputRange(${op.lo[i]}, ${op.bits[i]}); ${ctx.id}[${i}].in <== ${e};`)],
      outputs,
    };
  },
  synthesize(op, { cs, signals }) {
    return op.lo.map((lo, i) => {
      const x = signals.in[op.offset + i];
      inputRange(cs, x, lo, op.bits[i]);
      return x;
    });
  },
  // InputRange(lo, bits): bits booleanity constraints + 1 linear recomposition, per element.
  cost: (op) => {
    const bits = op.bits.reduce((a, b) => a + b, 0);
    return { nonLinear: bits, linear: op.bits.length * 2, floor: bits };
  },
};

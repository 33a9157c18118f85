import { FieldOverflowError, InvalidInputError } from '../errors.js';
import { roundShift } from '../r1cs/gadgets.js';
import { clampCost, clampValue, emitClamp, synthesizeClamp } from './clamp.js';
import { constArrayFunction } from './circom_literals.js';
import { MAX_DECOMPOSITION_BITS, rescaleBits, roundShift as roundShiftValue } from './fixed_point.js';
import type { Interval, OpDef, RequantOp } from './types.js';

/** The scaled accumulator M_j x + C_j's range for x in r (M_j > 0). */
function scaled(op: RequantOp, j: number, r: Interval): Interval {
  return { lo: op.multiplier[j] * r.lo + op.offset[j], hi: op.multiplier[j] * r.hi + op.offset[j] };
}

function check(op: RequantOp, n: number): void {
  if (op.multiplier.length !== n || op.offset.length !== n) throw new InvalidInputError(`requant ${op.output}: ${op.multiplier.length} multipliers and ${op.offset.length} offsets for ${n} elements`);
  if (op.multiplier.some((m) => m <= 0n)) throw new InvalidInputError(`requant ${op.output}: multipliers must be positive`);
  if (!Number.isInteger(op.shift) || op.shift < 0) throw new InvalidInputError(`requant ${op.output}: the shift must be a non-negative integer, not ${op.shift}`);
  if (op.even && op.shift < 1) throw new InvalidInputError(`requant ${op.output}: ties to even needs a shift of at least 1`);
  if (op.lo > op.hi) throw new InvalidInputError(`requant ${op.output}: empty output range [${op.lo}, ${op.hi}]`);
}

/** Decomposition width of each element's RoundShift, from its bounds. */
function widths(op: RequantOp, x: readonly Interval[]): number[] {
  check(op, x.length);
  return x.map((r, j) => {
    const bits = rescaleBits(scaled(op, j, r), op.shift);
    if (bits > MAX_DECOMPOSITION_BITS) throw new FieldOverflowError(op.output, bits);
    return bits;
  });
}

const rounded = (op: RequantOp, j: number, v: bigint) => roundShiftValue(op.multiplier[j] * v + op.offset[j], op.shift, op.even);

/** The range of element j after rounding, before saturation: what the clamp's comparisons are sized for. */
const roundedRange = (op: RequantOp, j: number, r: Interval): Interval => ({ lo: rounded(op, j, r.lo), hi: rounded(op, j, r.hi) });

/**
 * Requantization of an int8 model (src/quant): clamp(roundShift(M_j x + C_j, shift, even), lo, hi).
 * The product by the constant M_j is linear; one RoundShift (circuits/round_shift.circom) divides
 * and rounds, and Max2 comparisons saturate where the range can reach lo or hi.
 */
export const requantDef: OpDef<RequantOp> = {
  evaluate: (op, [x]) => {
    check(op, x.length);
    return x.map((v, j) => clampValue(op, rounded(op, j, v)));
  },
  bounds: (op, [x]) => {
    check(op, x.length);
    return x.map((r, j) => {
      const q = roundedRange(op, j, r);
      return { lo: clampValue(op, q.lo), hi: clampValue(op, q.hi) };
    });
  },
  emit(op, ctx) {
    const w = widths(op, ctx.bounds[0]);
    const n = w.length;
    const statements = [
      `component ${ctx.id}[${n}];`,
      `var ${ctx.id}_width[${n}] = ${ctx.id}_bits();`,
      `for (var i = 0; i < ${n}; i++) ${ctx.id}[i] = RoundShift(${ctx.id}_width[i], ${op.shift}, ${op.even ? 1 : 0});`,
      ...ctx.inputs[0].map((e, j) => `${ctx.id}[${j}].in <== ${op.multiplier[j]} * (${e}) + ${op.offset[j]};`),
    ];
    const outputs = ctx.bounds[0].map((r, j) => emitClamp(op, `${ctx.id}_`, j, `${ctx.id}[${j}].out`, roundedRange(op, j, r), statements));
    return { declarations: [constArrayFunction(`${ctx.id}_bits`, w)], statements, outputs };
  },
  synthesize(op, { cs, inputs, bounds }) {
    const w = widths(op, bounds[0]);
    return inputs[0].map((x, j) => {
      const q = roundShift(cs, x.scale(op.multiplier[j]).addConst(op.offset[j]), w[j], op.shift, op.even);
      return synthesizeClamp(cs, op, q, roundedRange(op, j, bounds[0][j]));
    });
  },
  // RoundShift(bits, shift, even): bits booleanity + 3 when even; then the clamp's Max2s.
  cost(op, [x]) {
    const w = widths(op, x);
    const bits = w.reduce((a, b) => a + b, 0);
    const clamp = clampCost(op, x.map((r, j) => roundedRange(op, j, r)));
    return { nonLinear: bits + (op.even ? 3 * w.length : 0) + clamp.nonLinear, linear: 2 * w.length + clamp.linear, floor: bits + clamp.floor };
  },
};

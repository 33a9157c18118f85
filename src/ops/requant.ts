import { FieldOverflowError, InvalidInputError } from '../errors.js';
import { roundDiv, roundShift } from '../r1cs/gadgets.js';
import { clampCost, clampValue, emitClamp, synthesizeClamp } from './clamp.js';
import { constArrayFunction } from './circom_literals.js';
import { MAX_DECOMPOSITION_BITS, maxAbs, rescaleBits, roundDiv as roundDivValue, roundShift as roundShiftValue, signedBits, unsignedBits } from './fixed_point.js';
import type { Interval, OpDef, RequantOp } from './types.js';

/** The scaled accumulator M_j x + C_j's range for x in r (M_j > 0). */
function scaled(op: RequantOp, j: number, r: Interval): Interval {
  return { lo: op.multiplier[j] * r.lo + op.offset[j], hi: op.multiplier[j] * r.hi + op.offset[j] };
}

/** Element j's exact divisor, when it has one (RoundDiv, ties to even), else undefined (RoundShift by 2^shift). */
function denominator(op: RequantOp, j: number): bigint | undefined {
  const d = op.divisor?.[j] ?? 1n;
  return d > 1n ? d : undefined;
}

function check(op: RequantOp, n: number): void {
  if (op.multiplier.length !== n || op.offset.length !== n) throw new InvalidInputError(`requant ${op.output}: ${op.multiplier.length} multipliers and ${op.offset.length} offsets for ${n} elements`);
  if (op.multiplier.some((m) => m <= 0n)) throw new InvalidInputError(`requant ${op.output}: multipliers must be positive`);
  if (!Number.isInteger(op.shift) || op.shift < 0) throw new InvalidInputError(`requant ${op.output}: the shift must be a non-negative integer, not ${op.shift}`);
  if (op.divisor && (op.divisor.length !== n || op.divisor.some((d) => d < 1n))) throw new InvalidInputError(`requant ${op.output}: one divisor of at least 1 per element`);
  if (op.even && op.shift < 1 && op.multiplier.some((_, j) => denominator(op, j) === undefined)) throw new InvalidInputError(`requant ${op.output}: ties to even needs a shift of at least 1`);
  if (op.lo > op.hi) throw new InvalidInputError(`requant ${op.output}: empty output range [${op.lo}, ${op.hi}]`);
}

type Width = { kind: 'shift'; bits: number } | { kind: 'div'; d: bigint; qBits: number; rBits: number };

/** Each element's gadget and its widths, from its bounds. */
function widths(op: RequantOp, x: readonly Interval[]): Width[] {
  check(op, x.length);
  return x.map((r, j): Width => {
    const v = scaled(op, j, r);
    const d = denominator(op, j);
    if (d === undefined) {
      const bits = rescaleBits(v, op.shift);
      if (bits > MAX_DECOMPOSITION_BITS) throw new FieldOverflowError(op.output, bits);
      return { kind: 'shift', bits };
    }
    const q = { lo: roundDivValue(v.lo, d, false), hi: roundDivValue(v.hi, d, false) };
    const w: Width = { kind: 'div', d, qBits: signedBits(q), rBits: unsignedBits(2n * d - 1n) };
    // RoundDiv's precondition: every term of 2 in + d = 2 d q + r far below the field.
    const top = 2n * maxAbs(v) + d + 2n * d * (1n << BigInt(w.qBits));
    if (top.toString(2).length > 250 || w.qBits + w.rBits > 250) throw new FieldOverflowError(op.output, top.toString(2).length);
    return w;
  });
}

const rounded = (op: RequantOp, j: number, v: bigint) => {
  const d = denominator(op, j);
  const t = op.multiplier[j] * v + op.offset[j];
  return d === undefined ? roundShiftValue(t, op.shift, op.even) : roundDivValue(t, d, true);
};

/** The range of element j after rounding, before saturation: what the clamp's comparisons are sized for. */
const roundedRange = (op: RequantOp, j: number, r: Interval): Interval => ({ lo: rounded(op, j, r.lo), hi: rounded(op, j, r.hi) });

/**
 * Requantization of an int8 model (src/quant): clamp(round((M_j x + C_j) / 2^shift), lo, hi), or
 * with an exact divisor d_j for element j, clamp(round_half_even((M_j x + C_j) / d_j), lo, hi).
 * The product by the constant M_j is linear; one RoundShift (circuits/round_shift.circom), or a
 * RoundDiv (round_div.circom), divides and rounds, and Max2 comparisons saturate where the range
 * can reach lo or hi.
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
    const shifts = w.flatMap((x, j) => (x.kind === 'shift' ? [j] : []));
    const divs = w.flatMap((x, j) => (x.kind === 'div' ? [j] : []));
    const at = new Map([...shifts.map((j, k) => [j, `${ctx.id}[${k}]`] as const), ...divs.map((j, k) => [j, `${ctx.id}_d[${k}]`] as const)]);
    const declarations: string[] = [];
    const statements: string[] = [];
    const even = op.even ? 1 : 0; // RoundShift's; RoundDiv elements always round ties to even
    if (shifts.length) {
      declarations.push(constArrayFunction(`${ctx.id}_bits`, shifts.map((j) => (w[j] as { bits: number }).bits)));
      statements.push(`component ${ctx.id}[${shifts.length}];`, `var ${ctx.id}_width[${shifts.length}] = ${ctx.id}_bits();`, `for (var i = 0; i < ${shifts.length}; i++) ${ctx.id}[i] = RoundShift(${ctx.id}_width[i], ${op.shift}, ${even});`);
    }
    if (divs.length) {
      const ws = divs.map((j) => w[j] as Extract<Width, { kind: 'div' }>);
      declarations.push(constArrayFunction(`${ctx.id}_dq`, ws.map((x) => x.qBits)), constArrayFunction(`${ctx.id}_dr`, ws.map((x) => x.rBits)), constArrayFunction(`${ctx.id}_dd`, ws.map((x) => x.d)));
      const n = divs.length;
      statements.push(`component ${ctx.id}_d[${n}];`, `var ${ctx.id}_q[${n}] = ${ctx.id}_dq();`, `var ${ctx.id}_r[${n}] = ${ctx.id}_dr();`, `var ${ctx.id}_dv[${n}] = ${ctx.id}_dd();`, `for (var i = 0; i < ${n}; i++) ${ctx.id}_d[i] = RoundDiv(${ctx.id}_q[i], ${ctx.id}_r[i], ${ctx.id}_dv[i], 1);`);
    }
    statements.push(...ctx.inputs[0].map((e, j) => `${at.get(j)}.in <== ${op.multiplier[j]} * (${e}) + ${op.offset[j]};`));
    const outputs = ctx.bounds[0].map((r, j) => emitClamp(op, `${ctx.id}_`, j, `${at.get(j)}.out`, roundedRange(op, j, r), statements));
    return { declarations, statements, outputs };
  },
  synthesize(op, { cs, inputs, bounds }) {
    const w = widths(op, bounds[0]);
    return inputs[0].map((x, j) => {
      const v = x.scale(op.multiplier[j]).addConst(op.offset[j]);
      const wj = w[j];
      const q = wj.kind === 'shift' ? roundShift(cs, v, wj.bits, op.shift, op.even) : roundDiv(cs, v, wj.d, wj.qBits, wj.rBits, true);
      return synthesizeClamp(cs, op, q, roundedRange(op, j, bounds[0][j]));
    });
  },
  // RoundShift(bits, shift, even): bits booleanity (+ 3 when even); RoundDiv: qBits + 2 rBits + 3; then the clamp's Max2s.
  cost(op, [x]) {
    const w = widths(op, x);
    const bits = w.reduce((a, e) => a + (e.kind === 'shift' ? e.bits : e.qBits + 2 * e.rBits), 0);
    const ties = w.reduce((a, e) => a + (e.kind === 'div' || op.even ? 3 : 0), 0);
    const clamp = clampCost(op, x.map((r, j) => roundedRange(op, j, r)));
    const linear = w.reduce((a, e) => a + (e.kind === 'shift' ? 2 : 3), 0);
    return { nonLinear: bits + ties + clamp.nonLinear, linear: linear + clamp.linear, floor: bits + clamp.floor };
  },
};

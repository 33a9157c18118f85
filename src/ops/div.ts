import { FieldOverflowError, FixedPointRangeError } from '../errors.js';
import { componentArray } from './circom_literals.js';
import { divRound, MAX_DECOMPOSITION_BITS, maxAbs, signedBits, unsignedBits } from './fixed_point.js';
import { divRound as divRoundGadget } from '../r1cs/gadgets.js';
import type { DivOp, Interval, OpDef } from './types.js';

/** The divisor's range as the constraints enforce it: at least 1. */
function divisor(b: Interval): Interval {
  const lo = b.lo < 1n ? 1n : b.lo;
  return { lo, hi: b.hi < lo ? lo : b.hi };
}

function quotientRange(op: DivOp, a: Interval, b: Interval): Interval {
  const d = divisor(b);
  // round(a * 2^shift / b) is monotone in a for fixed b, and between the values at b.lo and b.hi.
  const at = [a.lo, a.hi].flatMap((x) => [d.lo, d.hi].map((y) => divRound(x, y, op.shift)));
  const r = { lo: at.reduce((m, v) => (v < m ? v : m)), hi: at.reduce((m, v) => (v > m ? v : m)) };
  if (op.quotientBits === undefined) return r;
  const half = 1n << BigInt(op.quotientBits - 1);
  return { lo: r.lo > -half ? r.lo : -half, hi: r.hi < half - 1n ? r.hi : half - 1n };
}

function evaluate(op: DivOp, [a, b]: readonly bigint[][]): bigint[] {
  const half = op.quotientBits === undefined ? undefined : 1n << BigInt(op.quotientBits - 1);
  return op.left.map((l, j) => {
    const d = b[op.right[j]];
    if (d < 1n) throw new FixedPointRangeError(op.output, j, d, 1n, d, `the divisor of ${op.source} must be at least 1 (a zero standard deviation or sum)`);
    const q = divRound(a[l], d, op.shift);
    if (half !== undefined && (q < -half || q >= half)) throw new FixedPointRangeError(op.output, j, q, -half, half - 1n, `the quotient of ${op.source} is outside the range its structure allows`);
    return q;
  });
}

/** [qBits, rBits] of each element's DivRound. */
function widths(op: DivOp, [a, b]: readonly (readonly Interval[])[]): [number, number][] {
  return op.left.map((l, j) => {
    const q = quotientRange(op, a[l], b[op.right[j]]);
    if (q.lo > q.hi) throw new FixedPointRangeError(op.output, j, q.lo, q.lo, q.hi, `no quotient of ${op.source} fits its enforced range`);
    const qBits = signedBits(q);
    const d = divisor(b[op.right[j]]);
    const rBits = unsignedBits(2n * d.hi - 1n);
    // Every term of 2a 2^shift + b (1 + 2^qBits) = 2b qo + r must stay far below p, so that the
    // one product constraint holds over the integers: a capped quotient does not bound a.
    const num = maxAbs(a[l]) * (1n << BigInt(op.shift + 1)) + d.hi * (1n + (1n << BigInt(qBits)));
    const width = Math.max(qBits + rBits, num.toString(2).length + 1);
    if (width > MAX_DECOMPOSITION_BITS - 2) throw new FieldOverflowError(op.output, width);
    return [qBits, rBits];
  });
}

/**
 * Division by a computed tensor, rounding half up (circuits/div_round.circom): softmax's
 * normalisation and LayerNorm's division by the standard deviation. One product and three range
 * decompositions per element; the divisor is proved to be at least 1.
 */
export const divDef: OpDef<DivOp> = {
  evaluate,
  bounds: (op, [a, b]) => op.left.map((l, j) => quotientRange(op, a[l], b[op.right[j]])),
  emit(op, ctx) {
    const w = widths(op, ctx.bounds as Interval[][]);
    const c = componentArray(ctx.id, 'DivRound', [['q', w.map(([q]) => q)], ['r', w.map(([, r]) => r)]], [op.shift]);
    return {
      declarations: c.declarations,
      statements: [...c.statements, ...op.left.map((l, j) => `${ctx.id}[${j}].a <== ${ctx.inputs[0][l]}; ${ctx.id}[${j}].b <== ${ctx.inputs[1][op.right[j]]};`)],
      outputs: w.map((_, j) => `${ctx.id}[${j}].out`),
    };
  },
  synthesize(op, { cs, inputs: [a, b], bounds }) {
    const w = widths(op, bounds);
    return op.left.map((l, j) => divRoundGadget(cs, a[l], b[op.right[j]], w[j][0], w[j][1], op.shift));
  },
  // DivRound(qBits, rBits, shift): qBits + 2 rBits booleanity + 1 product; 3 linear.
  // Floor: the quotient and the remainder's two bounds must be range-checked in any encoding.
  cost(op, x) {
    const w = widths(op, x);
    const bits = w.reduce((acc, [q, r]) => acc + q + 2 * r, 0);
    return { nonLinear: bits + w.length, linear: 3 * w.length, floor: bits };
  },
};

import type { Interval } from './types.js';

/**
 * Fixed-point arithmetic shared by the integer reference and bound analysis. Every function here
 * is the specification of a circuit template in circuits/ (named in its comment).
 */

/** floor((x + 2^(shift-1)) / 2^shift): round half up. Spec of circuits/rescale_relu.circom. */
export function rescale(x: bigint, shift: number): bigint {
  if (shift === 0) return x;
  return (x + (1n << BigInt(shift - 1))) >> BigInt(shift);
}

/**
 * v / 2^shift rounded to the nearest integer, ties to even when `even` (as ONNX QuantizeLinear
 * rounds), else ties up: floor(t / 2^shift) with t = v + 2^(shift-1), minus 1 when t is a multiple
 * of 2^shift (a tie) and that quotient is odd. Spec of circuits/round_shift.circom.
 */
export function roundShift(v: bigint, shift: number, even: boolean): bigint {
  const q = rescale(v, shift);
  if (!even || shift === 0 || (q & 1n) === 0n) return q;
  const tie = ((v + (1n << BigInt(shift - 1))) & ((1n << BigInt(shift)) - 1n)) === 0n;
  return tie ? q - 1n : q;
}

/**
 * v / d rounded to the nearest integer, ties to even when `even`, else up, for a constant d >= 1:
 * q = floor((2v + d) / 2d) with remainder r = 2v + d - 2dq, minus 1 at a tie (r = 0) when q is odd.
 * Spec of circuits/round_div.circom (and of round_shift.circom when d = 2^shift).
 */
export function roundDiv(v: bigint, d: bigint, even: boolean): bigint {
  const t = 2n * v + d;
  const m = 2n * d;
  const q = t / m - (t % m !== 0n && t < 0n ? 1n : 0n);
  return even && t - m * q === 0n && (q & 1n) === 1n ? q - 1n : q;
}

export function relu(x: bigint): bigint {
  return x > 0n ? x : 0n;
}

/** Bits of the two's-complement window [-2^(b-1), 2^(b-1)) needed to hold every value in `range`. */
export function signedBits(range: Interval): number {
  let bits = 1;
  while (-(1n << BigInt(bits - 1)) > range.lo || (1n << BigInt(bits - 1)) - 1n < range.hi) bits++;
  return bits;
}

/** Bits of the unsigned window [0, 2^b) holding every value of a nonnegative span. */
export function unsignedBits(span: bigint): number {
  let bits = 1;
  while ((1n << BigInt(bits)) - 1n < span) bits++;
  return bits;
}

/**
 * Decomposition width RescaleRelu(bits, shift) needs for an accumulator in `range`:
 * acc + 2^(shift-1) must lie in [-2^(bits-1), 2^(bits-1)), and bits > shift.
 */
export function rescaleBits(range: Interval, shift: number): number {
  const half = shift === 0 ? 0n : 1n << BigInt(shift - 1);
  return Math.max(shift + 1, signedBits({ lo: range.lo + half, hi: range.hi + half }));
}

/**
 * Widest decomposition that is sound in BN254: a sum of b bits is < 2^b < p, so the bits of a
 * field element below 2^b are unique. 252 leaves room for the offsets added before decomposing.
 */
export const MAX_DECOMPOSITION_BITS = 252;

export function maxAbs(r: Interval): bigint {
  const a = r.lo < 0n ? -r.lo : r.lo;
  const b = r.hi < 0n ? -r.hi : r.hi;
  return a > b ? a : b;
}

/** Width of the decomposition that compares a and b (the sign of a - b + offset) for all inputs in range. */
export function compareBits(a: Interval, b: Interval, offset = 0n): number {
  return signedBits({ lo: a.lo - b.hi + offset, hi: a.hi - b.lo + offset });
}

export function hull(ranges: readonly Interval[]): Interval {
  return ranges.reduce((acc, r) => ({ lo: r.lo < acc.lo ? r.lo : acc.lo, hi: r.hi > acc.hi ? r.hi : acc.hi }));
}

/** Range of c * x for x in r. */
export function scale(r: Interval, c: bigint): Interval {
  const a = r.lo * c;
  const b = r.hi * c;
  return a <= b ? { lo: a, hi: b } : { lo: b, hi: a };
}

/** floor(sqrt(n)) for n >= 0, exact for any size (Newton's method on integers). Spec of circuits/isqrt.circom. */
export function floorSqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError(`square root of a negative value ${n}`);
  if (n < 2n) return n;
  let x = n;
  let y = (x + 1n) >> 1n;
  while (y < x) {
    x = y;
    y = (x + n / x) >> 1n;
  }
  return x;
}

/**
 * round(a * 2^shift / b), half up, for b >= 1: floor((a * 2^(shift+1) + b) / (2b)) with floor
 * division (also for negative a). Spec of circuits/div_round.circom.
 */
export function divRound(a: bigint, b: bigint, shift: number): bigint {
  if (b < 1n) throw new RangeError(`division by ${b}: the divisor must be at least 1`);
  const n = (a << BigInt(shift + 1)) + b;
  const d = 2n * b;
  const q = n / d;
  return n % d < 0n ? q - 1n : q;
}

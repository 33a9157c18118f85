/**
 * Exact requantization parameters. An int8 model's QuantizeLinear after an integer accumulator A
 * computes y = round(f A + o) with ties to even, for rational f > 0 and o that come from its float32
 * scales and zero points (every float32 is a dyadic rational, so f and o are exact). The circuit's
 * `requant` op (src/ops/requant.ts) computes roundShift(M A + C, shift, even) (then saturates).
 * requantParams picks M, C, shift and even so that the two agree for EVERY integer A in the
 * accumulator's bound, not just on average:
 *
 * Write f A + o = (P A + R) / Q over one denominator Q (reduced).
 * - Q = 2^k: M = P, C = R, shift = k is the same number; ties (f A + o = j + 1/2) round to even
 *   (`even`, 3 constraints per element) where one can occur in the bound, else half up is identical.
 * - otherwise: with 2^shift > Q (max|A| + 1), M = round(P 2^shift / Q) and C = round(R 2^shift / Q)
 *   make (M A + C) / 2^shift differ from f A + o by at most (|A| + 1) / 2^(shift+1) < 1 / (2Q),
 *   while f A + o + 1/2, a multiple of 1/(2Q), is at least 1/(2Q) from an integer unless it is one.
 *   So rounding half up agrees wherever f A + o is not a tie. A tie (2PA + 2R + Q = 0 mod 2Q) is
 *   a linear congruence, solved exactly for the bound: if one can occur the model is refused (its
 *   rounding would depend on the approximation's sign there).
 */
import { UnsupportedModelError } from '../errors.js';
import type { Interval } from '../ops/types.js';

/** n / d with d > 0. */
export interface Rational {
  n: bigint;
  d: bigint;
}

export interface RequantParams {
  multiplier: bigint;
  offset: bigint;
  shift: number;
  even: boolean;
}

const abs = (x: bigint) => (x < 0n ? -x : x);

function gcd(a: bigint, b: bigint): bigint {
  a = abs(a);
  b = abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

export function rational(n: bigint, d = 1n): Rational {
  if (d === 0n) throw new RangeError('zero denominator');
  const s = d < 0n ? -1n : 1n;
  const g = gcd(n, d) || 1n;
  return { n: (s * n) / g, d: (s * d) / g };
}

/** A finite double as the exact rational it is (float32 scales read from ONNX are exact doubles). */
export function rationalOf(x: number): Rational {
  if (!Number.isFinite(x)) throw new RangeError(`${x} is not finite`);
  if (x === 0) return { n: 0n, d: 1n };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mantissa = exp === 0 ? frac : frac | (1n << 52n);
  const e = (exp === 0 ? 1 : exp) - 1075;
  return e >= 0 ? rational(sign * mantissa * (1n << BigInt(e))) : rational(sign * mantissa, 1n << BigInt(-e));
}

/** round(n / d), ties to even: the rounding QuantizeLinear specifies. */
export function roundHalfEven(r: Rational): bigint {
  const f = floorDiv(r.n, r.d);
  const twice = 2n * (r.n - f * r.d);
  if (twice < r.d) return f;
  if (twice > r.d) return f + 1n;
  return f % 2n === 0n ? f : f + 1n;
}

/** Whether some integer A in [lo, hi] solves a A = b (mod m), m > 0. */
function congruenceHits(a: bigint, b: bigint, m: bigint, lo: bigint, hi: bigint): boolean {
  const g = gcd(a, m);
  if (((b % g) + g) % g !== 0n) return false;
  const m2 = m / g;
  // A = (b/g) (a/g)^-1 (mod m2)
  const inv = modInverse(((a / g) % m2 + m2) % m2, m2);
  const a0 = (((b / g) % m2) * inv % m2 + m2) % m2;
  const first = lo + (((a0 - lo) % m2) + m2) % m2;
  return first <= hi;
}

function modInverse(a: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  let [r0, r1, s0, s1] = [a, m, 1n, 0n];
  while (r1) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

const isPowerOfTwo = (x: bigint) => x > 0n && (x & (x - 1n)) === 0n;
const log2 = (x: bigint) => x.toString(2).length - 1;

/**
 * M, C, shift and even such that roundShift(M A + C, shift, even) = round(f A + o) (ties to even)
 * for every integer A in `range`; `node` names the model node in the error a possible tie raises.
 */
export function requantParams(fIn: Rational, oIn: Rational, range: Interval, node: string): RequantParams {
  const f = rational(fIn.n, fIn.d);
  const o = rational(oIn.n, oIn.d);
  if (f.n <= 0n) throw new UnsupportedModelError('QuantizeLinear', node, 'the requantization multiplier must be positive');
  const Q = (f.d / gcd(f.d, o.d)) * o.d;
  const P = f.n * (Q / f.d);
  const R = o.n * (Q / o.d);
  // A tie: (P A + R) / Q = j + 1/2, i.e. 2 P A = -(2R + Q) (mod 2Q).
  const tie = congruenceHits(2n * P, -(2n * R + Q), 2n * Q, range.lo, range.hi);
  if (isPowerOfTwo(Q)) return { multiplier: P, offset: R, shift: log2(Q), even: tie && Q > 1n };
  if (tie) {
    throw new UnsupportedModelError('QuantizeLinear', node, `an accumulator in [${range.lo}, ${range.hi}] lands exactly halfway between two outputs, with a multiplier whose denominator (${Q}) is not a power of two: its rounding cannot be made exact with a fixed-point multiplier`);
  }
  const maxAbs = abs(range.lo) > abs(range.hi) ? abs(range.lo) : abs(range.hi);
  const shift = log2(Q * (maxAbs + 1n)) + 1; // 2^shift > Q (max|A| + 1)
  const scale = 1n << BigInt(shift);
  const nearest = (n: bigint) => floorDiv(2n * n * scale + Q, 2n * Q); // round(n 2^shift / Q), half up
  return { multiplier: nearest(P), offset: nearest(R), shift, even: false };
}

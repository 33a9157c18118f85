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
 *   a linear congruence, solved exactly for the bound: where one can occur, the element divides by
 *   Q exactly instead (`divisor`: RoundDiv, whose remainder shows the tie).
 */
import { UnsupportedModelError } from '../errors.js';
import type { Interval } from '../ops/types.js';
import { abs, floorDiv, gcd, rational, type Rational } from './rational.js';

export { rational, rationalOf, type Rational } from './rational.js';

export interface RequantParams {
  multiplier: bigint;
  offset: bigint;
  shift: number;
  even: boolean;
  /** An exact divisor (RoundDiv) where a fixed-point multiplier cannot be exact: a reachable tie with a denominator that is not a power of two. */
  divisor?: bigint;
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

/** How the accumulator is made: A = bias + sum of weight[t] x_t, each x_t in range[t] (a linear op's row). */
export interface AccumulatorTerms {
  weight: readonly bigint[];
  range: readonly Interval[];
  bias: bigint;
}

/** Enumerations longer than this are not made (the interval's answer stands). */
const MAX_RESIDUES = 1 << 16;

/**
 * Whether a (bias + sum w_t x_t) + b = 0 (mod m) for some x_t in their ranges: the residues of all
 * but the last term are enumerated (deduplicated mod m), the last solved as a congruence; undefined
 * when there are too many.
 */
function tieReachable(a: bigint, b: bigint, m: bigint, terms: AccumulatorTerms): boolean | undefined {
  const n = terms.weight.length;
  let residues = new Set<bigint>([mod(a * terms.bias + b, m)]);
  let work = 0n;
  for (let t = 0; t < n - 1; t++) {
    // Every residue already occurs: the last term reaches 0 from one of them.
    if (BigInt(residues.size) === m) return true;
    const r = terms.range[t];
    work += (r.hi - r.lo + 1n) * BigInt(residues.size);
    if (work > BigInt(MAX_RESIDUES)) return undefined;
    const step = mod(a * terms.weight[t], m);
    const next = new Set<bigint>();
    for (const s of residues) for (let x = r.lo; x <= r.hi; x++) next.add(mod(s + step * x, m));
    residues = next;
  }
  if (n === 0) return residues.has(0n);
  const last = terms.range[n - 1];
  const step = mod(a * terms.weight[n - 1], m);
  for (const s of residues) if (congruenceHits(step, -s, m, last.lo, last.hi)) return true;
  return false;
}

/**
 * M, C, shift and even such that roundShift(M A + C, shift, even) = round(f A + o) (ties to even)
 * for every integer A in `range`; `node` names the model node in the error a possible tie raises.
 */
export function requantParams(fIn: Rational, oIn: Rational, range: Interval, node: string, terms?: readonly AccumulatorTerms[]): RequantParams {
  const f = rational(fIn.n, fIn.d);
  const o = rational(oIn.n, oIn.d);
  if (f.n <= 0n) throw new UnsupportedModelError('QuantizeLinear', node, 'the requantization multiplier must be positive');
  const Q = (f.d / gcd(f.d, o.d)) * o.d;
  const P = f.n * (Q / f.d);
  const R = o.n * (Q / o.d);
  // A tie: (P A + R) / Q = j + 1/2, i.e. 2 P A = -(2R + Q) (mod 2Q).
  let tie = congruenceHits(2n * P, -(2n * R + Q), 2n * Q, range.lo, range.hi);
  // The interval may hold ties that no accumulator reaches (an Add of two scales has huge weights):
  // where A's terms are few, the accumulators that can occur are checked instead.
  // (`terms`: the ways A is made, e.g. each row of a max pool's window; a tie of any counts.)
  if (tie && !isPowerOfTwo(Q) && terms) tie = terms.some((t) => tieReachable(2n * P, 2n * R + Q, 2n * Q, t) ?? true);
  if (isPowerOfTwo(Q)) return { multiplier: P, offset: R, shift: log2(Q), even: tie && Q > 1n };
  // A reachable tie: no fixed-point multiplier rounds it exactly (the approximation's sign would
  // decide), so this element divides exactly by Q instead (RoundDiv: about 2 log2(Q) more bits).
  if (tie) return { multiplier: P, offset: R, shift: 0, even: true, divisor: Q };
  const maxAbs = abs(range.lo) > abs(range.hi) ? abs(range.lo) : abs(range.hi);
  const shift = leastExactShift(P, R, Q, range, maxAbs);
  const scale = 1n << BigInt(shift);
  const nearest = (n: bigint) => floorDiv(2n * n * scale + Q, 2n * Q); // round(n 2^shift / Q), half up
  return { multiplier: nearest(P), offset: nearest(R), shift, even: false };
}

/**
 * The least shift at which rounding half up of (M A + C) / 2^shift equals rounding of
 * (P A + R) / Q for every A in the range (no A is a tie). The approximation is off by at most
 * (max|A| + 1) / 2^(shift+1); it is exact wherever that is less than the distance d_A of
 * (P A + R) / Q from the nearest half-integer. d_A = min(r, 2Q - r) / 2Q with
 * r = (2P A + 2R + Q) mod 2Q, so the shift is exact iff no A has r in [1, T] or [2Q - T, 2Q - 1],
 * T = floor((max|A| + 1) 2Q / 2^(shift+1)). That is monotone in the shift: a binary search between
 * the bound every A satisfies (2^shift > Q (max|A| + 1), as d_A >= 1/2Q) and max|A|'s own width.
 */
function leastExactShift(P: bigint, R: bigint, Q: bigint, range: Interval, maxAbs: bigint): number {
  const m = 2n * Q;
  const a = mod(2n * P, m);
  const b = mod(2n * P * range.lo + 2n * R + Q, m); // r at A = range.lo
  const n = range.hi - range.lo + 1n; // A = range.lo + x, 0 <= x < n
  const reaches = (lo: bigint, hi: bigint) => {
    // some x with (a x + b) mod m in [lo, hi], i.e. a x mod m in [lo - b, hi - b] (mod m)
    const [l, h] = [mod(lo - b, m), mod(hi - b, m)];
    const below = (x: bigint) => x >= 0n && x < n;
    return l <= h ? below(firstMultipleIn(a, m, l, h)) : below(firstMultipleIn(a, m, l, m - 1n)) || below(firstMultipleIn(a, m, 0n, h));
  };
  const exactAt = (shift: number) => {
    const t = ((maxAbs + 1n) * m) >> BigInt(shift + 1);
    if (2n * t >= m) return false;
    return t === 0n || (!reaches(1n, t) && !reaches(m - t, m - 1n));
  };
  let hi = log2(Q * (maxAbs + 1n)) + 1; // always exact
  let lo = log2(maxAbs + 1n);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (exactAt(mid)) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}

const mod = (x: bigint, m: bigint) => ((x % m) + m) % m;

/**
 * The least x >= 0 with lo <= (a x) mod m <= hi (0 <= lo <= hi < m), or -1: Euclid's recursion on
 * (a, m). If no multiple of a lies in [lo, hi] directly, a solution must wrap y times, and the least
 * such y solves the same problem for (m mod a, a).
 */
export function firstMultipleIn(a: bigint, m: bigint, lo: bigint, hi: bigint): bigint {
  a = mod(a, m);
  if (lo === 0n) return 0n;
  if (a === 0n) return -1n;
  const x = (lo + a - 1n) / a;
  if (a * x <= hi) return x;
  const y = firstMultipleIn(m % a, a, mod(-hi, a), mod(-lo, a));
  if (y < 0n) return -1n;
  return (lo + m * y + a - 1n) / a;
}

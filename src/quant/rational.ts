/**
 * Exact rational arithmetic on bigints: an int8 model's float32 scales and zero points are dyadic
 * rationals, and its requantization is defined over them (src/quant/requant_params.ts, qdq.ts).
 */

/** n / d with d > 0. */
export interface Rational {
  n: bigint;
  d: bigint;
}

export const abs = (x: bigint) => (x < 0n ? -x : x);

export function gcd(a: bigint, b: bigint): bigint {
  a = abs(a);
  b = abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

export function floorDiv(a: bigint, b: bigint): bigint {
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

export const mulR = (a: Rational, b: Rational): Rational => rational(a.n * b.n, a.d * b.d);
export const addR = (a: Rational, b: Rational): Rational => rational(a.n * b.d + b.n * a.d, a.d * b.d);
export const divR = (a: Rational, b: Rational): Rational => rational(a.n * b.d, a.d * b.n);
export const sameR = (a: Rational, b: Rational): boolean => a.n * b.d === b.n * a.d;
export const ZERO: Rational = { n: 0n, d: 1n };
export const ONE: Rational = { n: 1n, d: 1n };

/** The largest rational g such that x / g is an integer for every x (gcd of numerators over lcm of denominators). */
export function gcdR(xs: readonly Rational[]): Rational {
  let n = 0n;
  let d = 1n;
  for (const x of xs) {
    if (x.n === 0n) continue;
    n = gcd(n, x.n);
    d = (d / gcd(d, x.d)) * x.d;
  }
  return n === 0n ? ONE : rational(n, d);
}

/** x as a double (correctly rounded for the magnitudes a model's scales take). */
export function toDouble(x: Rational): number {
  return Number(x.n) / Number(x.d);
}

/** The rounding the requantization tests hold the code to, written out independently of it. */

/** round(n / d) over the rationals, ties to even (or up), d > 0: the specification written out. */
export function rationalRound(n: bigint, d: bigint, even: boolean): bigint {
  const floor = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));
  const f = floor(n, d);
  const twice = 2n * (n - f * d); // 2 * fractional part, in units of 1/d
  if (twice < d) return f;
  if (twice > d) return f + 1n;
  return even ? (f % 2n === 0n ? f : f + 1n) : f + 1n;
}

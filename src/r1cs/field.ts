/** The BN254 scalar field, in which circuits, witnesses and R1CS coefficients live. */
export const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const HALF = P >> 1n;

/** x mod P in [0, P). */
export function mod(x: bigint): bigint {
  const r = x % P;
  return r < 0n ? r + P : r;
}

/** The integer a field element stands for: values above P/2 are negatives. */
export function signed(x: bigint): bigint {
  return x > HALF ? x - P : x;
}

/** Multiplicative inverse (x != 0), by the extended Euclidean algorithm. */
export function inverse(x: bigint): bigint {
  let [a, b, u, v] = [mod(x), P, 1n, 0n];
  if (a === 0n) throw new RangeError('0 has no inverse');
  while (a !== 0n) {
    const q = b / a;
    [a, b] = [b - q * a, a];
    [u, v] = [v - q * u, u];
  }
  return mod(v);
}

/**
 * Lagrange-basis scalars of a powers-of-tau computed from a known tau, in the exact form
 * snarkjs' `prepare phase2` produces them by inverse FFT over the group:
 *   L_j(tau) = (w^j / n) (tau^n - 1) / (tau - w^j)        for the domain of size n = 2^p,
 * and, for the tauG1 section at n = 2^(power+1) (whose last power tau^(n-1) is absent and taken
 * as zero), L_j(tau) - tau^(n-1) w^j / n.
 */
export const FR = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export function mod(a: bigint): bigint {
  const r = a % FR;
  return r < 0n ? r + FR : r;
}

export function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % FR;
    b = (b * b) % FR;
    e >>= 1n;
  }
  return result;
}

export function inverse(a: bigint): bigint {
  return pow(a, FR - 2n);
}

/** Inverts every element with one field inversion (Montgomery's trick). */
function batchInverse(values: bigint[]): bigint[] {
  const prefix = new Array<bigint>(values.length);
  let acc = 1n;
  for (let i = 0; i < values.length; i++) {
    prefix[i] = acc;
    acc = (acc * values[i]) % FR;
  }
  let inv = inverse(acc);
  const out = new Array<bigint>(values.length);
  for (let i = values.length - 1; i >= 0; i--) {
    out[i] = (inv * prefix[i]) % FR;
    inv = (inv * values[i]) % FR;
  }
  return out;
}

/** Scalars L_j(tau) for j < 2^p, with `root` a primitive 2^p-th root of unity. */
export function lagrangeScalars(tau: bigint, p: number, root: bigint, truncatedLastPower = false): bigint[] {
  const n = 1 << p;
  const points = new Array<bigint>(n);
  let w = 1n;
  for (let j = 0; j < n; j++) {
    points[j] = w;
    w = (w * root) % FR;
  }
  const invN = inverse(BigInt(n));
  const c = (mod(pow(tau, BigInt(n)) - 1n) * invN) % FR;
  const inv = batchInverse(points.map((x) => mod(tau - x)));
  const last = truncatedLastPower ? (pow(tau, BigInt(n - 1)) * invN) % FR : 0n;
  return points.map((x, j) => mod((((c * x) % FR) * inv[j]) % FR - ((last * x) % FR)));
}

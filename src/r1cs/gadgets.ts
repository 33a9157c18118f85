/**
 * The templates of circuits/*.circom, constraint for constraint, for circuits built directly as
 * R1CS (src/r1cs/synthesize.ts). Each function's comment names its template; the template's
 * header comment is the specification (semantics, preconditions, cost), and the cross-check tests
 * compile both and compare counts and witnesses.
 */
import { floorSqrt } from '../ops/fixed_point.js';
import { inverse, signed } from './field.js';
import type { ConstraintSystem, Lin } from './system.js';

const pow2 = (k: number) => 1n << BigInt(k);

/** InputRange(lo, bits): in in [lo, lo + 2^bits). */
export function inputRange(cs: ConstraintSystem, x: Lin, lo: bigint, bits: number): void {
  cs.bits(x, -lo, bits, 'input range');
}

/** The decomposition RescaleRelu and RoundShift share: the bits of x + 2^(shift-1) + 2^(bits-1), and floor((x + 2^(shift-1)) / 2^shift)'s magnitude bits as `low`. */
function shiftBits(cs: ConstraintSystem, x: Lin, bits: number, shift: number, what: string): { b: Lin[]; low: Lin } {
  const half = shift > 0 ? pow2(shift - 1) : 0n;
  const b = cs.bits(x, half + pow2(bits - 1), bits, what);
  return { b, low: cs.sum(b.slice(shift, bits - 1).map((bit, i) => [bit, pow2(i)] as const)) };
}

/** floor((x + 2^(shift-1)) / 2^shift) from shiftBits: low - (1 - sign) * 2^(bits-1-shift). */
const quotient = (cs: ConstraintSystem, b: readonly Lin[], low: Lin, bits: number, shift: number) => cs.sum([[low, 1n], [b[bits - 1], pow2(bits - 1 - shift)]], -pow2(bits - 1 - shift));

/** RescaleRelu(bits, shift, relu). */
export function rescaleRelu(cs: ConstraintSystem, x: Lin, bits: number, shift: number, relu: boolean): Lin {
  const { b, low } = shiftBits(cs, x, bits, shift, 'rescale');
  if (relu) return cs.mul(b[bits - 1], low, 'relu');
  return quotient(cs, b, low, bits, shift);
}

/**
 * 1 when x = 0, else 0: x inv = 1 - z and x z = 0 (2 constraints; inv is free, and recorded so,
 * when x = 0, where it changes nothing). Inline in circuits/piecewise_linear.circom and round_shift.circom.
 */
function isZero(cs: ConstraintSystem, x: Lin, what: string): Lin {
  const inv = cs.alloc(x.value === 0n ? 0n : inverse(x.value), x.value === 0n);
  const z = cs.alloc(1n - x.value * inv.value);
  cs.enforce(x, inv, cs.constant(1n).sub(z), what);
  cs.enforce(x, z, cs.constant(0n), what);
  return z;
}

/** RoundShift(bits, shift, even). */
export function roundShift(cs: ConstraintSystem, x: Lin, bits: number, shift: number, even: boolean): Lin {
  const { b, low } = shiftBits(cs, x, bits, shift, 'round');
  const q = quotient(cs, b, low, bits, shift);
  if (!even) return q;
  // The low `shift` bits are the remainder; bit `shift` is q's parity.
  const z = isZero(cs, cs.sum(b.slice(0, shift).map((bit, i) => [bit, pow2(i)] as const)), 'tie test');
  const odd = bits === shift + 1 ? cs.constant(1n).sub(b[shift]) : b[shift];
  return q.sub(cs.mul(z, odd, 'ties to even'));
}

/** RoundDiv(qBits, rBits, d, even). */
export function roundDiv(cs: ConstraintSystem, x: Lin, d: bigint, qBits: number, rBits: number, even: boolean): Lin {
  const offset = pow2(qBits - 1);
  const t = x.scale(2n).addConst(d + 2n * d * offset); // 2x + d, offset so that the quotient is qo >= 0
  const tv = signed(t.value);
  const qo = cs.alloc(tv >= 0n ? tv / (2n * d) : 0n);
  const b = cs.bits(qo, 0n, qBits, 'rounded quotient');
  const r = t.sub(qo.scale(2n * d));
  cs.bits(r, 0n, rBits, 'division remainder');
  cs.bits(r.scale(-1n).addConst(2n * d - 1n), 0n, rBits, 'division remainder bound');
  const q = qo.addConst(-offset);
  if (!even) return q;
  const z = isZero(cs, r, 'tie test');
  const odd = qBits === 1 ? cs.constant(1n).sub(b[0]) : b[0];
  return q.sub(cs.mul(z, odd, 'ties to even'));
}

/** Max2(bits): max(a, b). */
export function max2(cs: ConstraintSystem, a: Lin, b: Lin, bits: number): Lin {
  const d = a.sub(b);
  const bit = cs.bits(d, pow2(bits - 1), bits, 'max');
  return b.add(cs.mul(bit[bits - 1], d, 'max select'));
}

/** RescaleLeaky(signBits, bits, shift, alpha, alphaFrac). */
export function rescaleLeaky(cs: ConstraintSystem, x: Lin, signBits: number, bits: number, shift: number, alpha: bigint, alphaFrac: number): Lin {
  const s = cs.bits(x, pow2(signBits - 1), signBits, 'leaky sign');
  const negative = cs.mul(cs.constant(1n).sub(s[signBits - 1]), x, 'leaky negative part');
  const z = cs.sum([[x, pow2(alphaFrac)], [negative, alpha - pow2(alphaFrac)]]);
  return rescaleRelu(cs, z, bits, shift + alphaFrac, false);
}

/** PiecewiseLinear(bits, domainBits, k, A, B, below, above, vBits). */
export function piecewiseLinear(cs: ConstraintSystem, x: Lin, bits: number, domainBits: number, k: number, A: readonly bigint[], B: readonly bigint[], below: bigint, above: bigint, vBits: number): Lin {
  const b = cs.bits(x, pow2(bits - 1), bits, 'piecewise-linear input');
  const s = b[bits - 1];
  const nHigh = bits - 1 - domainBits;
  let inRange: Lin;
  if (nHigh > 0) {
    const high = cs.sum(b.slice(domainBits, bits - 1).map((bit) => [bit, 1n] as const));
    const sh = cs.mul(s, high.scale(2n).addConst(-BigInt(nHigh)), 'domain test');
    const d = cs.sum([[high, -1n], [sh, 1n]], BigInt(nHigh));
    inRange = isZero(cs, d, 'domain test');
  } else {
    inRange = cs.constant(1n);
  }
  const w = domainBits + 1 - k;
  const idx = cs.sum(Array.from({ length: k }, (_, m) => [w + m === domainBits ? s : b[w + m], pow2(m)] as const));
  const t = cs.sum(b.slice(0, w).map((bit, i) => [bit, pow2(i)] as const));
  const n = 1 << k;
  // onehot[0] is 1 - (the others): the template's `total === 1`, substituted as circom --O2 does.
  const rest: Lin[] = [];
  for (let j = 1; j < n; j++) rest.push(cs.alloc(idx.value === BigInt(j) ? 1n : 0n));
  const onehot = [cs.sum(rest.map((h) => [h, -1n] as const), 1n), ...rest];
  onehot.forEach((h, j) => cs.enforce(h, idx.addConst(-BigInt(j)), cs.constant(0n), 'segment decoder'));
  const aSel = cs.sum(onehot.map((h, j) => [h, A[j]] as const));
  const bSel = cs.sum(onehot.map((h, j) => [h, B[j]] as const));
  const slope = cs.mul(bSel, t, 'slope');
  const sat = cs.sum([[s, above - below]], below);
  const v = sat.add(cs.mul(inRange, cs.sum([[aSel, pow2(w)], [slope, 1n], [sat, -1n]]), 'saturation select'));
  return rescaleRelu(cs, v, vBits, w, false);
}

/** ArgMax(n, bits, selectLast). */
export function argMax(cs: ConstraintSystem, xs: readonly Lin[], bits: number, selectLast: boolean): Lin {
  let best = xs[0];
  let pos = cs.constant(0n);
  const strict = selectLast ? 0n : 1n;
  for (let i = 1; i < xs.length; i++) {
    const bit = cs.bits(xs[i].sub(best), pow2(bits - 1) - strict, bits, 'argmax');
    const top = bit[bits - 1];
    best = best.add(cs.mul(top, xs[i].sub(best), 'argmax best'));
    pos = pos.add(cs.mul(top, pos.scale(-1n).addConst(BigInt(i)), 'argmax position'));
  }
  return pos;
}

/** DivRound(qBits, rBits, shift): round(a * 2^shift / b) for b >= 1. */
export function divRound(cs: ConstraintSystem, a: Lin, b: Lin, qBits: number, rBits: number, shift: number): Lin {
  const offset = pow2(qBits - 1);
  const d = b.scale(2n);
  const num = cs.sum([[a, pow2(shift + 1)], [b, 1n + 2n * offset]]);
  // A divisor below 1 has no witness: any quotient is wrong, and the remainder bound says so.
  const [n, dv] = [signed(num.value), signed(d.value)];
  const qo = cs.alloc(dv > 0n && n >= 0n ? n / dv : 0n);
  cs.bits(qo, 0n, qBits, 'division quotient');
  const r = num.sub(cs.mul(qo, d, 'division product'));
  cs.bits(r, 0n, rBits, 'division remainder');
  cs.bits(d.addConst(-1n).sub(r), 0n, rBits, 'division remainder bound');
  return qo.addConst(-offset);
}

/** ISqrt(yBits, xBits): floor(sqrt(x)). */
export function isqrt(cs: ConstraintSystem, x: Lin, yBits: number, xBits: number): Lin {
  const v = signed(x.value);
  const y = cs.alloc(v > 0n ? floorSqrt(v) : 0n);
  cs.bits(y, 0n, yBits, 'square root');
  const square = cs.mul(y, y, 'square root square');
  cs.bits(x.sub(square), 0n, xBits, 'square root lower bound');
  cs.bits(square.add(y.scale(2n)).sub(x), 0n, xBits, 'square root upper bound');
  return y;
}

/** OneHot(n): the selector of x in [0, n); out[0] is 1 - (the others), as circom --O2 substitutes it. */
export function oneHot(cs: ConstraintSystem, x: Lin, n: number): Lin[] {
  const v = signed(x.value);
  const rest: Lin[] = [];
  for (let j = 1; j < n; j++) rest.push(cs.alloc(v === BigInt(j) ? 1n : 0n));
  const out = [cs.sum(rest.map((h) => [h, -1n] as const), 1n), ...rest];
  out.forEach((h, j) => cs.enforce(h, x.addConst(-BigInt(j)), cs.constant(0n), 'one-hot selector'));
  return out;
}

import { FieldOverflowError, ZkmlError } from '../errors.js';
import { MAX_DECOMPOSITION_BITS as MAX_BITS } from '../ops/fixed_point.js';
import { mod } from './field.js';

/** A linear combination's terms: wire index -> coefficient in [0, P); wire 0 is the constant 1. */
export type Terms = Map<number, bigint>;

/** One R1CS constraint: <a, w> * <b, w> = <c, w>. */
export type Constraint = [Terms, Terms, Terms];

/** A witness that does not satisfy the circuit: the input breaks a range the circuit enforces. */
export class WitnessError extends ZkmlError {
  readonly code = 'WITNESS';
}

/**
 * A linear combination of wires and its value under the witness being computed. `constant` is
 * syntactic (no wire but the constant one was ever added), decided the same way whether terms are
 * recorded or not, so that constant folding, and with it wire numbering, is identical when
 * compiling (terms recorded) and when proving (values only).
 */
export class Lin {
  constructor(
    readonly terms: Terms | null,
    readonly value: bigint,
    readonly constant: boolean,
  ) {}

  add(b: Lin): Lin {
    return new Lin(merge(this.terms, b.terms, 1n), mod(this.value + b.value), this.constant && b.constant);
  }

  sub(b: Lin): Lin {
    return new Lin(merge(this.terms, b.terms, -1n), mod(this.value - b.value), this.constant && b.constant);
  }

  scale(k: bigint): Lin {
    const f = mod(k);
    if (f === 0n) return new Lin(this.terms && new Map(), 0n, true);
    let terms: Terms | null = null;
    if (this.terms) {
      terms = new Map();
      for (const [w, c] of this.terms) terms.set(w, mod(c * f));
    }
    return new Lin(terms, mod(this.value * f), this.constant);
  }

  addConst(k: bigint): Lin {
    return this.add(constant(k, this.terms !== null));
  }
}

function merge(a: Terms | null, b: Terms | null, sign: bigint): Terms | null {
  if (!a || !b) return null;
  const out = new Map(a);
  for (const [w, c] of b) addTerm(out, w, sign * c);
  return out;
}

function addTerm(t: Terms, wire: number, coeff: bigint): void {
  const c = mod((t.get(wire) ?? 0n) + coeff);
  if (c === 0n) t.delete(wire);
  else t.set(wire, c);
}

function constant(k: bigint, recording: boolean): Lin {
  const v = mod(k);
  return new Lin(recording ? (v === 0n ? new Map() : new Map([[0, v]])) : null, v, true);
}

/**
 * A rank-1 constraint system built together with its witness. Linear combinations are never
 * wires: a linear relation costs nothing, as after circom's --O2 simplification, and a product
 * by a constant folds. With `recording` the constraints are kept (compiling, setup); without, only
 * the wire values are computed (proving), and every constraint is still checked on them.
 */
export class ConstraintSystem {
  readonly values: bigint[] = [1n];
  readonly constraints: Constraint[] = [];
  /** Constraints enforced so far (recorded or not). */
  count = 0;
  /**
   * Wires the constraints leave free because their value does not matter: the inverse of a zero
   * in an is-zero test (d * inv = 1 - z, d * z = 0 pins z, not inv, when d = 0). Tests that
   * change one wire at a time skip these.
   */
  readonly free = new Set<number>();

  constructor(readonly recording: boolean) {}

  get wires(): number {
    return this.values.length;
  }

  constant(k: bigint): Lin {
    return constant(k, this.recording);
  }

  /** A new wire holding `value`; `free` records it in `free`. */
  alloc(value: bigint, free = false): Lin {
    const w = this.reserve();
    this.values[w] = mod(value);
    if (free) this.free.add(w);
    return this.wire(w);
  }

  /** A new wire whose value is set later (public outputs come first in the wire order, computed last). */
  reserve(): number {
    return this.values.push(0n) - 1;
  }

  /** Sets a reserved wire to `value`'s value and constrains it to equal it: value * 1 = wire. */
  bind(wire: number, value: Lin, what: string): void {
    this.values[wire] = value.value;
    this.enforce(value, this.constant(1n), this.wire(wire), what);
  }

  wire(index: number): Lin {
    return new Lin(this.recording ? new Map([[index, 1n]]) : null, this.values[index], false);
  }

  /** sum of coeff * lin + k in one pass (repeated add() would copy the terms once per part). */
  sum(parts: readonly (readonly [Lin, bigint])[], k = 0n): Lin {
    let value = k;
    let isConstant = true;
    const terms: Terms | null = this.recording ? new Map() : null;
    if (terms && mod(k) !== 0n) terms.set(0, mod(k));
    for (const [lin, coeff] of parts) {
      value += lin.value * coeff;
      isConstant &&= lin.constant;
      if (terms) for (const [w, c] of lin.terms!) addTerm(terms, w, c * coeff);
    }
    return new Lin(terms, mod(value), isConstant);
  }

  /** a * b = c, checked on the witness. */
  enforce(a: Lin, b: Lin, c: Lin, what: string): void {
    if (mod(a.value * b.value) !== c.value) throw new WitnessError(`the witness breaks a constraint (${what}): the input is outside what the circuit admits`);
    this.count++;
    if (this.recording) this.constraints.push([a.terms!, b.terms!, c.terms!]);
  }

  /** a * b as a new wire, one constraint; free when either side is constant. */
  mul(a: Lin, b: Lin, what: string): Lin {
    if (a.constant) return b.scale(a.value);
    if (b.constant) return a.scale(b.value);
    const c = this.alloc(a.value * b.value);
    this.enforce(a, b, c, what);
    return c;
  }

  /**
   * The bits of x + offset, least significant first, which must lie in [0, 2^bits): `bits`
   * booleanity constraints. Bit 0 is the linear combination x + offset - sum 2^i b_i rather than a
   * wire, so the recomposition costs nothing (circom --O2 substitutes it the same way).
   */
  bits(x: Lin, offset: bigint, bits: number, what: string): Lin[] {
    // The templates' precondition: below 2^253 < P the decomposition is unique.
    if (!Number.isInteger(bits) || bits < 1 || bits > MAX_BITS) throw new FieldOverflowError(what, bits);
    const t = mod(x.value + offset);
    if (t >> BigInt(bits) !== 0n) throw new WitnessError(`the witness breaks a range check (${what}: ${bits} bits): the input is outside what the circuit admits`);
    const high: Lin[] = [];
    for (let i = 1; i < bits; i++) high.push(this.alloc((t >> BigInt(i)) & 1n));
    const b0 = this.sum([[x, 1n], ...high.map((b, i) => [b, -(1n << BigInt(i + 1))] as const)], offset);
    const out = [new Lin(b0.terms, b0.value, false), ...high];
    for (const b of out) this.enforce(b, b.addConst(-1n), this.constant(0n), what);
    return out;
  }
}

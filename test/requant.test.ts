/**
 * Requantization (src/ops/requant.ts, circuits/round_shift.circom): the rounding an int8 model's
 * QuantizeLinear specifies (half to even) and its saturation, checked against exact rational
 * arithmetic, through circom and the direct R1CS, and against forged witnesses.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { requantDef } from '../src/ops/requant.js';
import { roundDiv, roundShift } from '../src/ops/fixed_point.js';
import type { Interval, RequantOp } from '../src/ops/types.js';
import { FIELD_MODULUS, fromField, toField } from '../src/prove/field.js';
import { inverse } from '../src/r1cs/field.js';
import { ConstraintSystem } from '../src/r1cs/system.js';
import { rationalRound } from './helpers/rational.js';
import { compileSource, setIfPresent, wire, type TestCircuit } from './helpers/circuit.js';
import { R1cs } from './helpers/r1cs.js';
import { nonLinear } from './helpers/r1cs_backend.js';

describe('roundShift: the integer reference', () => {
  it('equals rational rounding, ties to even and ties up, for every value and shift in a range', () => {
    for (let s = 0; s <= 5; s++) {
      for (let v = -300n; v <= 300n; v++) {
        assert.equal(roundShift(v, s, s > 0), rationalRound(v, 1n << BigInt(s), true), `even ${v}/2^${s}`);
        assert.equal(roundShift(v, s, false), rationalRound(v, 1n << BigInt(s), false), `up ${v}/2^${s}`);
      }
    }
  });
});

/**
 * A requant op over 4 elements with different multipliers, offsets that make ties reachable, and a
 * range that saturates on both sides: y = clamp(rne((M x + C) / 2^3), -5, 6).
 */
const op: RequantOp = { kind: 'requant', source: 'test', inputs: ['x'], output: 'y', multiplier: [1n, 3n, 5n, 2n], offset: [0n, 4n, -4n, 1n], shift: 3, even: true, lo: -5n, hi: 6n };
const range: Interval = { lo: -20n, hi: 20n };
const bounds = [range, range, range, range];

function expected(j: number, x: bigint): bigint {
  const r = rationalRound(op.multiplier[j] * x + op.offset[j], 8n, true);
  return r < op.lo ? op.lo : r > op.hi ? op.hi : r;
}

describe('requant: circom (RoundShift + Max2) and the direct R1CS', () => {
  let c: TestCircuit;
  before(async () => {
    const e = requantDef.emit(op, { id: 'q', inputs: [[0, 1, 2, 3].map((i) => `in[${i}]`)], bounds: [bounds] });
    c = await compileSource(
      'requant',
      `pragma circom 2.1.0;
include "round_shift.circom";
include "max2.circom";
${e.declarations.join('\n')}
template T() {
    signal input in[4];
    signal output out[4];
${e.statements.map((l) => `    ${l}`).join('\n')}
${e.outputs.map((o, j) => `    out[${j}] <== ${o};`).join('\n')}
}
component main = T();`,
    );
  });

  it('equals rational rounding with saturation on every admissible input, at the documented cost', async () => {
    for (let x = range.lo; x <= range.hi; x++) {
      const w = await c.witness.calculateWitness({ in: [x, x, x, x].map(String) }, true);
      for (let j = 0; j < 4; j++) assert.equal(fromField(w[1 + j]), expected(j, x), `element ${j} at ${x}`);
      assert.deepEqual(c.r1cs.violations(w), []);
      assert.deepEqual(requantDef.evaluate(op, [[x, x, x, x]]), [0, 1, 2, 3].map((j) => expected(j, x)));
    }
    assert.equal(c.stats.nonLinear, requantDef.cost(op, [bounds]).nonLinear);
  });

  it('the direct R1CS has the same constraints in number and the same outputs', () => {
    for (let x = range.lo; x <= range.hi; x++) {
      const cs = new ConstraintSystem(true);
      const inputs = [0, 1, 2, 3].map(() => cs.alloc(toField(x)));
      const out = requantDef.synthesize(op, { cs, inputs: [inputs], bounds: [bounds], signals: { in: inputs, w: [] } });
      assert.deepEqual(out.map((o) => fromField(o.value)), [0, 1, 2, 3].map((j) => expected(j, x)), `at ${x}`);
      assert.equal(nonLinear(cs.constraints), requantDef.cost(op, [bounds]).nonLinear);
      assert.deepEqual(R1cs.of(cs.constraints).violations(cs.values), []);
    }
  });

  it('bounds are the evaluation of the range ends', () => {
    assert.deepEqual(requantDef.bounds(op, [bounds]), [0, 1, 2, 3].map((j) => ({ lo: expected(j, range.lo), hi: expected(j, range.hi) })));
  });

  describe('soundness: forged witnesses are rejected', () => {
    const honest = (x: bigint) => c.witness.calculateWitness({ in: [x, x, x, x].map(String) }, true);

    it('wrong rounding at a tie: the odd neighbour, claimed as no tie', async () => {
      // Element 0: x = 12 -> 12/8 = 1.5, a tie: half to even gives 2, half up 2; x = 4 -> 0.5 -> 0 (even), up 1.
      const w = await honest(4n);
      assert.equal(fromField(w[1]), 0n);
      const z = wire(c, 'main.q[0].z');
      assert.equal(w[z], 1n, 'the remainder is 0: a tie');
      // Claim no tie (z = 0), so no adjustment: the output is the upper neighbour 1.
      w[z] = 0n;
      setIfPresent(c, w, 'main.q[0].adjust', 0n);
      setIfPresent(c, w, 'main.q[0].out', 1n);
      w[1] = 1n;
      assert.ok(c.r1cs.violations(w).length > 0);
    });

    it('a tie claimed where there is none (the odd quotient lowered)', async () => {
      const w = await honest(9n); // element 0: 9/8 -> 1 (q = 1, remainder 5: no tie)
      assert.equal(fromField(w[1]), 1n);
      // z = 1, inv = 0 satisfy r * inv = 1 - z; only r * z = 0 stops it.
      w[wire(c, 'main.q[0].z')] = 1n;
      w[wire(c, 'main.q[0].inv')] = 0n;
      setIfPresent(c, w, 'main.q[0].adjust', 1n);
      setIfPresent(c, w, 'main.q[0].out', 0n);
      w[1] = 0n;
      assert.ok(c.r1cs.violations(w).length > 0);
    });

    it('remainder + 2^shift with quotient - 1 (a remainder out of range)', async () => {
      const w = await honest(8n); // element 0: 8/8 -> 1; t = 8 + 4 + 2^5 = 0b101100: b[3] = 1
      const bits = ['main.q[0].b[2]', 'main.q[0].b[3]'].map((n) => wire(c, n));
      if (w[bits[1]] !== 1n) throw new Error('test setup: expected bit 3 set');
      // Move 2^3 from the quotient into the remainder (4 -> 12): b[3] = 0, b[2] gains 2 (not a bit any more),
      // with the tie test's inverse made consistent, so that only the range check (booleanity) can object.
      w[bits[1]] = 0n;
      w[bits[0]] = w[bits[0]] + 2n;
      w[wire(c, 'main.q[0].inv')] = inverse(12n);
      w[1] = toField(fromField(w[1]) - 1n);
      setIfPresent(c, w, 'main.q[0].out', w[1]);
      assert.ok(c.r1cs.violations(w).length > 0);
    });

    it('wrong saturation: an output above hi, or below lo', async () => {
      const w = await honest(20n); // element 2: (100 - 4) / 8 = 12 -> saturated to 6
      assert.equal(fromField(w[3]), 6n);
      for (const v of [7n, 12n]) {
        const forged = [...w];
        forged[3] = toField(v);
        assert.ok(c.r1cs.violations(forged).length > 0, `${v} passed as the saturated output`);
      }
      const low = await honest(-20n); // element 2: (-100 - 4) / 8 = -13 -> saturated to -5
      assert.equal(fromField(low[3]), -5n);
      low[3] = toField(-13n);
      assert.ok(c.r1cs.violations(low).length > 0);
    });

    it('a non-boolean remainder bit that keeps the sum', async () => {
      const w = await honest(0n);
      const b1 = wire(c, 'main.q[1].b[1]');
      w[b1] = (w[b1] + FIELD_MODULUS - 1n) % FIELD_MODULUS;
      setIfPresent(c, w, 'main.q[1].b[0]', (w[wire(c, 'main.q[1].b[0]')] + 2n) % FIELD_MODULUS);
      assert.ok(c.r1cs.violations(w).length > 0);
    });
  });
});

describe('requant: edge cases through circom and the direct R1CS', () => {
  // bits == shift + 1 (the parity from 1 - b[shift]), ties up, and no shift at all.
  const cases: { op: RequantOp; range: Interval }[] = [
    { op: { ...op, multiplier: [1n], offset: [0n], shift: 3, even: true, lo: -100n, hi: 100n }, range: { lo: -8n, hi: 3n } },
    { op: { ...op, multiplier: [3n], offset: [1n], shift: 2, even: false, lo: -3n, hi: 3n }, range: { lo: -10n, hi: 10n } },
    { op: { ...op, multiplier: [2n], offset: [-1n], shift: 0, even: false, lo: -6n, hi: 5n }, range: { lo: -5n, hi: 5n } },
  ];
  let c: TestCircuit;
  before(async () => {
    const parts = cases.map(({ op: o, range: r }, k) => requantDef.emit(o, { id: `e${k}`, inputs: [[`in[${k}]`]], bounds: [[r]] }));
    c = await compileSource(
      'requant_edges',
      `pragma circom 2.1.0;
include "round_shift.circom";
include "max2.circom";
${parts.flatMap((e) => e.declarations).join('\n')}
template T() {
    signal input in[${cases.length}];
    signal output out[${cases.length}];
${parts.flatMap((e) => e.statements).map((l) => `    ${l}`).join('\n')}
${parts.map((e, k) => `    out[${k}] <== ${e.outputs[0]};`).join('\n')}
}
component main = T();`,
    );
  });

  it('equal rational rounding with saturation, in circom and R1CS, at the documented cost', async () => {
    const want = (k: number, x: bigint) => {
      const { op: o } = cases[k];
      const r = rationalRound(o.multiplier[0] * x + o.offset[0], 1n << BigInt(o.shift), o.even);
      return r < o.lo ? o.lo : r > o.hi ? o.hi : r;
    };
    assert.equal(c.stats.nonLinear, cases.reduce((a, { op: o, range: r }) => a + requantDef.cost(o, [[r]]).nonLinear, 0));
    for (let x = -10n; x <= 10n; x++) {
      const xs = cases.map(({ range: r }) => (x >= r.lo && x <= r.hi ? x : 0n));
      const w = await c.witness.calculateWitness({ in: xs.map(String) }, true);
      assert.deepEqual(c.r1cs.violations(w), []);
      cases.forEach(({ op: o, range: r }, k) => {
        assert.equal(fromField(w[1 + k]), want(k, xs[k]), `case ${k} at ${xs[k]}`);
        const cs = new ConstraintSystem(true);
        const input = cs.alloc(toField(xs[k]));
        const [y] = requantDef.synthesize(o, { cs, inputs: [[input]], bounds: [[r]], signals: { in: [input], w: [] } });
        assert.equal(fromField(y.value), want(k, xs[k]), `R1CS case ${k} at ${xs[k]}`);
        assert.equal(nonLinear(cs.constraints), requantDef.cost(o, [[r]]).nonLinear);
        assert.deepEqual(R1cs.of(cs.constraints).violations(cs.values), []);
      });
    }
  });

  it('refuses a malformed op with a message', () => {
    assert.throws(() => requantDef.evaluate({ ...op, shift: -1 }, [[0n, 0n, 0n, 0n]]), /non-negative integer/);
    assert.throws(() => requantDef.evaluate({ ...op, multiplier: [1n] }, [[0n, 0n, 0n, 0n]]), /1 multipliers .* for 4 elements/);
    assert.throws(() => requantDef.evaluate({ ...op, multiplier: [0n, 1n, 1n, 1n] }, [[0n, 0n, 0n, 0n]]), /positive/);
  });
});

describe('requant with exact divisors (RoundDiv: a reachable tie, a denominator not a power of two)', () => {
  it('an exact divisor ignores the shift and the ties rule of the RoundShift elements', () => {
    const solo: RequantOp = { ...div, multiplier: [1n], offset: [0n], shift: 4, even: false, divisor: [6n], lo: -100n, hi: 100n };
    for (let x = -30n; x <= 30n; x++) assert.deepEqual(requantDef.evaluate(solo, [[x]]), [rationalRound(x, 6n, true)]);
  });

  // Elements 0 and 2 divide by 18 and 10 (ties at x = 9 (mod 18) and 3x - 1 = 5 (mod 10)), always
  // ties to even; element 1 is RoundShift by 2^1.
  const div: RequantOp = { kind: 'requant', source: 'test', inputs: ['x'], output: 'y', multiplier: [1n, 5n, 3n], offset: [0n, 2n, -1n], shift: 1, even: true, divisor: [18n, 1n, 10n], lo: -6n, hi: 7n };
  const r: Interval = { lo: -40n, hi: 40n };
  const dens = [18n, 2n, 10n];
  const want = (j: number, x: bigint) => {
    const v = rationalRound(div.multiplier[j] * x + div.offset[j], dens[j], true);
    return v < div.lo ? div.lo : v > div.hi ? div.hi : v;
  };
  let c: TestCircuit;
  before(async () => {
    const e = requantDef.emit(div, { id: 'q', inputs: [[0, 1, 2].map((i) => `in[${i}]`)], bounds: [[r, r, r]] });
    c = await compileSource(
      'requant_div',
      `pragma circom 2.1.0;
include "round_shift.circom";
include "round_div.circom";
include "max2.circom";
${e.declarations.join('\n')}
template T() {
    signal input in[3];
    signal output out[3];
${e.statements.map((l) => `    ${l}`).join('\n')}
${e.outputs.map((o, j) => `    out[${j}] <== ${o};`).join('\n')}
}
component main = T();`,
    );
  });

  it('roundDiv is rational rounding, ties to even and up, for every value and divisor in a range', () => {
    for (const d of [1n, 2n, 3n, 5n, 6n, 7n, 10n, 18n]) {
      for (let v = -200n; v <= 200n; v++) {
        assert.equal(roundDiv(v, d, true), rationalRound(v, d, true), `even ${v}/${d}`);
        assert.equal(roundDiv(v, d, false), rationalRound(v, d, false), `up ${v}/${d}`);
      }
    }
  });

  it('equals rational rounding with saturation on every admissible input, in circom and R1CS, at the documented cost', async () => {
    assert.equal(c.stats.nonLinear, requantDef.cost(div, [[r, r, r]]).nonLinear);
    for (let x = r.lo; x <= r.hi; x++) {
      const w = await c.witness.calculateWitness({ in: [x, x, x].map(String) }, true);
      assert.deepEqual(c.r1cs.violations(w), []);
      for (let j = 0; j < 3; j++) assert.equal(fromField(w[1 + j]), want(j, x), `element ${j} at ${x}`);
      assert.deepEqual(requantDef.evaluate(div, [[x, x, x]]), [0, 1, 2].map((j) => want(j, x)));
      const cs = new ConstraintSystem(true);
      const inputs = [0, 1, 2].map(() => cs.alloc(toField(x)));
      const out = requantDef.synthesize(div, { cs, inputs: [inputs], bounds: [[r, r, r]], signals: { in: inputs, w: [] } });
      assert.deepEqual(out.map((o) => fromField(o.value)), [0, 1, 2].map((j) => want(j, x)), `R1CS at ${x}`);
      assert.equal(nonLinear(cs.constraints), requantDef.cost(div, [[r, r, r]]).nonLinear);
    }
    assert.deepEqual(requantDef.bounds(div, [[r, r, r]]), [0, 1, 2].map((j) => ({ lo: want(j, r.lo), hi: want(j, r.hi) })));
  });

  describe('soundness: forged witnesses of RoundDiv(3, 6, 18, even) are rejected', () => {
    // in in [-40, 40]: t = 2 in + 18 in [-62, 98], q in [-2, 2] (3 bits, offset 4); 2d - 1 = 35 (6 bits).
    let g: TestCircuit;
    before(async () => {
      g = await compileSource('round_div', `pragma circom 2.1.0;\ninclude "round_div.circom";\ncomponent main = RoundDiv(3, 6, 18, 1);`);
    });
    const honest = (x: bigint) => g.witness.calculateWitness({ in: String(x) }, true);
    const setBits = (w: bigint[], name: string, n: number, v: bigint) => {
      for (let i = 0; i < n; i++) setIfPresent(g, w, `main.${name}[${i}]`, (v >> BigInt(i)) & 1n);
    };

    it('computes rational rounding, ties to even, with no violation', async () => {
      for (let x = -40n; x <= 40n; x++) {
        const w = await honest(x);
        assert.equal(fromField(w[1]), rationalRound(x, 18n, true), `${x}`);
        assert.deepEqual(g.r1cs.violations(w), []);
      }
    });

    it('a tie claimed as none: the odd upper neighbour', async () => {
      const w = await honest(9n); // 9 / 18 = 1/2: a tie, rounded to 0 (even); the quotient is 1
      assert.equal(fromField(w[1]), 0n);
      w[wire(g, 'main.z')] = 0n;
      setIfPresent(g, w, 'main.adjust', 0n);
      w[1] = 1n;
      assert.ok(g.r1cs.violations(w).length > 0);
    });

    it('a tie claimed where there is none (the odd quotient lowered)', async () => {
      const w = await honest(20n); // 20 / 18 -> 1: t = 58 = 36 + 22, no tie
      assert.equal(fromField(w[1]), 1n);
      // z = 1, inv = 0 satisfy r * inv = 1 - z; only r * z = 0 stops it.
      w[wire(g, 'main.z')] = 1n;
      w[wire(g, 'main.inv')] = 0n;
      setIfPresent(g, w, 'main.adjust', 1n);
      w[1] = 0n;
      assert.ok(g.r1cs.violations(w).length > 0);
    });

    it('remainder + 2d with quotient - 1: the remainder fits its bits, only 2d - 1 - r >= 0 objects', async () => {
      const w = await honest(10n); // t = 38 = 36 * 1 + 2
      assert.equal(fromField(w[1]), 1n);
      setBits(w, 'qb', 3, 4n); // qo = 4: q = 0
      setBits(w, 'rb', 6, 38n); // r = 38 = 2 + 36, within 6 bits
      w[wire(g, 'main.inv')] = inverse(38n);
      w[1] = 0n;
      // (circom --O2 solves one bit of 2d - 1 - r from its recomposition: with r = 38 it is no bit.)
      assert.equal(g.r1cs.violations(w).length, 1, 'exactly one constraint objects: 2d - 1 - r is negative');
    });
  });
});

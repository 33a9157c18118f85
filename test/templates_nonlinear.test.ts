import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { argmaxDef } from '../src/ops/argmax.js';
import { compareBits, rescaleBits, signedBits } from '../src/ops/fixed_point.js';
import { leakyDef } from '../src/ops/leaky.js';
import { pwlDef, pwlTables } from '../src/ops/pwl.js';
import type { ArgMaxOp, LeakyOp, PwlOp } from '../src/ops/types.js';
import { FIELD_MODULUS, fromField, toField } from '../src/prove/field.js';
import { compileSource, wire, type TestCircuit } from './helpers/circuit.js';

const header = (file: string) => `pragma circom 2.1.0;\ninclude "${file}";\n`;
const range = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

describe('circuits/max2.circom', () => {
  let c: TestCircuit;
  const bits = compareBits({ lo: -8n, hi: 7n }, { lo: -8n, hi: 7n });
  before(async () => {
    c = await compileSource('max2', `${header('max2.circom')}template T() { signal input a; signal input b; signal output out; component m = Max2(${bits}); m.a <== a; m.b <== b; out <== m.out; }\ncomponent main = T();`);
  });

  it(`costs bits + 1 = ${bits + 1}`, () => assert.equal(c.stats.nonLinear, bits + 1));

  it('equals max on every admissible pair', async () => {
    for (const a of range(-8, 7)) {
      for (const b of range(-8, 7)) {
        const w = await c.witness.calculateWitness({ a: String(a), b: String(b) }, true);
        assert.equal(fromField(w[1]), BigInt(Math.max(a, b)));
        assert.deepEqual(c.r1cs.violations(w), []);
      }
    }
  });

  it('soundness: claiming the smaller value, with or without a flipped sign bit, fails', async () => {
    const w = await c.witness.calculateWitness({ a: '5', b: '-3' }, true);
    w[1] = toField(-3n);
    assert.ok(c.r1cs.violations(w).length > 0);
    const top = c.symbols.get(`main.m.bit[${bits - 1}]`);
    if (top !== undefined) {
      w[top] = 1n - w[top];
      assert.ok(c.r1cs.violations(w).length > 0);
    }
  });
});

describe('circuits/rescale_leaky.circom', () => {
  const op: LeakyOp = { kind: 'leaky', source: 't', inputs: ['x'], output: 'y', shift: 2, alphaFrac: 7, alpha: [13n, -40n] };
  const x = { lo: -32n, hi: 31n };
  let c: TestCircuit;
  before(async () => {
    const inst = op.alpha.map((a, j) => {
      const z = j === 0 ? { lo: -32n * 13n, hi: 31n * 128n } : { lo: 0n, hi: 32n * 40n > 31n * 128n ? 32n * 40n : 31n * 128n };
      return `r[${j}] = RescaleLeaky(${signedBits(x)}, ${rescaleBits(z, op.shift + op.alphaFrac)}, ${op.shift}, ${a}, ${op.alphaFrac}); r[${j}].in <== in[${j}]; out[${j}] <== r[${j}].out;`;
    });
    c = await compileSource('leaky', `${header('rescale_leaky.circom')}template T() { signal input in[2]; signal output out[2]; component r[2]; ${inst.join(' ')} }\ncomponent main = T();`);
  });

  it('equals the TypeScript definition on every admissible input, for positive and negative slopes', async () => {
    for (const v of range(-32, 31)) {
      const w = await c.witness.calculateWitness({ in: [String(v), String(v)] }, true);
      const expected = leakyDef.evaluate(op, [[BigInt(v), BigInt(v)]]);
      assert.deepEqual([fromField(w[1]), fromField(w[2])], expected, `x = ${v}`);
      assert.deepEqual(c.r1cs.violations(w), []);
    }
  });

  it('soundness: skipping the slope for a negative input fails', async () => {
    const w = await c.witness.calculateWitness({ in: ['-20', '-20'] }, true);
    const negative = wire(c, 'main.r[0].negative');
    assert.equal(fromField(w[negative]), -20n);
    w[negative] = 0n;
    assert.ok(c.r1cs.violations(w).length > 0);
  });

  it('soundness: a flipped sign bit fails', async () => {
    const w = await c.witness.calculateWitness({ in: ['9', '9'] }, true);
    const sign = c.symbols.get(`main.r[0].s[${signedBits(x) - 1}]`);
    const bit0 = wire(c, 'main.r[0].s[0]');
    w[sign ?? bit0] = 1n - w[sign ?? bit0];
    assert.ok(c.r1cs.violations(w).length > 0);
  });
});

describe('circuits/piecewise_linear.circom', () => {
  const inFrac = 4;
  const op: PwlOp = { kind: 'pwl', source: 't', inputs: ['x'], output: 'y', ...pwlTables('sigmoid', inFrac, 8) };
  const x = { lo: -300n, hi: 300n };
  let c: TestCircuit;
  before(async () => {
    const decl = `function A() { var v[${op.a.length}] = [${op.a}]; return v; }\nfunction B() { var v[${op.b.length}] = [${op.b}]; return v; }\n`;
    // The widths pwlDef would choose for inputs in x.
    const emitted = pwlDef.emit(op, { id: 'p', inputs: [['in']], bounds: [[x]] }).statements[1];
    const params = /= PiecewiseLinear\((.*)\); /.exec(emitted)![1].replace('p_a()', 'A()').replace('p_b()', 'B()');
    c = await compileSource('pwl', `${header('piecewise_linear.circom')}${decl}template T() { signal input in; signal output out; component p = PiecewiseLinear(${params}); p.in <== in; out <== p.out; }\ncomponent main = T();`);
  });

  it('costs what pwlDef.cost says', () => {
    assert.equal(c.stats.nonLinear, pwlDef.cost(op, [[x]]).nonLinear);
  });

  it('equals the TypeScript definition on every input in range, saturating outside the domain', async () => {
    const expected = pwlDef.evaluate(op, [range(-300, 300).map(BigInt)]);
    for (const [k, v] of range(-300, 300).entries()) {
      const w = await c.witness.calculateWitness({ in: String(v) }, true);
      assert.equal(fromField(w[1]), expected[k], `x = ${v}`);
      if (v % 37 === 0) assert.deepEqual(c.r1cs.violations(w), []);
    }
  });

  it('soundness: moving the one-hot selector, or claiming saturation inside the domain, fails', async () => {
    const honest = await c.witness.calculateWitness({ in: '5' }, true);
    const hot = honest.findIndex((_, i) => i > 0 && [...c.symbols].some(([n, w]) => w === i && /onehot/.test(n)) && honest[i] === 1n);
    assert.ok(hot > 0);
    const moved = [...honest];
    moved[hot] = 0n;
    moved[hot + 1] = 1n;
    assert.ok(c.r1cs.violations(moved).length > 0);
    const saturated = [...honest];
    saturated[wire(c, 'main.p.inRange')] = 0n;
    assert.ok(c.r1cs.violations(saturated).length > 0);
    const out = [...honest];
    out[1] = (out[1] + 1n) % FIELD_MODULUS;
    assert.ok(c.r1cs.violations(out).length > 0);
  });
});

describe('circuits/argmax.circom', () => {
  const first: ArgMaxOp = { kind: 'argmax', source: 't', inputs: ['x'], output: 'y', groups: [[0, 1, 2, 3]], selectLast: false };
  const last: ArgMaxOp = { ...first, selectLast: true };
  const r = { lo: -2n, hi: 2n };
  const bits = signedBits({ lo: r.lo - r.hi - 1n, hi: r.hi - r.lo });
  let c: TestCircuit;
  before(async () => {
    c = await compileSource(
      'argmax',
      `${header('argmax.circom')}template T() { signal input in[4]; signal output out[2]; component f = ArgMax(4, ${bits}, 0); component l = ArgMax(4, ${bits}, 1); for (var i = 0; i < 4; i++) { f.in[i] <== in[i]; l.in[i] <== in[i]; } out[0] <== f.out; out[1] <== l.out; }\ncomponent main = T();`,
    );
  });

  it('costs (n - 1) * (bits + 2) - 1 per instance', () => assert.equal(c.stats.nonLinear, 2 * (3 * (bits + 2) - 1)));

  it('equals ONNX ArgMax (first and last index on ties) on every input', async () => {
    const values = range(-2, 2);
    for (const a of values) for (const b of values) for (const d of values) for (const e of values) {
      const x = [a, b, d, e].map(BigInt);
      const w = await c.witness.calculateWitness({ in: x.map(String) }, true);
      assert.deepEqual([w[1], w[2]], [argmaxDef.evaluate(first, [x])[0], argmaxDef.evaluate(last, [x])[0]], `[${x}]`);
    }
  });

  it('soundness: claiming another index fails', async () => {
    const w = await c.witness.calculateWitness({ in: ['1', '2', '-1', '2'] }, true);
    assert.equal(w[1], 1n);
    for (const forged of [0n, 2n, 3n]) {
      const v = [...w];
      v[1] = forged;
      assert.ok(c.r1cs.violations(v).length > 0, `index ${forged}`);
    }
  });
});

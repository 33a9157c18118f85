import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { relu, rescale, rescaleBits } from '../src/ops/fixed_point.js';
import { FIELD_MODULUS, fromField, toField } from '../src/prove/field.js';
import { compileSource, wire, type TestCircuit } from './helpers/circuit.js';

/** Parameter sets of RescaleRelu(bits, shift, relu), including the edges shift = 0 and shift = bits - 1. */
const rescaleCases = [
  [6, 2, 1],
  [6, 2, 0],
  [5, 0, 1],
  [5, 0, 0],
  [4, 3, 1],
  [4, 3, 0],
  [9, 4, 1],
] as const;

/** Inputs RescaleRelu(bits, shift) admits: in + 2^(shift-1) in [-2^(bits-1), 2^(bits-1)). */
function admissible(bits: number, shift: number): [number, number] {
  const half = shift === 0 ? 0 : 2 ** (shift - 1);
  return [-(2 ** (bits - 1)) - half, 2 ** (bits - 1) - 1 - half];
}

describe('circuits/rescale_relu.circom', () => {
  let c: TestCircuit;
  before(async () => {
    const n = rescaleCases.length;
    c = await compileSource(
      'rescale',
      `pragma circom 2.1.0;
include "rescale_relu.circom";
template T() {
    signal input in[${n}];
    signal output out[${n}];
    component r[${n}];
${rescaleCases.map(([b, s, r], k) => `    r[${k}] = RescaleRelu(${b}, ${s}, ${r}); r[${k}].in <== in[${k}]; out[${k}] <== r[${k}].out;`).join('\n')}
}
component main = T();`,
    );
  });

  it('costs bits (+ 1 for a ReLU with quotient bits) non-linear constraints per instance, as documented', () => {
    const expected = rescaleCases.reduce((a, [b, s, r]) => a + b + (r && b - 1 > s ? 1 : 0), 0);
    assert.equal(c.stats.nonLinear, expected);
  });

  it('equals the TypeScript definition on every admissible input', async () => {
    const lo = Math.min(...rescaleCases.map(([b, s]) => admissible(b, s)[0]));
    const hi = Math.max(...rescaleCases.map(([b, s]) => admissible(b, s)[1]));
    for (let v = lo; v <= hi; v++) {
      const inputs = rescaleCases.map(([b, s]) => {
        const [a, z] = admissible(b, s);
        return v >= a && v <= z ? BigInt(v) : 0n;
      });
      const w = await c.witness.calculateWitness({ in: inputs.map(String) }, true);
      rescaleCases.forEach(([, s, r], k) => {
        const expected = r ? relu(rescale(inputs[k], s)) : rescale(inputs[k], s);
        assert.equal(fromField(w[1 + k]), expected, `case ${k} at ${inputs[k]}`);
      });
      assert.deepEqual(c.r1cs.violations(w), []);
    }
  });

  it('the bit width from rescaleBits is exactly the admissible range', () => {
    for (const [b, s] of rescaleCases) {
      const [lo, hi] = admissible(b, s);
      assert.equal(rescaleBits({ lo: BigInt(lo), hi: BigInt(hi) }, s), Math.max(b, s + 1));
    }
  });

  it('inputs outside the admissible range have no witness', async () => {
    const [, hi] = admissible(6, 2);
    await assert.rejects(c.witness.calculateWitness({ in: [String(hi + 1), '0', '0', '0', '0', '0', '0'] }, true));
  });

  describe('soundness: forged witnesses are rejected by the R1CS', () => {
    const honest = async (v: number) => c.witness.calculateWitness({ in: [String(v), '0', '0', '0', '0', '0', '0'] }, true);

    it('a changed output', async () => {
      const w = await honest(13); // case 0: RescaleRelu(6, 2, 1): out = 3
      w[1] = toField(fromField(w[1]) + 1n);
      assert.ok(c.r1cs.violations(w).length > 0);
    });

    it('a flipped sign bit (a negative value passed through the ReLU)', async () => {
      const w = await honest(-13);
      const sign = c.symbols.get('main.r[0].b[5]');
      // --O2 may substitute the top bit away; then forge the output instead, as a negative pre-ReLU.
      if (sign !== undefined) w[sign] = 1n - w[sign];
      w[1] = toField(-3n);
      assert.ok(c.r1cs.violations(w).length > 0);
    });

    it('remainder + 2^shift with quotient - 1 (the missing-remainder-constraint forgery)', async () => {
      const w = await honest(13); // t = 13 + 2 + 32 = 47 = 0b101111: b[2] = 1
      const b1 = wire(c, 'main.r[0].b[1]');
      const b2 = wire(c, 'main.r[0].b[2]');
      assert.equal(w[b2], 1n);
      // Same recomposition (b1 gains 2, b2 loses 1), quotient one lower.
      w[b2] = 0n;
      w[b1] = w[b1] + 2n;
      w[1] = toField(fromField(w[1]) - 1n);
      assert.ok(c.r1cs.violations(w).length > 0);
    });

    it('a non-boolean bit that keeps the sum', async () => {
      const w = await honest(0);
      const b0 = wire(c, 'main.r[0].b[0]');
      w[b0] = FIELD_MODULUS - 1n; // -1: booleanity must catch it
      assert.ok(c.r1cs.violations(w).length > 0);
    });
  });
});

describe('circuits/input_range.circom', () => {
  let c: TestCircuit;
  before(async () => {
    c = await compileSource(
      'inputrange',
      `pragma circom 2.1.0;
include "input_range.circom";
template T() { signal input in; component r = InputRange(-3, 3); r.in <== in; }
component main {public [in]} = T();`,
    );
  });

  it('costs bits non-linear constraints', () => {
    assert.equal(c.stats.nonLinear, 3);
  });

  it('admits exactly lo .. lo + 2^bits - 1', async () => {
    for (let v = -3; v <= 4; v++) assert.deepEqual(c.r1cs.violations(await c.witness.calculateWitness({ in: String(v) }, true)), []);
    await assert.rejects(c.witness.calculateWitness({ in: '-4' }, true));
    await assert.rejects(c.witness.calculateWitness({ in: '5' }, true));
  });

  it('soundness: an out-of-range input cannot be given any bits', async () => {
    const w = await c.witness.calculateWitness({ in: '4' }, true); // bits 111
    const input = wire(c, 'main.in');
    for (const forged of [5n, -4n, FIELD_MODULUS - 4n + 1n]) {
      w[input] = toField(forged);
      assert.ok(c.r1cs.violations(w).length > 0, `in = ${forged}`);
    }
  });
});

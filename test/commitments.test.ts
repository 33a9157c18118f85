import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { commit, type Committed } from '../src/commit/commitments.js';
import { CHUNK_BITS, packExpressions, packValues, planPacking, type PackItem } from '../src/commit/packing.js';
import { emitPoseidonChain } from '../src/commit/poseidon.js';
import { FIELD_MODULUS } from '../src/prove/field.js';
import { deriveSalts, PublicStatement } from '../src/commit/statement.js';
import { loadBuild } from '../src/compile/manifest.js';
import { quantizeInput } from '../src/quant/io.js';
import { assertEachChangeBreaks, compileSource, loadCircuit, wire, type TestCircuit } from './helpers/circuit.js';
import { compiled, testSamples } from './helpers/fixtures.js';

/**
 * Windows that exercise the packing: 1-bit values, negative and positive offsets, widths that fill
 * a chunk exactly (253 bits) and that straddle chunk boundaries, and enough values for several
 * Poseidon blocks (more than 15 chunks).
 */
function windows(): PackItem[] {
  const items: PackItem[] = [];
  const shapes: [bigint, number][] = [
    [0n, 1],
    [-1n, 1],
    [-128n, 8],
    [-(1n << 15n), 16],
    [5n, 3],
    [-(1n << 63n), 64],
    [0n, 100],
    [-(1n << 126n), 127],
    [0n, 252],
    [-(1n << 200n), 201],
  ];
  for (let k = 0; k < 8; k++) for (const [lo, bits] of shapes) items.push({ lo, bits });
  return items;
}

function random(item: PackItem): bigint {
  const span = 1n << BigInt(item.bits);
  const r = BigInt(`0x${randomBytes(32).toString('hex')}`) % span;
  return item.lo + r;
}

/** A circuit that range-checks each value to its window, packs them and hashes the chunks with init = salt. */
function source(c: Committed): string {
  const n = c.items.length;
  const checks = c.items.map((it, i) => `r[${i}] = InputRange(${it.lo}, ${it.bits}); r[${i}].in <== v[${i}];`);
  const chain = emitPoseidonChain('h', 'salt', packExpressions(c.items, c.plan, c.items.map((_, i) => `v[${i}]`)));
  return [
    'pragma circom 2.1.0;',
    'include "input_range.circom";',
    'include "poseidon.circom";',
    'template T() {',
    `  signal input v[${n}];`,
    '  signal input salt;',
    '  signal output out;',
    `  component r[${n}];`,
    ...checks.map((l) => `  ${l}`),
    ...chain.statements.map((l) => `  ${l}`),
    `  out <== ${chain.output};`,
    '}',
    'component main = T();',
  ].join('\n');
}

const field = (v: bigint) => ((v % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS;

describe('commitments: packing and Poseidon, in the circuit and in circomlibjs', () => {
  const items = windows();
  const c: Committed = { items, plan: planPacking(items) };
  let circuit: TestCircuit;
  before(async () => {
    circuit = await compileSource('commit', source(c));
  });

  it('packs greedily without exceeding 253 bits per chunk, over several Poseidon blocks', () => {
    for (const chunk of c.plan) {
      const used = chunk.reduce((a, [i]) => a + items[i].bits, 0);
      assert.ok(used <= CHUNK_BITS, `chunk of ${used} bits`);
    }
    assert.deepEqual(c.plan.flat().map(([i]) => i), items.map((_, i) => i), 'every item once, in order');
    assert.ok(c.plan.length > 15, `${c.plan.length} chunks: more than one Poseidon block`);
  });

  it('agrees with circomlibjs on 100 vectors, including the extremes of every window', async () => {
    const vectors: bigint[][] = [items.map((it) => it.lo), items.map((it) => it.lo + (1n << BigInt(it.bits)) - 1n)];
    vectors.push(items.map((it) => (it.lo <= -1n ? -1n : it.lo)), items.map((it) => (it.lo <= 0n && it.lo + (1n << BigInt(it.bits)) > 0n ? 0n : it.lo)));
    while (vectors.length < 100) vectors.push(items.map(random));
    for (const [k, v] of vectors.entries()) {
      const salt = k % 3 === 0 ? 0n : BigInt(`0x${randomBytes(31).toString('hex')}`);
      const w = await circuit.witness.calculateWitness({ v: v.map((x) => field(x).toString()), salt: salt.toString() }, true);
      assert.equal(w[1], await commit(c, v, salt, 'v'), `vector ${k}`);
    }
  });

  it('the range checks make the packing binding: a value outside its window has no witness', async () => {
    const v = items.map((it) => it.lo);
    for (const [i, bad] of [
      [2, -129n],
      [2, 128n],
      [0, 2n],
      [8, 1n << 252n],
    ] as [number, bigint][]) {
      const x = [...v];
      x[i] = bad;
      await assert.rejects(circuit.witness.calculateWitness({ v: x.map((e) => field(e).toString()), salt: '0' }, true), `value ${bad} at ${i} must be rejected`);
      assert.throws(() => packValues(items, c.plan, x, 'v'), /outside/);
    }
  });

  it('soundness: a witness with a changed commitment or a changed value violates the constraints', async () => {
    const v = items.map(random);
    const w = await circuit.witness.calculateWitness({ v: v.map((x) => field(x).toString()), salt: '3' }, true);
    assert.deepEqual(circuit.r1cs.violations(w), []);
    // The commitment, two values and the salt.
    assertEachChangeBreaks(circuit, w, ['main.out', 'main.v[0]', 'main.v[41]', 'main.salt']);
  });

  it('different vectors (one value changed by one) give different commitments', async () => {
    const v = items.map(random);
    const base = await commit(c, v, 7n, 'v');
    for (const i of [0, 3, 9, items.length - 1]) {
      const x = [...v];
      x[i] = x[i] === items[i].lo ? x[i] + 1n : x[i] - 1n;
      assert.notEqual(await commit(c, x, 7n, 'v'), base);
    }
    assert.notEqual(await commit(c, v, 8n, 'v'), base, 'the salt changes the commitment');
  });
});

describe('hashed weights in a compiled model (iris MLP)', () => {
  let circuit: TestCircuit;
  let witness: bigint[];
  let hidden: { offset: number; weightLo: bigint; weightBits: number };
  before(async () => {
    const { dir, manifest } = await compiled('iris_mlp', { weights: 'hashed' });
    const { program } = loadBuild(dir);
    circuit = await loadCircuit(dir);
    const statement = await PublicStatement.for(program, manifest.visibility, manifest.circuit.publicLayout);
    const q = quantizeInput(program, testSamples('iris_mlp').inputs[0]);
    witness = await circuit.witness.calculateWitness(statement.circuitInputs(q, { salts: {}, recipient: 0n }), true);
    const op = program.ops.find((o) => o.kind === 'linear' && o.hidden);
    if (op?.kind !== 'linear' || !op.hidden) throw new Error('no hidden linear op');
    hidden = op.hidden;
  });

  it('the honest witness satisfies the R1CS', () => {
    assert.deepEqual(circuit.r1cs.violations(witness), []);
  });

  it('soundness: a changed weight, product, output or weights commitment alone breaks a constraint', () => {
    assertEachChangeBreaks(circuit, witness, ['main.w[0]', 'main.w[5]', 'main.op1_p[0]', 'main.out[0]', 'main.wHash']);
  });

  it('a weight outside its range-checked window has no witness', async () => {
    const { dir, manifest } = await compiled('iris_mlp', { weights: 'hashed' });
    const { program } = loadBuild(dir);
    const statement = await PublicStatement.for(program, manifest.visibility, manifest.circuit.publicLayout);
    const inputs = statement.circuitInputs(quantizeInput(program, testSamples("iris_mlp").inputs[0]), { salts: {}, recipient: 0n });
    const w = [...(inputs.w as string[])];
    w[hidden.offset] = String(((hidden.weightLo + (1n << BigInt(hidden.weightBits))) % FIELD_MODULUS + FIELD_MODULUS) % FIELD_MODULUS);
    await assert.rejects(circuit.witness.calculateWitness({ ...inputs, w }, true));
  });
});

describe('recipient, nullifier and separate salts in a compiled model (iris MLP, private input, hashed output)', () => {
  let circuit: TestCircuit;
  let witness: bigint[];
  let statement: PublicStatement;
  const recipient = BigInt('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
  before(async () => {
    const { dir, manifest } = await compiled('iris_mlp', { input: 'private', output: 'hashed' });
    const { program } = loadBuild(dir);
    circuit = await loadCircuit(dir);
    statement = await PublicStatement.for(program, manifest.visibility, manifest.circuit.publicLayout);
    const q = quantizeInput(program, testSamples('iris_mlp').inputs[0]);
    witness = await circuit.witness.calculateWitness(statement.circuitInputs(q, { salts: await deriveSalts(manifest.visibility, 5n), recipient }), true);
  });

  it('the honest witness satisfies the R1CS and carries the nullifier and recipient the statement computes', async () => {
    assert.deepEqual(circuit.r1cs.violations(witness), []);
    const salts = await deriveSalts(statement.visibility, 5n);
    assert.equal(witness[wire(circuit, 'main.inNullifier')], await statement.inputNullifier(salts.input!));
    assert.equal(witness[wire(circuit, 'main.recipient')], recipient);
    assert.notEqual(salts.input, salts.output, 'the input and output salts differ');
  });

  it('soundness: a changed recipient, nullifier, salt or output commitment alone breaks a constraint', () => {
    assertEachChangeBreaks(circuit, witness, ['main.recipient', 'main.inNullifier', 'main.saltIn', 'main.saltOut', 'main.outHash']);
  });

  it('costs: the recipient is one constraint and the nullifier Poseidon(1), 213', async () => {
    const plain = (await compiled('iris_mlp', {})).manifest.circuit.constraints;
    const priv = (await compiled('iris_mlp', { input: 'private' })).manifest.circuit.constraints;
    // Poseidon(1) (t = 2) has 8 full rounds of 2 S-boxes and 56 partial rounds of 1, 3 constraints
    // each (216); its state starts with the constant 0, whose first S-box circom folds away (213).
    assert.equal(priv - plain, 213);
    const plainCircuit = await loadCircuit((await compiled('iris_mlp', {})).dir);
    assert.ok(plainCircuit.symbols.has('main.recipientSquare'), 'the recipient constraint survives circom --O2');
  });
});

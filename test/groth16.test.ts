import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { WitnessCalculatorBuilder } from 'circom_runtime';
import { after, before, describe, it } from 'node:test';
import { deriveSalts, PublicStatement } from '../src/commit/statement.js';
import { usesSalt } from '../src/commit/visibility.js';
import { loadBuild } from '../src/compile/manifest.js';
import { CircuitMismatchError, KeyFormatError } from '../src/errors.js';
import { loadOnnx } from '../src/onnx/import.js';
import { ProvingKey, wtnsValues } from '../src/prove/groth16.js';
import { choosePoolLayout, layoutFrom } from '../src/prove/layout.js';
import { ProvingPool } from '../src/prove/pool.js';
import { quantizeInput } from '../src/quant/io.js';
import { defaultQuantConfig, inputOps } from '../src/quant/program.js';
import { quantize } from '../src/quant/quantize.js';
import { referenceOutput } from '../src/quant/reference.js';
import { fromField } from '../src/prove/field.js';
import { synthesize } from '../src/r1cs/synthesize.js';
import { writeWtns } from '../src/r1cs/files.js';
import { releaseCurves } from '../src/setup/curve.js';
import { calibrationSamples, modelFile, testSamples, withKeys } from './helpers/fixtures.js';

after(() => releaseCurves());

describe('Groth16 prover (src/prove/groth16.ts)', () => {
  let build: ReturnType<typeof loadBuild>;
  let key: ProvingKey;
  let zkey: Uint8Array;
  let vkey: unknown;
  let honest: bigint[];

  before(async () => {
    build = loadBuild((await withKeys('iris_mlp', { input: 'hashed', output: 'hashed' })).dir);
    zkey = readFileSync(build.paths.zkey);
    key = ProvingKey.parse(zkey);
    vkey = JSON.parse(readFileSync(build.paths.vkey, 'utf8'));
    const v = build.manifest.visibility;
    const st = await PublicStatement.for(build.program, v, build.manifest.circuit.publicLayout);
    const signals = st.circuitInputs(quantizeInput(build.program, testSamples('iris_mlp').inputs[0]), { salts: usesSalt(v) ? await deriveSalts(v, 5n) : {}, recipient: 9n });
    // circom's witness (this build is circom's; the R1CS backend's own builds are proved in test/r1cs_backend.test.ts).
    const wc = await WitnessCalculatorBuilder(readFileSync(build.paths.wasm));
    honest = (await wc.calculateWitness(signals, true)) as bigint[];
  });

  it('proves what snarkjs proves: the proof verifies, with the same public signals', async () => {
    const wtns = writeWtns(honest);
    const ours = await key.prove(wtnsValues(wtns));
    const theirs = await snarkjs.groth16.prove({ type: 'mem', data: zkey }, { type: 'mem', data: wtns });
    assert.deepEqual(ours.publicSignals, theirs.publicSignals);
    assert.equal(await snarkjs.groth16.verify(vkey, ours.publicSignals, ours.proof), true);
    // Single-threaded (the pool's workers) gives a valid proof too.
    const single = await key.prove(wtnsValues(wtns), true);
    assert.equal(await snarkjs.groth16.verify(vkey, single.publicSignals, single.proof), true);
  });

  it('a witness that breaks a constraint gives a proof that does not verify', async () => {
    // The last wire is private (circom's last intermediate signal): changing it alone breaks the R1CS.
    const bad = [...honest];
    bad[bad.length - 1] += 1n;
    const r = await key.prove(wtnsValues(writeWtns(bad)));
    assert.equal(await snarkjs.groth16.verify(vkey, r.publicSignals, r.proof), false);
  });

  it('refuses malformed keys and witnesses of the wrong size, naming the problem', async () => {
    assert.throws(() => ProvingKey.parse(zkey.subarray(0, zkey.length - 100)), (e: unknown) => e instanceof KeyFormatError && /truncated in section/.test((e as Error).message));
    assert.throws(() => ProvingKey.parse(readFileSync(build.paths.r1cs)), (e: unknown) => e instanceof KeyFormatError && /not a zkey file/.test((e as Error).message));
    await assert.rejects(key.prove(wtnsValues(writeWtns(honest.slice(0, -1)))), (e: unknown) => e instanceof CircuitMismatchError && /the witness has \d+ values, the proving key \d+/.test((e as Error).message));
    assert.throws(() => ProvingKey.parse(zkey.subarray(0, 8)), KeyFormatError);
    // A coefficient entry naming a third matrix (or an index out of range) would make the WASM
    // evaluation write outside its buffers: refused before anything runs.
    const section4 = sectionOffset(zkey, 4);
    for (const [field, value, why] of [[0, 2, /matrix 2/], [4, 1 << 30, /constraint 1073741824/], [8, 1 << 30, /wire 1073741824/]] as const) {
      const bad = Uint8Array.from(zkey);
      new DataView(bad.buffer).setUint32(section4 + 4 + field, value, true);
      assert.throws(() => ProvingKey.parse(bad), (e: unknown) => e instanceof KeyFormatError && why.test((e as Error).message));
    }
    const wtns = writeWtns(honest);
    const shortHeader = Uint8Array.from(wtns);
    new DataView(shortHeader.buffer).setUint32(12 + 12 + 36, honest.length + 1, true); // the header's value count
    assert.throws(() => wtnsValues(shortHeader), /the witness header says/);
  });
});

describe('input step folded into the first layer', () => {
  it('a tiny input step does not cost the first layer its weight precision', async () => {
    // Inputs in [0, 0.001] at 8 bits (step ~3.9e-6) into weights ~0.01: folded weights ~4e-8.
    const { GraphBuilder } = await import('./helpers/onnx_builder.js');
    const { scratchDir } = await import('./helpers/fixtures.js');
    const g = new GraphBuilder('x', [1, 3]);
    const w = g.init([2, 3], [0.011, -0.013, 0.007, 0.009, 0.012, -0.006]);
    const y = g.node('Gemm', ['x', w], { transB: 1 });
    const graph = loadOnnx(g.save(join(scratchDir('tinystep'), 't.onnx'), y, [1, 2]));
    const xs = [[0.0005, 0.0009, 0.0001], [0.0002, 0.0004, 0.0008], [0.001, 0, 0.0005]];
    const program = quantize(graph, xs, { ...defaultQuantConfig, inputBits: 8, weightBits: 8, activationBits: 8, inputRange: { min: [0, 0, 0], max: [0.001, 0.001, 0.001] } });
    assert.ok(program.inputs[0].scale !== undefined);
    const { evaluateFloat } = await import('../src/ir/float_eval.js');
    const { decodeOutput } = await import('../src/quant/io.js');
    for (const x of xs) {
      const want = evaluateFloat(graph, x).get(graph.output.name)!;
      const got = decodeOutput(program, referenceOutput(program, quantizeInput(program, x)));
      want.forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 0.02 * 2.5e-5, `output ${i}: ${got[i]} vs ${v}`));
    }
  });

  it('a [0, 1] input read only by a convolution uses all 2^bits levels, and the reference stays bit-exact with the R1CS', () => {
    const graph = loadOnnx(modelFile('lenet5', 'model.onnx'));
    const config = { ...defaultQuantConfig, inputBits: 4, weightBits: 8, activationBits: 10, inputRange: { min: new Array(784).fill(0), max: new Array(784).fill(1) } };
    const program = quantize(graph, calibrationSamples('lenet5').inputs.slice(0, 4), config);
    const [input] = inputOps(program);
    assert.equal(program.inputs[0].scale, 1 / 15);
    assert.ok(input.lo.every((lo) => lo === 0n) && input.bits.every((b) => b === 4));
    // 1.0 is the top level (15), 0.5 rounds to level 8: a power-of-two step would need 5 bits for 1.0.
    const x = new Array(784).fill(0);
    [x[0], x[1], x[2]] = [1, 0.5, 1 / 15];
    assert.deepEqual(quantizeInput(program, x).slice(0, 4), [15n, 8n, 1n, 0n]);
    assert.throws(() => quantizeInput(program, [1.05, ...x.slice(1)]), /outside the range \[0, 1\]/);
    // The circuit (R1CS backend, satisfied witness) computes exactly the integer reference.
    const q = quantizeInput(program, testSamples('lenet5').inputs[0]);
    const want = referenceOutput(program, q);
    const { cs } = synthesize(program, { input: 'public', output: 'public', weights: 'fixed' }, { in: q.map(String), recipient: '0' }, false);
    // Wire 0 is the constant one; the public outputs follow.
    assert.deepEqual(cs.values.slice(1, 1 + want.length).map(fromField), want);
  });
});

describe('proving pool layout (src/prove/layout.ts)', () => {
  it('picks single-threaded workers when they prove more per second, one multi-threaded worker otherwise or when memory is short', () => {
    const GB = 2 ** 30;
    assert.deepEqual(pick(layoutFrom({ zkeyBytes: 1e6, cores: 2, singleMs: 1000, multiMs: 700 }, 8 * GB)), [2, 1]);
    assert.deepEqual(pick(layoutFrom({ zkeyBytes: 1e6, cores: 2, singleMs: 1000, multiMs: 400 }, 8 * GB)), [1, 'all']);
    // Two 800 MB keys need about 9.6 GB of proving memory: one worker, whatever the times.
    const tight = layoutFrom({ zkeyBytes: 8e8, cores: 2, singleMs: 1000, multiMs: 900 }, 4 * GB);
    assert.deepEqual(pick(tight), [1, 'all']);
    assert.match(tight.reason, /would need about .* GB, .* GB free/);
  });

  it('a worker that proves on every core gives valid proofs; the measured layout is kept and reused', async () => {
    const { dir } = await withKeys('iris_mlp');
    const pool = new ProvingPool(dir, 1, { threadsPerWorker: 'all' });
    try {
      const [item] = await pool.prove([testSamples('iris_mlp').inputs[0]]);
      assert.ok(item.outcome.ok);
      const vk = JSON.parse(readFileSync(join(dir, 'verification_key.json'), 'utf8'));
      assert.equal(await snarkjs.groth16.verify(vk, item.outcome.result.publicSignals, item.outcome.result.proof), true);
    } finally {
      await pool.destroy();
    }
    const layout = await choosePoolLayout(dir, 2);
    assert.ok(layout.workers >= 1 && /proofs\/s/.test(layout.reason));
    const recorded = statSync(join(dir, 'pool_layout.json')).mtimeMs;
    await choosePoolLayout(dir, 2);
    assert.equal(statSync(join(dir, 'pool_layout.json')).mtimeMs, recorded, 'measured once per key');
  });
});

function pick(l: { workers: number; threadsPerWorker: 1 | 'all' }): [number, 1 | 'all'] {
  return [l.workers, l.threadsPerWorker];
}

/** Byte offset of a binfile section's data (zkey, wtns). */
function sectionOffset(bytes: Uint8Array, type: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let p = 12, i = 0; i < v.getUint32(8, true); i++) {
    const size = Number(v.getBigUint64(p + 4, true));
    if (v.getUint32(p, true) === type) return p + 12;
    p += 12 + size;
  }
  throw new Error(`no section ${type}`);
}

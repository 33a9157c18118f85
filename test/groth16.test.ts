import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as snarkjs from 'snarkjs';
import { WitnessCalculatorBuilder } from 'circom_runtime';
import { after, before, describe, it } from 'node:test';
import { deriveSalts, PublicStatement } from '../src/commit/statement.js';
import { usesSalt } from '../src/commit/visibility.js';
import { loadBuild } from '../src/compile/manifest.js';
import { CircuitMismatchError, KeyFormatError } from '../src/errors.js';
import { loadOnnx } from '../src/onnx/import.js';
import { ProvingKey, wtnsValues } from '../src/prove/groth16.js';
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
  });
});

describe('input step folded into the first layer', () => {
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

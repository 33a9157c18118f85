/**
 * The r1cs backend (src/r1cs): circuits built directly from the op definitions must be circom's
 * circuits, constraint for constraint (the count differs only by the output bindings circom
 * substitutes away), with the same public signals, a witness that satisfies them, and no witness
 * with a changed value that does. Every conformance case is cross-checked too
 * (test/helpers/conformance.ts).
 */
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as snarkjs from 'snarkjs';
import { WitnessCalculatorBuilder } from 'circom_runtime';
import { readFileSync } from 'node:fs';
import { compile } from '../src/compile/compile.js';
import { loadBuild } from '../src/compile/manifest.js';
import { PublicStatement, deriveSalts } from '../src/commit/statement.js';
import { usesSalt, type Visibility } from '../src/commit/visibility.js';
import { FIELD_MODULUS } from '../src/prove/field.js';
import { buildNativeWitness } from '../src/prove/native_witness.js';
import { Prover } from '../src/prove/prover.js';
import { quantizeInput } from '../src/quant/io.js';
import { writeR1cs, writeWtns } from '../src/r1cs/files.js';
import { synthesize } from '../src/r1cs/synthesize.js';
import { WitnessError } from '../src/r1cs/system.js';
import { releaseCurves } from '../src/setup/curve.js';
import { setup } from '../src/setup/setup.js';
import { verify } from '../src/verify/verify.js';
import { compiled, modelFile, scratchDir, testSamples, type BundledModel } from './helpers/fixtures.js';
import { R1cs } from './helpers/r1cs.js';
import { crossCheck, nonLinear } from './helpers/r1cs_backend.js';

const RECIPIENT = 0x1234567890abcdef1234567890abcdef12345678n;

const cases: [BundledModel, Partial<Visibility> | undefined][] = [
  ['iris_mlp', undefined],
  ['digits_cnn', undefined],
  ['digits_tanh_mlp', undefined],
  ['digits_residual_mlp', undefined],
  ['digits_avgpool_cnn', undefined],
  ['iris_mlp', { input: 'hashed', output: 'hashed' }],
  ['iris_mlp', { input: 'private' }],
  ['iris_mlp', { weights: 'hashed', output: 'hashed' }],
];

after(() => releaseCurves());

for (const [model, visibility] of cases) {
  describe(`r1cs backend: ${model}${visibility ? ` (${JSON.stringify(visibility)})` : ''}`, () => {
    let build: ReturnType<typeof loadBuild>;
    let statement: PublicStatement;
    const signalsOf = async (x: number[], salt: bigint) => {
      const v = build.manifest.visibility;
      return statement.circuitInputs(quantizeInput(build.program, x), { salts: usesSalt(v) ? await deriveSalts(v, salt) : {}, recipient: RECIPIENT });
    };
    before(async () => {
      build = loadBuild((await compiled(model, visibility)).dir);
      statement = await PublicStatement.for(build.program, build.manifest.visibility, build.manifest.circuit.publicLayout);
    });

    it('is circom\'s circuit: same public signals, circom\'s count plus the output bindings, a satisfied witness', async () => {
      const wc = await WitnessCalculatorBuilder(readFileSync(build.paths.wasm));
      const circomNonLinear = nonLinear((await R1cs.load(build.paths.r1cs)).constraints);
      for (const [k, x] of testSamples(model).inputs.slice(0, 3).entries()) {
        const signals = await signalsOf(x, BigInt(k + 7));
        const differs = crossCheck(build.program, build.manifest.visibility, signals, circomNonLinear, await wc.calculateWitness(signals, true));
        assert.equal(differs, undefined);
      }
    });

    it('written files: snarkjs reads them, the witness checks, and changed values are rejected', async () => {
      const dir = scratchDir('r1cs-backend');
      const s = synthesize(build.program, build.manifest.visibility, await signalsOf(testSamples(model).inputs[0], 3n), true);
      const header = { wires: s.cs.wires, publicOutputs: s.publicOutputs, publicInputs: s.publicInputs, privateInputs: s.privateInputs };
      writeFileSync(join(dir, 'c.r1cs'), writeR1cs(header, s.cs.constraints));
      writeFileSync(join(dir, 'c.wtns'), writeWtns(s.cs.values));
      const quiet = { info() {}, warn() {}, debug() {}, error() {} };
      assert.equal(await (snarkjs as unknown as { wtns: { check(r: string, w: string, l: object): Promise<boolean> } }).wtns.check(join(dir, 'c.r1cs'), join(dir, 'c.wtns'), quiet), true);
      const r1cs = await R1cs.load(join(dir, 'c.r1cs'));
      const honest = s.cs.values;
      assert.deepEqual(r1cs.violations(honest), []);
      // Changing one wire can only break the constraints that mention it.
      const touching = new Map<number, number[]>();
      r1cs.constraints.forEach((abc, k) => {
        for (const w of new Set(abc.flatMap((lc) => [...lc.keys()]))) touching.set(w, [...(touching.get(w) ?? []), k]);
      });
      const changed = (wire: number, to: bigint) => r1cs.violations(honest.map((v, i) => (i === wire ? to : v)), touching.get(wire) ?? []).length > 0;
      // Every public signal (outputs or commitments, the recipient, public inputs).
      for (let i = 1; i <= s.publicOutputs + s.publicInputs; i++) assert.ok(changed(i, (honest[i] + 1n) % FIELD_MODULUS), `public signal ${i - 1}`);
      // Every internal wire: bits flipped, other values moved by one. The only exception is the
      // inverse of a zero in a domain test (circuits/piecewise_linear.circom), which the
      // constraints leave free because its value does not matter.
      const first = 1 + s.publicOutputs + s.publicInputs + s.privateInputs;
      for (let i = first; i < honest.length; i++) {
        const v = honest[i];
        if (s.cs.free.has(i)) continue;
        assert.ok(changed(i, v === 0n ? 1n : v === 1n ? 0n : (v + 1n) % FIELD_MODULUS), `internal wire ${i}`);
      }
    });
  });
}

describe('r1cs backend: compile, setup, prove, verify', () => {
  it('a compact digits CNN built directly proves and verifies; a changed public signal does not; a bad input is a clear error', async () => {
    const out = join(scratchDir('r1cs-e2e'), 'build');
    const m = await compile(modelFile('digits_cnn', 'model.onnx'), { calibration: modelFile('digits_cnn', 'calibration.json'), test: modelFile('digits_cnn', 'test.json'), out, backend: 'r1cs', visibility: { input: 'hashed', output: 'hashed' } });
    assert.equal(m.circuit.backend, 'r1cs');
    const circom = (await compiled('digits_cnn', { input: 'hashed', output: 'hashed' })).manifest;
    // circom's non-linear constraints plus the two output bindings; circom may keep a few linear ones.
    assert.ok(Math.abs(m.circuit.constraints - (circom.circuit.constraints + 2)) <= 2, `${m.circuit.constraints} vs circom ${circom.circuit.constraints}`);
    await setup(out);
    const prover = await Prover.load(out, { singleThread: true });
    try {
      const x = testSamples('digits_cnn').inputs[0];
      const r = await prover.prove(x, { recipient: RECIPIENT });
      const ok = await verify(out, r, { insecureDevKeys: true });
      assert.equal(ok.valid, true);
      const bad = structuredClone({ proof: r.proof, publicSignals: r.publicSignals });
      bad.publicSignals[0] = String(BigInt(bad.publicSignals[0]) + 1n);
      assert.equal((await verify(out, bad, { insecureDevKeys: true })).valid, false);
    } finally {
      await prover.close();
    }
    // A witness outside the circuit's input range is refused by its constraint, naming it.
    const b = loadBuild(out);
    const st = await PublicStatement.for(b.program, b.manifest.visibility, b.manifest.circuit.publicLayout);
    const signals = st.circuitInputs(quantizeInput(b.program, testSamples('digits_cnn').inputs[0]), { salts: await deriveSalts(b.manifest.visibility, 1n), recipient: 0n });
    (signals.in as string[])[0] = '100000';
    assert.throws(() => synthesize(b.program, b.manifest.visibility, signals, false), (e: unknown) => e instanceof WitnessError && /input range/.test((e as Error).message));
    // Malformed signals are named, never read as something else.
    assert.throws(() => synthesize(b.program, b.manifest.visibility, { ...signals, saltIn: '1.5' }, false), /circuit signal saltIn\[0\] = "1.5" is not an integer in decimal/);
    assert.throws(() => synthesize(b.program, b.manifest.visibility, { ...signals, extra: '1' }, false), /unknown circuit signal\(s\) extra/);
    const { saltOut: _dropped, ...missing } = signals;
    assert.throws(() => synthesize(b.program, b.manifest.visibility, missing, false), /circuit signal saltOut is missing/);
    // A witness that no longer fits the build's R1CS (program.json or zkml changed) stops before proving.
    const edited = join(scratchDir('r1cs-edited'), 'build');
    cpSync(out, edited, { recursive: true });
    const manifestFile = join(edited, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    manifest.circuit.constraints += 1;
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const stale = await Prover.load(edited, { singleThread: true });
    try {
      await assert.rejects(stale.prove(testSamples('digits_cnn').inputs[0]), /program\.json or zkml changed since compile; recompile the model/);
    } finally {
      await stale.close();
    }
    // Options that need circom say so.
    await assert.rejects(buildNativeWitness(out, signals), /--backend r1cs: it has no circom source/);
    await assert.rejects(compile(modelFile('iris_mlp', 'model.onnx'), { calibration: modelFile('iris_mlp', 'calibration.json'), out, backend: 'wasm' as 'r1cs' }), /unknown backend wasm; choose circom or r1cs/);
  });
});

describe('LeNet-5 end to end (issue 15: a real-size model in the default suite)', () => {
  it('compiles to at most 120,000 constraints at full agreement, sets up, proves on every core, verifies off-chain and on the EVM; a tampered proof fails both', async () => {
    const { embeddedChain } = await import('../src/chain/network.js');
    const { deployVerifier, verifyOnChain } = await import('../src/chain/onchain.js');
    const { verifierArtifact } = await import('../src/chain/verifier.js');
    const out = join(scratchDir('lenet5'), 'build');
    const src = (f: string) => modelFile('lenet5', f);
    const m = await compile(src('model.onnx'), {
      calibration: src('calibration.json'),
      test: src('test.json'),
      out,
      visibility: { input: 'hashed', output: 'hashed' },
      inputRange: '0:1',
      quant: { inputBits: 4, weightBits: 8, activationBits: 10 },
    });
    assert.equal(m.circuit.backend, 'r1cs');
    assert.ok(m.circuit.constraints <= 120_000, `${m.circuit.constraints} constraints`);
    assert.ok(m.accuracy.decisionAgreement! >= 0.99);
    await setup(out);
    const prover = await Prover.load(out);
    const chain = await embeddedChain();
    try {
      const r = await prover.prove(testSamples('lenet5').inputs[1], { recipient: RECIPIENT });
      assert.equal((await verify(out, r, { insecureDevKeys: true })).valid, true);
      const { contract } = await deployVerifier(chain, await verifierArtifact(out), { insecureDevKeys: true });
      assert.equal((await verifyOnChain(contract, r.proof, r.publicSignals)).valid, true);
      const bad = structuredClone({ proof: r.proof, publicSignals: r.publicSignals });
      bad.publicSignals[0] = String(BigInt(bad.publicSignals[0]) + 1n);
      assert.equal((await verify(out, bad, { insecureDevKeys: true })).valid, false);
      assert.equal((await verifyOnChain(contract, bad.proof, bad.publicSignals)).valid, false);
    } finally {
      await chain.close();
      await prover.close();
    }
  });
});

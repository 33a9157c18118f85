import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadBuild } from '../src/compile/manifest.js';
import { buildNativeWitness, missingToolchain, nativeBinary, witnessChoiceFile } from '../src/prove/native_witness.js';
import { Prover } from '../src/prove/prover.js';
import { quantizeInput } from '../src/quant/io.js';
import { releaseCurves } from '../src/setup/curve.js';
import { verify } from '../src/verify/verify.js';
import { testSamples, withKeys } from './helpers/fixtures.js';

const missing = missingToolchain();

describe('circom C++ witness generator', { skip: missing.length ? `missing ${missing.join(', ')}` : false }, () => {
  let dir: string;
  before(async () => {
    ({ dir } = await withKeys('iris_mlp'));
  });
  after(releaseCurves);

  it('builds, computes the same witness as the WASM calculator, and records the faster', async () => {
    const x = testSamples('iris_mlp').inputs[0];
    // buildNativeWitness compares the two witnesses byte for byte and throws if they differ.
    const choice = await buildNativeWitness(dir, { in: quantizeInput(loadBuild(dir).program, x).map(String), recipient: '0' });
    assert.ok(choice.wasmMs > 0 && choice.nativeMs > 0);
    assert.equal(choice.engine, choice.nativeMs < choice.wasmMs ? 'native' : 'wasm');
  });

  it('the prover uses the native generator when chosen, and falls back to WASM when it fails', async () => {
    const x = testSamples('iris_mlp').inputs[1];
    const choice = JSON.parse(readFileSync(witnessChoiceFile(dir), 'utf8'));
    writeFileSync(witnessChoiceFile(dir), JSON.stringify({ ...choice, engine: 'native' }));
    let prover = await Prover.load(dir);
    const native = await prover.prove(x);
    await prover.close();
    assert.equal(native.timings.witnessEngine, 'native');
    assert.equal((await verify(dir, native, { insecureDevKeys: true })).valid, true); // dev keys

    const binary = nativeBinary(dir);
    const original = readFileSync(binary);
    writeFileSync(binary, '#!/bin/sh\nexit 3\n');
    chmodSync(binary, 0o755);
    try {
      prover = await Prover.load(dir);
      const fallback = await prover.prove(x);
      await prover.close();
      assert.equal(fallback.timings.witnessEngine, 'wasm');
      assert.deepEqual(fallback.publicSignals, native.publicSignals);
    } finally {
      writeFileSync(binary, original);
      writeFileSync(witnessChoiceFile(dir), JSON.stringify(choice));
    }
  });
});

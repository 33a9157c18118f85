import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { after, before, describe, it } from 'node:test';
import type { ethers } from 'ethers';
import { deployVerifier, verifyOnChain } from '../src/chain/onchain.js';
import { embeddedChain, rpcChain, type Chain } from '../src/chain/network.js';
import { startHardhatNode, type LocalNode } from '../src/chain/local_node.js';
import { MAX_CODE_SIZE, estimatedVerifierSize, verifierArtifact, verifierSizeProblem } from '../src/chain/verifier.js';
import { FIELD_MODULUS } from '../src/prove/field.js';
import { proveBatch } from '../src/prove/pool.js';
import { Prover, type ProofResult } from '../src/prove/prover.js';
import { releaseCurves } from '../src/setup/curve.js';
import { setup } from '../src/setup/setup.js';
import { verify, type ProofDocument } from '../src/verify/verify.js';
import { bundledModels, compiled, scratchDir, testSamples, withKeys } from './helpers/fixtures.js';
import { defaultPtauCache } from '../src/paths.js';

/** The test builds have dev keys, which verify() refuses unless told (test/provenance.test.ts). */
const DEV_KEYS = { insecureDevKeys: true };

/** Hardhat's first well-known dev account key (funded on every hardhat node). */
const HARDHAT_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

function tamperings(r: ProofDocument): [string, ProofDocument][] {
  const shift = (s: string, by: bigint) => String(BigInt(s) + by);
  const clone = () => structuredClone({ proof: r.proof, publicSignals: r.publicSignals });
  const proofA = clone();
  proofA.proof.pi_a[0] = shift(proofA.proof.pi_a[0], 1n);
  const proofC = clone();
  [proofC.proof.pi_c[0], proofC.proof.pi_c[1]] = [r.proof.pi_a[0], r.proof.pi_a[1]];
  const output = clone();
  output.publicSignals[0] = shift(output.publicSignals[0], 1n);
  const input = clone();
  input.publicSignals[input.publicSignals.length - 1] = shift(input.publicSignals[input.publicSignals.length - 1], 1n);
  const aliased = clone();
  aliased.publicSignals[0] = shift(aliased.publicSignals[0], FIELD_MODULUS);
  // Default layout: outputs, the recipient, then the inputs.
  const recipient = clone();
  const at = recipient.publicSignals.length - 1 - (r as { input?: number[] }).input!.length;
  recipient.publicSignals[at] = shift(recipient.publicSignals[at], 1n);
  return [
    ['proof point A changed', proofA],
    ['proof point C replaced', proofC],
    ['output signal changed', output],
    ['input signal changed', input],
    ['output signal + field modulus (aliased)', aliased],
    ['recipient signal changed', recipient],
  ];
}

describe('prove and verify (iris MLP)', () => {
  let dir: string;
  let proof: ProofResult;
  before(async () => {
    ({ dir } = await withKeys('iris_mlp'));
    const prover = await Prover.load(dir);
    proof = await prover.prove(testSamples('iris_mlp').inputs[0]);
    await prover.close();
  });
  after(releaseCurves);

  it('setup is cached by circuit hash', async () => {
    const t = performance.now();
    const again = await setup(dir);
    assert.equal(again.cached, true);
    assert.ok(performance.now() - t < 1000);
    assert.equal(again.ptau.source, 'dev');
  });

  it('a valid proof verifies off-chain and attests the proved output', async () => {
    const v = await verify(dir, proof, DEV_KEYS);
    assert.equal(v.valid, true, v.reason);
    assert.deepEqual(v.output, proof.output);
  });

  for (const [what, doc] of [['placeholder', undefined]] as const) void what, void doc;

  it('tampered proofs and public signals are rejected off-chain', async () => {
    for (const [what, doc] of tamperings(proof)) {
      const v = await verify(dir, doc, DEV_KEYS);
      assert.equal(v.valid, false, what);
      assert.ok(v.reason, what);
    }
    const aliased = tamperings(proof)[4][1];
    assert.match((await verify(dir, aliased, DEV_KEYS)).reason!, /not a canonical field element/);
    const garbage = { proof: { pi_a: ['x'], pi_b: [], pi_c: [] }, publicSignals: proof.publicSignals } as unknown as ProofDocument;
    assert.equal((await verify(dir, garbage, DEV_KEYS)).valid, false);
    assert.equal((await verify(dir, { ...proof, publicSignals: proof.publicSignals.slice(1) }, DEV_KEYS)).valid, false);
  });

  it('a batch on 2 workers proves every good input and reports the bad one', async () => {
    const good = testSamples('iris_mlp').inputs.slice(1, 5);
    const inputs = [good[0], [1, 2, 3], good[1], [5, 3, 1e6, 1], good[2], good[3]];
    const items = await proveBatch(dir, inputs, { workers: 2 });
    assert.equal(items.length, inputs.length);
    const failed = items.filter((i) => !i.outcome.ok);
    assert.deepEqual(failed.map((i) => i.index), [1, 3]);
    assert.match(JSON.stringify(failed[0].outcome), /SHAPE_MISMATCH/);
    assert.match(JSON.stringify(failed[1].outcome), /FIXED_POINT_RANGE/);
    for (const { outcome } of items) {
      if (!outcome.ok) continue;
      assert.equal((await verify(dir, outcome.result, DEV_KEYS)).valid, true);
    }
  });

  for (const network of ['embedded EVM', 'hardhat node over JSON-RPC'] as const) {
    describe(`on-chain: ${network}`, () => {
      let chain: Chain;
      let node: LocalNode | undefined;
      let contract: ethers.Contract;
      before(async () => {
        if (network === 'embedded EVM') chain = await embeddedChain();
        else {
          node = await startHardhatNode();
          chain = await rpcChain(node.url, HARDHAT_KEY_0);
        }
        ({ contract } = await deployVerifier(chain, await verifierArtifact(dir)));
      });
      after(async () => {
        await chain?.close();
        await node?.stop();
      });

      it('the generated verifier accepts the proof', async () => {
        const r = await verifyOnChain(contract, proof.proof, proof.publicSignals);
        assert.equal(r.valid, true);
        assert.ok(r.gas > 100_000n && r.gas < 1_000_000n, `gas ${r.gas}`);
      });

      if (network !== 'embedded EVM') {
        it('an unfunded signer gets a short error naming the node', async () => {
          const broke = await rpcChain(node!.url, `0x${'11'.repeat(32)}`);
          try {
            await assert.rejects(deployVerifier(broke, await verifierArtifact(dir)), (e: Error) => {
              assert.match(e.message, /deploying Groth16Verifier on http:\/\/127.0.0.1:\d+ failed: .*(funds|balance)/i);
              assert.ok(e.message.length < 600, 'the message does not embed the raw transaction');
              return true;
            });
          } finally {
            await broke.close();
          }
        });
      }

      it('and rejects every tampering, including a signal aliased by the field modulus', async () => {
        for (const [what, doc] of tamperings(proof)) {
          const r = await verifyOnChain(contract, doc.proof, doc.publicSignals);
          assert.equal(r.valid, false, what);
        }
      });
    });
  }

  it('a JSON-RPC node without unlocked accounts needs a key, and an unreachable node is a clear error', async () => {
    await assert.rejects(rpcChain('http://127.0.0.1:9'), /cannot reach the JSON-RPC node at http:\/\/127.0.0.1:9/);
  });
});

describe('prove and verify (digits MLP, 64 public inputs)', () => {
  after(releaseCurves);

  it('proves, verifies off-chain and on the embedded EVM', async () => {
    const { dir } = await withKeys('digits_mlp');
    const prover = await Prover.load(dir);
    const proof = await prover.prove(testSamples('digits_mlp').inputs[3]);
    await prover.close();
    assert.equal((await verify(dir, proof, DEV_KEYS)).valid, true);
    const chain = await embeddedChain();
    try {
      const { contract } = await deployVerifier(chain, await verifierArtifact(dir));
      assert.equal((await verifyOnChain(contract, proof.proof, proof.publicSignals)).valid, true);
      const [, forged] = tamperings(proof)[3];
      assert.equal((await verifyOnChain(contract, forged.proof, forged.publicSignals)).valid, false);
    } finally {
      await chain.close();
    }
  });
});

describe('setup with --ptau (a ceremony file)', () => {
  after(releaseCurves);

  it('uses the file, records a dev ptau given as a file as dev (insecure), and refuses bad or too small files', async () => {
    const { dir } = await compiled('iris_mlp');
    const cache = readdirSync(defaultPtauCache).find((f) => /^dev_bn128_\d+\.ptau$/.test(f));
    assert.ok(cache, 'the dev ptau cache has a file (made by earlier setups)');
    const ceremony = join(scratchDir('ptau'), 'ceremony.ptau');
    copyFileSync(join(defaultPtauCache, cache), ceremony);
    const r = await setup(dir, { ptau: ceremony });
    assert.equal(r.cached, false);
    // Its only contribution is a beacon: its secret is public, whatever its name (test/provenance.test.ts has a real one).
    assert.deepEqual([r.ptau.source, r.ptau.secretPublic, r.ptau.file], ['dev', true, ceremony]);
    assert.equal((await setup(dir, { ptau: ceremony })).cached, true);

    const text = join(scratchDir('ptau'), 'text.ptau');
    writeFileSync(text, 'not a ptau file at all, but long enough to have a header of sixty-four bytes');
    await assert.rejects(setup(dir, { ptau: text }), /is not a powers-of-tau file/);
    await assert.rejects(setup(dir, { ptau: join(scratchDir('ptau'), 'missing.ptau') }), /the --ptau file does not exist/);

    const small = join(scratchDir('ptau'), 'small.ptau');
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    await snarkjs.powersOfTau.newAccumulator(curve, 4, small);
    await assert.rejects(setup(dir, { ptau: small }), /holds 2\^4 powers; this circuit needs 2\^9/);
  });
});

describe('every bundled model proves and verifies off-chain and on-chain', () => {
  let chain: Chain;
  before(async () => {
    chain = await embeddedChain();
  });
  after(async () => {
    await chain?.close();
    await releaseCurves();
  });

  for (const model of bundledModels.filter((m) => m !== 'iris_mlp' && m !== 'digits_mlp')) {
    it(model, async () => {
      const { dir } = await withKeys(model);
      const prover = await Prover.load(dir);
      const proof = await prover.prove(testSamples(model).inputs[1]);
      await prover.close();
      const v = await verify(dir, proof, DEV_KEYS);
      assert.equal(v.valid, true, v.reason);
      const artifact = await verifierArtifact(dir);
      // compile's and inspect's estimate, on the high side and within 5%, so that it warns in time.
      const estimate = estimatedVerifierSize(proof.publicSignals.length);
      assert.ok(estimate >= artifact.codeSize && estimate <= artifact.codeSize * 1.05, `estimated ${estimate} bytes, compiled ${artifact.codeSize}`);
      assert.equal(verifierSizeProblem(proof.publicSignals.length) !== undefined, artifact.codeSize > MAX_CODE_SIZE);
      if (artifact.codeSize > MAX_CODE_SIZE) {
        // 784 public pixels: the verifier cannot exist on an EVM chain; deploying says so.
        await assert.rejects(deployVerifier(chain, artifact), /over the EVM's 24,576-byte limit \(EIP-170\): it holds a constant point for each of 795 public signals/);
        return;
      }
      const { contract } = await deployVerifier(chain, artifact);
      const onchain = await verifyOnChain(contract, proof.proof, proof.publicSignals);
      assert.equal(onchain.valid, true);
      const [, forged] = tamperings(proof)[2];
      assert.equal((await verifyOnChain(contract, forged.proof, forged.publicSignals)).valid, false);
    });
  }
});

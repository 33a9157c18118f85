import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ethers } from 'ethers';
import { loadBuild, type Manifest } from '../src/compile/manifest.js';
import { commitWeights } from '../src/commit/commitments.js';
import { modeName, parseVisibility, type Visibility } from '../src/commit/visibility.js';
import { startHardhatNode, type LocalNode } from '../src/chain/local_node.js';
import { rpcChain, type Chain } from '../src/chain/network.js';
import { deployContract, solidityArgs } from '../src/chain/onchain.js';
import { ContractRevertError, decodeRevert, deployRegistry, readResult, registerModel, registrationFor, submitProof, type Registration } from '../src/chain/registry.js';
import { projectContract } from '../src/chain/solidity.js';
import { verifierArtifact } from '../src/chain/verifier.js';
import { deployVerifier } from '../src/chain/onchain.js';
import { FIELD_MODULUS } from '../src/prove/field.js';
import { Prover, type ProofResult } from '../src/prove/prover.js';
import { parseProgram, serializeProgram } from '../src/quant/program.js';
import { quantizeInput } from '../src/quant/io.js';
import { referenceOutput } from '../src/quant/reference.js';
import { releaseCurves } from '../src/setup/curve.js';
import { verify } from '../src/verify/verify.js';
import { scratchDir, testSamples, withKeys, type BundledModel } from './helpers/fixtures.js';

/** Hardhat's first two well-known dev account keys (funded on every hardhat node). */
const KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

const modes: Visibility[] = [];
for (const input of ['public', 'private', 'hashed'] as const)
  for (const output of ['public', 'hashed'] as const) for (const weights of ['fixed', 'hashed'] as const) modes.push({ input, output, weights });

interface Registered {
  dir: string;
  manifest: Manifest;
  modelId: bigint;
  registration: Registration;
}

async function expectRevert(p: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ContractRevertError, `expected the ${name} revert, got ${String(err)}`);
    assert.equal(err.errorName, name);
    return true;
  });
}

async function proveOne(dir: string, input: number[], salt?: bigint): Promise<ProofResult> {
  const prover = await Prover.load(dir);
  try {
    return await prover.prove(input, { salt });
  } finally {
    await prover.close();
  }
}

describe('inference registry on a hardhat node (JSON-RPC)', () => {
  let node: LocalNode;
  let owner: Chain;
  let other: Chain;
  let registry: ethers.Contract;
  const registered = new Map<string, Registered>();

  async function register(model: BundledModel, v: Visibility, chain = owner): Promise<Registered> {
    const key = `${model} ${modeName(v)}`;
    const known = registered.get(key);
    if (known) return known;
    const { dir, manifest } = await withKeys(model, v);
    const verifier = await deployVerifier(chain, await verifierArtifact(dir));
    const vkey = JSON.parse(readFileSync(join(dir, 'verification_key.json'), 'utf8'));
    const registration = registrationFor(manifest, vkey, verifier.address, `zkml://${model}/${modeName(v)}`);
    const { modelId } = await registerModel(registry.connect(chain.signer) as ethers.Contract, registration);
    const r = { dir, manifest, modelId, registration };
    registered.set(key, r);
    return r;
  }

  before(async () => {
    node = await startHardhatNode();
    owner = await rpcChain(node.url, KEY_0);
    other = await rpcChain(node.url, KEY_1);
    registry = (await deployRegistry(owner)).contract;
  });
  after(async () => {
    await owner?.close();
    await other?.close();
    await node?.stop();
    await releaseCurves();
  });

  for (const v of modes) {
    it(`iris MLP, ${modeName(v)}: verifies off-chain and through the registry, and records the result`, async () => {
      const m = await register('iris_mlp', v);
      const expectedSignals = (v.output === 'public' ? 3 : 1) + (v.input === 'public' ? 4 : v.input === 'hashed' ? 1 : 0) + (v.weights === 'hashed' ? 1 : 0);
      assert.equal(m.manifest.circuit.publicSignals, expectedSignals);
      const input = testSamples('iris_mlp').inputs[1];
      const proof = await proveOne(m.dir, input);
      const off = await verify(m.dir, proof);
      assert.equal(off.valid, true, off.reason);
      if (v.input !== 'public') assert.equal(off.input, undefined, 'a private or hashed input is not revealed');
      const s = await submitProof(registry, m.modelId, proof.proof, proof.publicSignals);
      const result = await readResult(registry, m.modelId, s.inputKey);
      assert.equal(result.exists, true);
      assert.equal(result.submitter, await owner.signer.getAddress());
      if (v.output === 'public') assert.deepEqual(result.output.map(String), proof.publicSignals.slice(0, 3));
      else assert.equal(String(result.outputCommitment), off.commitments!.output);
      if (v.input === 'hashed') assert.equal(BigInt(s.inputKey), BigInt(off.commitments!.input!));
      if (v.input === 'public') assert.equal(s.inputKey, ethers.solidityPackedKeccak256(proof.publicSignals.slice(-4).map(() => 'uint256'), proof.publicSignals.slice(-4)));
      // A replay of the same proof, and a fresh proof of the same statement, are both refused.
      await expectRevert(submitProof(registry, m.modelId, proof.proof, proof.publicSignals), 'ResultExists');
      if (v.input === 'public' && v.output === 'public') {
        const again = await proveOne(m.dir, input);
        assert.notDeepEqual(again.proof, proof.proof);
        await expectRevert(submitProof(registry, m.modelId, again.proof, again.publicSignals), 'ResultExists');
      }
    });
  }

  it('a proof for one model is rejected for another', async () => {
    const iris = await register('iris_mlp', parseVisibility({ input: 'hashed', output: 'hashed' }));
    const bc = await register('breast_cancer_logreg', parseVisibility({ input: 'hashed', output: 'hashed' }));
    const proof = await proveOne(bc.dir, testSamples('breast_cancer_logreg').inputs[0]);
    assert.equal(proof.publicSignals.length, iris.manifest.circuit.publicSignals, 'same layout, so only the verifier can tell');
    await expectRevert(submitProof(registry, iris.modelId, proof.proof, proof.publicSignals), 'InvalidProof');
    const fixed = await register('iris_mlp', parseVisibility({}));
    await expectRevert(submitProof(registry, fixed.modelId, proof.proof, proof.publicSignals), 'WrongSignalCount');
    const accepted = await submitProof(registry, bc.modelId, proof.proof, proof.publicSignals);
    assert.ok(accepted.gasUsed > 0n);
  });

  it('hashed weights: a commitment that does not match the registration is rejected, and changing one weight breaks old proofs', async () => {
    const v = parseVisibility({ weights: 'hashed' });
    const m = await register('iris_mlp', v);
    // The same circuit and keys with one weight changed by one step.
    const changed = scratchDir('changed-weight');
    cpSync(m.dir, changed, { recursive: true });
    const program = parseProgram(readFileSync(join(changed, 'program.json'), 'utf8'));
    const op = program.ops.find((o) => o.kind === 'linear')!;
    if (op.kind !== 'linear') throw new Error('unreachable');
    op.weight[0] += op.weight[0] > 0n ? -1n : 1n;
    writeFileSync(join(changed, 'program.json'), serializeProgram(program));
    const newCommitment = await commitWeights(program);
    assert.notEqual(String(newCommitment), m.manifest.weightsCommitment, 'one weight changes the commitment');

    const input = testSamples('iris_mlp').inputs[2];
    const oldProof = await proveOne(m.dir, input);
    const newProof = await proveOne(changed, input);
    assert.equal(newProof.publicSignals[3], String(newCommitment), 'the new proof carries the new commitment');
    assert.equal((await verify(changed, newProof)).valid, true, 'one circuit serves any weights of the architecture');
    const stale = await verify(changed, oldProof);
    assert.equal(stale.valid, false);
    assert.match(stale.reason!, /commits to weights/);
    // The registration pins the original weights: the changed model's proof does not match it.
    await expectRevert(submitProof(registry, m.modelId, newProof.proof, newProof.publicSignals), 'WeightsCommitmentMismatch');
    // Registered as its own model, the changed weights are accepted there and the old proof is not.
    const { modelId } = await registerModel(registry, { ...m.registration, weightsCommitment: String(newCommitment) });
    await expectRevert(submitProof(registry, modelId, oldProof.proof, oldProof.publicSignals), 'WeightsCommitmentMismatch');
    await submitProof(registry, modelId, newProof.proof, newProof.publicSignals);
    // A forged commitment signal passes the registration check only to fail the pairing.
    const forged = [...newProof.publicSignals];
    forged[3] = m.manifest.weightsCommitment!;
    await expectRevert(submitProof(registry, m.modelId, newProof.proof, forged), 'InvalidProof');
  });

  it('access control: only the owner changes a registration; unknown and disabled models are refused', async () => {
    const m = await register('iris_mlp', parseVisibility({ input: 'hashed' }));
    const asOther = registry.connect(other.signer) as ethers.Contract;
    await expectRevert(asOther.setActive(m.modelId, false).catch(decode), 'NotModelOwner');
    await expectRevert(asOther.setMetadataURI(m.modelId, 'evil').catch(decode), 'NotModelOwner');
    await expectRevert(asOther.transferModelOwnership(m.modelId, await other.signer.getAddress()).catch(decode), 'NotModelOwner');
    await expectRevert(registry.setActive(999n, false).catch(decode), 'UnknownModel');

    const proof = await proveOne(m.dir, testSamples('iris_mlp').inputs[3]);
    await expectRevert(submitProof(registry, 999n, proof.proof, proof.publicSignals), 'UnknownModel');
    await (await registry.setActive(m.modelId, false)).wait();
    await expectRevert(submitProof(registry, m.modelId, proof.proof, proof.publicSignals), 'ModelDisabled');
    await (await registry.setActive(m.modelId, true)).wait();
    // Ownership moves; the old owner loses control and the new one gains it.
    await (await registry.transferModelOwnership(m.modelId, await other.signer.getAddress())).wait();
    await expectRevert(registry.setActive(m.modelId, false).catch(decode), 'NotModelOwner');
    await (await asOther.setMetadataURI(m.modelId, 'ipfs://new')).wait();
    assert.equal((await registry.getModel(m.modelId)).metadataURI, 'ipfs://new');
    // Anyone may submit.
    const s = await submitProof(asOther, m.modelId, proof.proof, proof.publicSignals);
    assert.equal((await readResult(registry, m.modelId, s.inputKey)).submitter, await other.signer.getAddress());
    // Registrations are checked: a verifier without code, or a layout that contradicts its modes.
    const bad = { ...m.registration, verifier: await other.signer.getAddress() };
    await expectRevert(registerModel(registry, bad), 'InvalidRegistration');
    await expectRevert(registerModel(registry, { ...m.registration, weightsCommitment: '5' }), 'InvalidRegistration');
    await expectRevert(registerModel(registry, { ...m.registration, layout: { ...m.registration.layout, inputSize: 4 } }), 'InvalidRegistration');
  });

  it('malformed calldata is refused with a reason, and leaves nothing recorded', async () => {
    const m = await register('iris_mlp', parseVisibility({}));
    const proof = await proveOne(m.dir, testSamples('iris_mlp').inputs[4]);
    const [a, b, c, signals] = solidityArgs(proof.proof, proof.publicSignals);
    await expectRevert(registry.submit(m.modelId, a, b, c, signals.slice(1)).catch(decode), 'WrongSignalCount');
    await expectRevert(registry.submit(m.modelId, a, b, c, [...signals, '1']).catch(decode), 'WrongSignalCount');
    const aliased = [...signals];
    aliased[0] = String(BigInt(aliased[0]) + FIELD_MODULUS);
    await expectRevert(registry.submit(m.modelId, a, b, c, aliased).catch(decode), 'SignalNotInField');
    await expectRevert(registry.submit(m.modelId, ['1', '3'], b, c, signals).catch(decode), 'InvalidProof');
    await expectRevert(registry.submit(m.modelId, [a[0], '5'], b, c, signals).catch(decode), 'InvalidProof');
    await expectRevert(registry.submit(m.modelId, a, b, a, signals).catch(decode), 'InvalidProof');
    // Raw calldata cut short does not even decode.
    const data = registry.interface.encodeFunctionData('submit', [m.modelId, a, b, c, signals]);
    await assert.rejects(owner.signer.sendTransaction({ to: await registry.getAddress(), data: data.slice(0, data.length - 64), gasLimit: 1_000_000 }).then((t) => t.wait()));
    const key = ethers.solidityPackedKeccak256(signals.slice(-4).map(() => 'uint256'), signals.slice(-4));
    assert.equal((await readResult(registry, m.modelId, key)).exists, false);
    await submitProof(registry, m.modelId, proof.proof, proof.publicSignals);
    assert.equal((await readResult(registry, m.modelId, key)).exists, true);
  });

  it('constant-signal mode (hashed input and output): the same gas for the smallest and the largest bundled model', async () => {
    const compact = parseVisibility({ input: 'hashed', output: 'hashed' });
    const gas: Record<string, bigint> = {};
    for (const model of ['diabetes_linreg', 'digits28_mlp'] as const) {
      const m = await register(model, compact);
      assert.equal(m.manifest.circuit.publicSignals, 2, `${model}: two public signals whatever the input and output sizes`);
      const proof = await proveOne(m.dir, testSamples(model).inputs[0]);
      gas[model] = (await submitProof(registry, m.modelId, proof.proof, proof.publicSignals)).gasUsed;
    }
    const [small, large] = [gas.diabetes_linreg, gas.digits28_mlp];
    assert.ok(Number(large > small ? large - small : small - large) <= 0.1 * Number(small), `submit gas ${small} (10 inputs) vs ${large} (784 inputs)`);
  });

  it('a consumer contract pays out only on a verified "yes" from the committed model', async () => {
    const v = parseVisibility({ input: 'hashed', weights: 'hashed' });
    const m = await register('breast_cancer_logreg', v);
    const { program } = loadBuild(m.dir);
    const half = 1n << BigInt(program.output.frac - 1);
    const samples = testSamples('breast_cancer_logreg').inputs;
    const score = (x: number[]) => referenceOutput(program, quantizeInput(program, x))[0];
    const yes = samples.find((x) => score(x) >= half + 8n)!;
    const no = samples.find((x) => score(x) < half - 8n)!;
    const payout = ethers.parseEther('1');
    const consumer = (await deployContract(owner, projectContract('ApprovalPayout'), [await registry.getAddress(), m.modelId, 0, half, payout], ethers.parseEther('3'))).contract;
    const asApplicant = consumer.connect(other.signer) as ethers.Contract;
    const decodeConsumer = decodeWith(consumer.interface);

    const registryAsApplicant = registry.connect(other.signer) as ethers.Contract;
    const yesProof = await proveOne(m.dir, yes, 1234n);
    const yesKey = (await submitProof(registryAsApplicant, m.modelId, yesProof.proof, yesProof.publicSignals)).inputKey;
    const noProof = await proveOne(m.dir, no, 99n);
    const noKey = (await submitProof(registryAsApplicant, m.modelId, noProof.proof, noProof.publicSignals)).inputKey;

    await expectRevert(consumer.claim(yesKey).catch(decodeConsumer), 'NotApplicant');
    await expectRevert(asApplicant.claim(ethers.ZeroHash).catch(decodeConsumer), 'NoVerifiedResult');
    await expectRevert(asApplicant.claim(noKey).catch(decodeConsumer), 'Declined');
    const before = await other.provider.getBalance(await other.signer.getAddress());
    const receipt = (await (await asApplicant.claim(yesKey)).wait()) as ethers.TransactionReceipt;
    const after = await other.provider.getBalance(await other.signer.getAddress());
    assert.equal(after - before, payout - receipt.gasUsed * receipt.gasPrice);
    await expectRevert(asApplicant.claim(yesKey).catch(decodeConsumer), 'AlreadyPaid');
  });
});

/** ethers errors from direct contract calls -> ContractRevertError (the registry's or a given interface's errors). */
const decodeWith = (iface?: ethers.Interface) => (err: unknown): never => {
  throw decodeRevert(err, 'call', iface);
};
const decode = decodeWith();

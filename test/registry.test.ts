import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ethers } from 'ethers';
import { loadBuild, type Manifest } from '../src/compile/manifest.js';
import { commitWeights } from '../src/commit/commitments.js';
import { layoutEntry, modeName, parseVisibility, type Visibility } from '../src/commit/visibility.js';
import { startHardhatNode, type LocalNode } from '../src/chain/local_node.js';
import { rpcChain, type Chain } from '../src/chain/network.js';
import { deployContract, solidityArgs, verifyOnChain } from '../src/chain/onchain.js';
import { ContractRevertError, decodeRevert, deployRegistry, inputKeyOf, readResult, registerModel, registrationFor, submitProof, type Registration } from '../src/chain/registry.js';
import { compileSolidity, projectContract } from '../src/chain/solidity.js';
import { deployOutputOpener } from '../src/chain/opener.js';
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
const KEY_2 = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';

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

async function proveOne(dir: string, input: number[], salt?: bigint, recipient?: string): Promise<ProofResult> {
  const prover = await Prover.load(dir);
  try {
    return await prover.prove(input, { salt, recipient: recipient === undefined ? undefined : BigInt(recipient) });
  } finally {
    await prover.close();
  }
}

describe('inference registry on a hardhat node (JSON-RPC)', () => {
  let node: LocalNode;
  let owner: Chain;
  let other: Chain;
  let third: Chain;
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
    third = await rpcChain(node.url, KEY_2);
    registry = (await deployRegistry(owner)).contract;
  });
  after(async () => {
    await owner?.close();
    await other?.close();
    await third?.close();
    await node?.stop();
    await releaseCurves();
  });

  for (const v of modes) {
    it(`iris MLP, ${modeName(v)}: verifies off-chain and through the registry, and records the result`, async () => {
      const m = await register('iris_mlp', v);
      // Output (3 or its commitment), the input (4 values, or its commitment or nullifier), the weights commitment, the recipient.
      const expectedSignals = (v.output === 'public' ? 3 : 1) + (v.input === 'public' ? 4 : 1) + (v.weights === 'hashed' ? 1 : 0) + 1;
      assert.equal(m.manifest.circuit.publicSignals, expectedSignals);
      const input = testSamples('iris_mlp').inputs[1];
      const recipient = await other.signer.getAddress();
      const proof = await proveOne(m.dir, input, undefined, recipient);
      const off = await verify(m.dir, proof, { insecureDevKeys: true });
      assert.equal(off.valid, true, off.reason);
      assert.equal(off.recipient, recipient.toLowerCase());
      if (v.input !== 'public') assert.equal(off.input, undefined, 'a private or hashed input is not revealed');
      const s = await submitProof(registry, m.modelId, proof.proof, proof.publicSignals);
      assert.equal(s.recipient, recipient, 'the result is credited to the recipient the proof names, not to the sender');
      assert.equal(s.inputKey, inputKeyOf(m.manifest, proof.publicSignals), 'the input key is computed off-chain as on-chain');
      const result = await readResult(registry, m.modelId, s);
      assert.equal(result.exists, true);
      assert.equal(result.submitter, await owner.signer.getAddress());
      assert.equal((await readResult(registry, m.modelId, { ...s, recipient: undefined })).exists, false, 'nothing is recorded for another recipient');
      if (v.output === 'public') assert.deepEqual(result.output.map(String), proof.publicSignals.slice(0, 3));
      else assert.equal(String(result.outputCommitment), off.commitments!.output);
      if (v.input === 'hashed') assert.equal(BigInt(s.inputKey), BigInt(off.commitments!.input!));
      if (v.input === 'private') assert.equal(BigInt(s.inputKey), BigInt(off.commitments!.nullifier!));
      if (v.input === 'public') assert.equal(s.inputKey, ethers.solidityPackedKeccak256(proof.publicSignals.slice(-4).map(() => 'uint256'), proof.publicSignals.slice(-4)));
      // The recipient is part of the statement: a proof with another recipient signal does not verify.
      const moved = [...proof.publicSignals];
      moved[layoutEntry(m.manifest.circuit.publicLayout, 'recipient')!.offset] = BigInt(await third.signer.getAddress()).toString();
      assert.equal((await verify(m.dir, { proof: proof.proof, publicSignals: moved }, { insecureDevKeys: true })).valid, false);
      await expectRevert(submitProof(registry, m.modelId, proof.proof, moved), 'InvalidProof');
      // A replay of the same proof, and a fresh proof of the same statement, are both refused.
      await expectRevert(submitProof(registry, m.modelId, proof.proof, proof.publicSignals), 'ResultExists');
      if (v.input === 'public' && v.output === 'public') {
        const again = await proveOne(m.dir, input, undefined, recipient);
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
    const manifest = JSON.parse(readFileSync(join(changed, 'manifest.json'), 'utf8')) as Manifest;
    writeFileSync(join(changed, 'manifest.json'), JSON.stringify({ ...manifest, weightsCommitment: String(newCommitment) }));
    assert.notEqual(String(newCommitment), m.manifest.weightsCommitment, 'one weight changes the commitment');

    const input = testSamples('iris_mlp').inputs[2];
    const oldProof = await proveOne(m.dir, input);
    const newProof = await proveOne(changed, input);
    assert.equal(newProof.publicSignals[3], String(newCommitment), 'the new proof carries the new commitment');
    assert.equal((await verify(changed, newProof, { insecureDevKeys: true })).valid, true, 'one circuit serves any weights of the architecture');
    const stale = await verify(changed, oldProof, { insecureDevKeys: true });
    assert.equal(stale.valid, false);
    assert.match(stale.reason!, /commits to weights/);
    // The registration pins the original weights: the changed model's proof does not match it.
    await expectRevert(submitProof(registry, m.modelId, newProof.proof, newProof.publicSignals), 'WeightsCommitmentMismatch');
    // Registered as its own model (with its own verifier, which pins its weights), the changed
    // weights are accepted there and the old proof is not.
    const changedVerifier = await deployVerifier(owner, await verifierArtifact(changed));
    const { modelId } = await registerModel(registry, { ...m.registration, verifier: changedVerifier.address, weightsCommitment: String(newCommitment) });
    await expectRevert(submitProof(registry, modelId, oldProof.proof, oldProof.publicSignals), 'WeightsCommitmentMismatch');
    await submitProof(registry, modelId, newProof.proof, newProof.publicSignals);
    // A forged commitment signal passes the registration check only to fail the pairing.
    const forged = [...newProof.publicSignals];
    forged[3] = m.manifest.weightsCommitment!;
    await expectRevert(submitProof(registry, m.modelId, newProof.proof, forged), 'InvalidProof');
    // Calling the build's verifier directly is as safe: it pins the committed weights.
    const direct = (await deployVerifier(owner, await verifierArtifact(m.dir))).contract;
    assert.equal((await verifyOnChain(direct, oldProof.proof, oldProof.publicSignals)).valid, true);
    assert.equal((await verifyOnChain(direct, newProof.proof, newProof.publicSignals)).valid, false, 'a proof with other weights is rejected by the deployed verifier');
    // The changed build's own verifier accepts its own weights, and not the original ones.
    const directChanged = (await deployVerifier(owner, await verifierArtifact(changed))).contract;
    assert.equal((await verifyOnChain(directChanged, newProof.proof, newProof.publicSignals)).valid, true);
    assert.equal((await verifyOnChain(directChanged, oldProof.proof, oldProof.publicSignals)).valid, false);
  });

  it('access control: only the owner changes a registration; unknown and disabled models are refused', async () => {
    const m = await register('iris_mlp', parseVisibility({ input: 'hashed' }));
    const asOther = registry.connect(other.signer) as ethers.Contract;
    await expectRevert(asOther.setActive(m.modelId, false).catch(decode), 'NotModelOwner');
    await expectRevert(asOther.setMetadataURI(m.modelId, 'evil').catch(decode), 'NotModelOwner');
    await expectRevert(asOther.transferModelOwnership(m.modelId, await other.signer.getAddress()).catch(decode), 'NotModelOwner');
    await expectRevert(registry.setActive(999n, false).catch(decode), 'UnknownModel');

    const proof = await proveOne(m.dir, testSamples('iris_mlp').inputs[3], undefined, await other.signer.getAddress());
    await expectRevert(submitProof(registry, 999n, proof.proof, proof.publicSignals), 'UnknownModel');
    await (await registry.setActive(m.modelId, false)).wait();
    await expectRevert(submitProof(registry, m.modelId, proof.proof, proof.publicSignals), 'ModelDisabled');
    await (await registry.setActive(m.modelId, true)).wait();
    // Ownership moves in two steps: nothing changes until the new owner accepts; no one else can accept.
    await (await registry.transferModelOwnership(m.modelId, await other.signer.getAddress())).wait();
    assert.equal(await registry.pendingOwner(m.modelId), await other.signer.getAddress());
    assert.equal((await registry.getModel(m.modelId)).owner, await owner.signer.getAddress());
    await expectRevert((registry.connect(third.signer) as ethers.Contract).acceptModelOwnership(m.modelId).catch(decode), 'NotPendingOwner');
    await (await asOther.acceptModelOwnership(m.modelId)).wait();
    await expectRevert(registry.setActive(m.modelId, false).catch(decode), 'NotModelOwner');
    await expectRevert(asOther.acceptModelOwnership(m.modelId).catch(decode), 'NotPendingOwner');
    await (await asOther.setMetadataURI(m.modelId, 'ipfs://new')).wait();
    assert.equal((await registry.getModel(m.modelId)).metadataURI, 'ipfs://new');
    // Anyone may submit; the result is the recipient's, the sender is recorded as the submitter.
    const s = await submitProof(registry.connect(third.signer) as ethers.Contract, m.modelId, proof.proof, proof.publicSignals);
    const r = await readResult(registry, m.modelId, { inputKey: s.inputKey, recipient: await other.signer.getAddress() });
    assert.equal(r.submitter, await third.signer.getAddress());
    // Registrations are checked: a verifier without code, or a layout that contradicts its modes.
    const bad = { ...m.registration, verifier: await other.signer.getAddress() };
    await expectRevert(registerModel(registry, bad), 'InvalidRegistration');
    await expectRevert(registerModel(registry, { ...m.registration, weightsCommitment: '5' }), 'InvalidRegistration');
    await expectRevert(registerModel(registry, { ...m.registration, layout: { ...m.registration.layout, inputSize: 4 } }), 'InvalidRegistration');
    await expectRevert(registerModel(registry, { ...m.registration, layout: { ...m.registration.layout, recipientIndex: m.registration.layout.outputOffset } }), 'InvalidRegistration');
    await expectRevert(registerModel(registry, { ...m.registration, layout: { ...m.registration.layout, recipientIndex: m.registration.layout.publicSignals } }), 'InvalidRegistration');
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
    // A recipient signal that is no address (a field element above 2^160) is refused before the pairing.
    const recipientAt = m.registration.layout.recipientIndex;
    const wide = [...signals];
    wide[recipientAt] = String(1n << 160n);
    await expectRevert(registry.submit(m.modelId, a, b, c, wide).catch(decode), 'RecipientNotAnAddress');
    const key = ethers.solidityPackedKeccak256(signals.slice(-4).map(() => 'uint256'), signals.slice(-4));
    assert.equal((await readResult(registry, m.modelId, { inputKey: key })).exists, false);
    await submitProof(registry, m.modelId, proof.proof, proof.publicSignals);
    assert.equal((await readResult(registry, m.modelId, { inputKey: key })).exists, true);
    // The proof is checked before the record: a tampered proof of a recorded statement is InvalidProof, not ResultExists.
    await expectRevert(registry.submit(m.modelId, [a[0], '5'], b, c, signals).catch(decode), 'InvalidProof');
    await expectRevert(registry.submit(m.modelId, a, b, c, signals).catch(decode), 'ResultExists');
  });

  it('constant-signal mode (hashed input and output): the same gas for the smallest and the largest bundled model', async () => {
    const compact = parseVisibility({ input: 'hashed', output: 'hashed' });
    const gas: Record<string, bigint> = {};
    for (const model of ['diabetes_linreg', 'digits28_mlp'] as const) {
      const m = await register(model, compact);
      assert.equal(m.manifest.circuit.publicSignals, 3, `${model}: three public signals (output and input commitments, recipient) whatever the input and output sizes`);
      const proof = await proveOne(m.dir, testSamples(model).inputs[0]);
      gas[model] = (await submitProof(registry, m.modelId, proof.proof, proof.publicSignals)).gasUsed;
    }
    const [small, large] = [gas.diabetes_linreg, gas.digits28_mlp];
    assert.ok(Number(large > small ? large - small : small - large) <= 0.1 * Number(small), `submit gas ${small} (10 inputs) vs ${large} (784 inputs)`);
  });

  it('front-running: a copied submission sent first with a higher fee records the result for the honest recipient', async () => {
    const m = await register('iris_mlp', parseVisibility({ input: 'hashed', output: 'hashed' }));
    const honest = await other.signer.getAddress();
    const proof = await proveOne(m.dir, testSamples('iris_mlp').inputs[5], undefined, honest);
    const data = registry.interface.encodeFunctionData('submit', [m.modelId, ...solidityArgs(proof.proof, proof.publicSignals)]);
    const to = await registry.getAddress();
    const rpc = (method: string, params: unknown[]) => (owner.provider as ethers.JsonRpcProvider).send(method, params);
    await rpc('evm_setAutomine', [false]);
    try {
      const fee = { maxFeePerGas: ethers.parseUnits('20', 'gwei'), gasLimit: 1_000_000n };
      const sent = await other.signer.sendTransaction({ to, data, ...fee, maxPriorityFeePerGas: ethers.parseUnits('1', 'gwei') });
      // The attacker reads the pending transaction from the mempool and sends its calldata first.
      const pending = (await third.provider.getTransaction(sent.hash))!;
      const copy = await third.signer.sendTransaction({ to, data: pending.data, ...fee, maxPriorityFeePerGas: ethers.parseUnits('10', 'gwei') });
      await rpc('evm_mine', []);
      const copied = await copy.wait();
      assert.equal(copied!.status, 1, 'the copy is mined first and succeeds');
      await assert.rejects(sent.wait(), 'the honest transaction reverts (ResultExists)');
    } finally {
      await rpc('evm_setAutomine', [true]);
    }
    const inputKey = inputKeyOf(m.manifest, proof.publicSignals);
    const r = await readResult(registry, m.modelId, { inputKey, recipient: honest, outputCommitment: BigInt(proof.publicSignals[0]) });
    assert.equal(r.exists, true, 'the result is credited to the honest recipient');
    assert.equal(r.submitter, await third.signer.getAddress(), 'the copier only paid its gas');
    assert.equal((await readResult(registry, m.modelId, { inputKey, recipient: await third.signer.getAddress(), outputCommitment: BigInt(proof.publicSignals[0]) })).exists, false, 'nothing is credited to the copier');
  });

  it('front-running with public input: a proof of the same input for another recipient is another result and blocks no one', async () => {
    const m = await register('iris_mlp', parseVisibility({}));
    const input = testSamples('iris_mlp').inputs[6];
    const [honest, attacker] = [await other.signer.getAddress(), await third.signer.getAddress()];
    // The attacker sees the public input and proves it for itself first.
    const stolen = await proveOne(m.dir, input, undefined, attacker);
    const s1 = await submitProof(registry.connect(third.signer) as ethers.Contract, m.modelId, stolen.proof, stolen.publicSignals);
    const mine = await proveOne(m.dir, input, undefined, honest);
    const s2 = await submitProof(registry.connect(other.signer) as ethers.Contract, m.modelId, mine.proof, mine.publicSignals);
    assert.equal(s1.inputKey, s2.inputKey);
    assert.equal(s2.recipient, honest);
    assert.equal((await readResult(registry, m.modelId, s2)).exists, true);
  });

  it('hashed output: a proof of the same input and recipient under another output salt is another result, never the honest one\'s', async () => {
    const m = await register('iris_mlp', parseVisibility({ output: 'hashed' }));
    const input = testSamples('iris_mlp').inputs[10];
    const honest = await other.signer.getAddress();
    // The input is public, so anyone can prove it for the honest recipient, under a salt only they know, and send it first.
    const griefing = await proveOne(m.dir, input, 666n, honest);
    const g = await submitProof(registry.connect(third.signer) as ethers.Contract, m.modelId, griefing.proof, griefing.publicSignals);
    const mine = await proveOne(m.dir, input, 777n, honest);
    const s = await submitProof(registry.connect(other.signer) as ethers.Contract, m.modelId, mine.proof, mine.publicSignals);
    assert.equal(s.inputKey, g.inputKey);
    assert.notEqual(s.outputCommitment, g.outputCommitment);
    const opener = (await deployOutputOpener(owner, m.dir)).contract;
    assert.equal(await opener.opens(await registry.getAddress(), m.modelId, s.inputKey, honest, BigInt(mine.salts!.output!), mine.outputRaw.map(BigInt)), true, 'the honest result opens with the honest salt');
    assert.equal((await readResult(registry, m.modelId, { inputKey: s.inputKey, recipient: honest })).exists, false, 'resultOf is for public outputs');
  });

  it('private input: two submissions with equal outputs both record (each has its own nullifier)', async () => {
    const m = await register('iris_mlp', parseVisibility({ input: 'private' }));
    const x = testSamples('iris_mlp').inputs[7];
    // Two users whose inputs differ by less than a quantization step: equal outputs, equal public output signals.
    const a = await proveOne(m.dir, x);
    const b = await proveOne(m.dir, x.map((v) => v + 1e-9));
    const outputs = layoutEntry(m.manifest.circuit.publicLayout, 'output')!;
    assert.deepEqual(a.publicSignals.slice(0, outputs.size), b.publicSignals.slice(0, outputs.size), 'the same output');
    const sa = await submitProof(registry, m.modelId, a.proof, a.publicSignals);
    const sb = await submitProof(registry, m.modelId, b.proof, b.publicSignals);
    assert.notEqual(sa.inputKey, sb.inputKey);
    assert.equal((await readResult(registry, m.modelId, sb)).exists, true);
    // The nullifier opens with the proof's own input salt only.
    const off = await verify(m.dir, a, { insecureDevKeys: true });
    assert.equal(off.opened?.nullifier, true);
    assert.equal((await verify(m.dir, { ...a, salt: b.salt }, { insecureDevKeys: true })).valid, false);
  });

  it('separate salts: opening the output commitment reveals nothing that opens the input commitment', async () => {
    const m = await register('iris_mlp', parseVisibility({ input: 'hashed', output: 'hashed' }));
    const r = await proveOne(m.dir, testSamples('iris_mlp').inputs[8], 77n);
    assert.notEqual(r.salts!.input, r.salts!.output);
    const outputOnly = await verify(m.dir, { proof: r.proof, publicSignals: r.publicSignals, salts: { output: r.salts!.output }, outputRaw: r.outputRaw }, { insecureDevKeys: true });
    assert.equal(outputOnly.valid, true, outputOnly.reason);
    assert.deepEqual(outputOnly.opened, { output: true });
    assert.deepEqual(outputOnly.output, r.output, 'an opened output commitment gives the output');
    const inputWithOutputSalt = await verify(m.dir, { proof: r.proof, publicSignals: r.publicSignals, salts: { input: r.salts!.output }, input: r.input }, { insecureDevKeys: true });
    assert.equal(inputWithOutputSalt.valid, false, 'the output salt does not open the input commitment');
  });

  it('outputs on-chain: ZkmlOutput decodes signs and scale as the prover does; ZkmlOutputOpener opens a hashed output', async () => {
    // Public output: decode the recorded field elements in Solidity.
    const plain = await register('iris_mlp', parseVisibility({}));
    const r = await proveOne(plain.dir, testSamples('iris_mlp').inputs[9], undefined, await owner.signer.getAddress());
    const s = await submitProof(registry, plain.modelId, r.proof, r.publicSignals);
    const recorded = await readResult(registry, plain.modelId, s);
    const harness = compileSolidity({
      'Harness.sol': `pragma solidity ^0.8.20;
import {ZkmlOutput} from "./ZkmlOutput.sol";
contract Harness {
  function toInt(uint256 v) external pure returns (int256) { return ZkmlOutput.toInt(v); }
  function toFixed(uint256 v, uint8 frac, uint256 unit) external pure returns (int256) { return ZkmlOutput.toFixed(v, frac, unit); }
  function argmax(uint256[] calldata out) external pure returns (uint256) { return ZkmlOutput.argmax(out); }
}`,
    }).Harness;
    const h = (await deployContract(owner, harness)).contract;
    const frac = plain.manifest.output.frac;
    assert.ok(r.output.some((v) => v < 0), 'a negative logit is decoded');
    for (const [i, v] of recorded.output.entries()) {
      assert.equal(await h.toInt(v), BigInt(r.outputRaw[i]));
      assert.equal(await h.toFixed(v, frac, 10n ** 18n), (BigInt(r.outputRaw[i]) * 10n ** 18n) / (1n << BigInt(frac)));
    }
    assert.equal(Number(await h.argmax(recorded.output)), r.output.indexOf(Math.max(...r.output)));

    // Hashed output: the registry holds a commitment; the opener recomputes it from the revealed output and output salt.
    const m = await register('iris_mlp', parseVisibility({ input: 'hashed', output: 'hashed' }));
    const recipient = await other.signer.getAddress();
    const p = await proveOne(m.dir, testSamples('iris_mlp').inputs[9], 31337n, recipient);
    const sub = await submitProof(registry, m.modelId, p.proof, p.publicSignals);
    const opener = (await deployOutputOpener(owner, m.dir)).contract;
    const values = p.outputRaw.map(BigInt);
    const saltOut = BigInt(p.salts!.output!);
    const commitment = BigInt(p.publicSignals[0]);
    assert.equal(await opener.commitment(saltOut, values), commitment, 'the same Poseidon commitment as circomlibjs and the circuit');
    assert.equal(await opener.opens(await registry.getAddress(), m.modelId, sub.inputKey, recipient, saltOut, values), true);
    const changed = [...values];
    changed[0] += 1n;
    assert.equal(await opener.opens(await registry.getAddress(), m.modelId, sub.inputKey, recipient, saltOut, changed), false, 'another output does not open it');
    assert.equal(await opener.opens(await registry.getAddress(), m.modelId, sub.inputKey, recipient, saltOut + 1n, values), false, 'nor another salt');
    assert.equal(await opener.opens(await registry.getAddress(), m.modelId, sub.inputKey, recipient, BigInt(p.salts!.input!), values), false, 'nor the input salt');
    assert.equal(await opener.opens(await registry.getAddress(), m.modelId, sub.inputKey, await third.signer.getAddress(), saltOut, values), false, 'nor a result of another recipient');
    const lo = await opener.lo(0);
    await expectRevert(opener.commitment(saltOut, [lo - 1n, ...values.slice(1)]).catch(decodeWith(opener.interface)), 'ValueOutsideWindow');
  });

  it('ApprovalPayout: pays a verified "yes" once per applicant, to the applicant; farming, front-running and a withdrawn model pay nothing', async () => {
    const v = parseVisibility({ input: 'hashed', weights: 'hashed' });
    const m = await register('breast_cancer_logreg', v);
    const { program } = loadBuild(m.dir);
    const half = 1n << BigInt(program.output.frac - 1);
    const samples = testSamples('breast_cancer_logreg').inputs;
    const score = (x: number[]) => referenceOutput(program, quantizeInput(program, x))[0];
    const yes = samples.filter((x) => score(x) >= half + 8n);
    const no = samples.find((x) => score(x) < half - 8n)!;
    const payout = ethers.parseEther('1');
    const issuer = owner;
    // A private input's key is a nullifier, not a commitment to the data: such a model is refused.
    const priv = await register('breast_cancer_logreg', parseVisibility({ input: 'private', weights: 'hashed' }));
    await assert.rejects(
      deployContract(owner, projectContract('ApprovalPayout'), [await registry.getAddress(), priv.modelId, 0, half, payout, await issuer.signer.getAddress()]),
      /InputNotCommitted|reverted/,
    );
    const consumer = (await deployContract(owner, projectContract('ApprovalPayout'), [await registry.getAddress(), m.modelId, 0, half, payout, await issuer.signer.getAddress()], ethers.parseEther('5'))).contract;
    const as = (c: Chain) => consumer.connect(c.signer) as ethers.Contract;
    const decodeConsumer = decodeWith(consumer.interface);
    const [applicant, attacker] = [await other.signer.getAddress(), await third.signer.getAddress()];
    const balance = (a: string) => owner.provider.getBalance(a);

    // The applicant proves their data, bound to themselves; the issuer opens an application for its input key.
    const proof = await proveOne(m.dir, yes[0], 1234n, applicant);
    const key = inputKeyOf(m.manifest, proof.publicSignals);
    await expectRevert(as(other).openApplication(key, applicant).catch(decodeConsumer), 'NotIssuer');
    await (await as(issuer).openApplication(key, applicant)).wait();
    await expectRevert(as(issuer).openApplication(key, attacker).catch(decodeConsumer), 'ApplicationExists');
    await expectRevert(as(other).claim(key).catch(decodeConsumer), 'NoVerifiedResult');

    // Anyone submits (here the attacker, as a front-runner would); anyone claims; the applicant is paid.
    await submitProof(registry.connect(third.signer) as ethers.Contract, m.modelId, proof.proof, proof.publicSignals);
    const [applicantBefore, attackerBefore] = [await balance(applicant), await balance(attacker)];
    const receipt = (await (await as(third).claim(key)).wait()) as ethers.TransactionReceipt;
    assert.equal((await balance(applicant)) - applicantBefore, payout, 'the applicant is paid');
    assert.equal(attackerBefore - (await balance(attacker)), receipt.gasUsed * receipt.gasPrice, 'the caller only pays gas');
    await expectRevert(as(other).claim(key).catch(decodeConsumer), 'AlreadyPaid');

    // Farming: the same data under fresh salts, and perturbed data, are new input keys with verified results...
    const farmed = [await proveOne(m.dir, yes[0], 5678n, applicant), await proveOne(m.dir, yes[0], 9999n, applicant), await proveOne(m.dir, yes[0].map((x, i) => (i === 0 ? x + 0.01 : x)), 1n, applicant)];
    for (const f of farmed) {
      const s = await submitProof(registry.connect(other.signer) as ethers.Contract, m.modelId, f.proof, f.publicSignals);
      assert.notEqual(s.inputKey, key);
      // ...that pay nothing: no application holds them.
      await expectRevert(as(other).claim(s.inputKey).catch(decodeConsumer), 'UnknownApplication');
    }
    // Even a second application for the same applicant pays nothing more.
    const secondKey = inputKeyOf(m.manifest, farmed[0].publicSignals);
    await (await as(issuer).openApplication(secondKey, applicant)).wait();
    await expectRevert(as(other).claim(secondKey).catch(decodeConsumer), 'AlreadyPaid');

    // A result bound to someone else (or no one) does not count for the applicant.
    const unbound = await proveOne(m.dir, yes[1], 42n);
    const unboundKey = (await submitProof(registry, m.modelId, unbound.proof, unbound.publicSignals)).inputKey;
    await (await as(issuer).openApplication(unboundKey, attacker)).wait();
    await expectRevert(as(third).claim(unboundKey).catch(decodeConsumer), 'NoVerifiedResult');

    // A "no" is declined.
    const declined = await proveOne(m.dir, no, 99n, attacker);
    const declinedKey = (await submitProof(registry, m.modelId, declined.proof, declined.publicSignals)).inputKey;
    await (await as(issuer).openApplication(declinedKey, attacker)).wait();
    await expectRevert(as(third).claim(declinedKey).catch(decodeConsumer), 'Declined');
    // The issuer can revoke an unpaid application, not a paid one.
    await expectRevert(as(third).revokeApplication(declinedKey).catch(decodeConsumer), 'NotIssuer');
    await (await as(issuer).revokeApplication(declinedKey)).wait();
    await expectRevert(as(third).claim(declinedKey).catch(decodeConsumer), 'UnknownApplication');
    await expectRevert(as(issuer).revokeApplication(key).catch(decodeConsumer), 'AlreadyPaid');

    // A withdrawn model pays nothing until it is active again.
    const later = await proveOne(m.dir, yes[2], 7n, attacker);
    const laterKey = (await submitProof(registry, m.modelId, later.proof, later.publicSignals)).inputKey;
    await (await as(issuer).openApplication(laterKey, attacker)).wait();
    await (await registry.setActive(m.modelId, false)).wait();
    await expectRevert(as(third).claim(laterKey).catch(decodeConsumer), 'ModelInactive');
    await (await registry.setActive(m.modelId, true)).wait();
    const before = await balance(attacker);
    const r2 = (await (await as(other).claim(laterKey)).wait()) as ethers.TransactionReceipt;
    assert.equal((await balance(attacker)) - before, payout);
    assert.ok(r2.status === 1);
    // What is left goes back only on the issuer's word.
    const left = await balance(await consumer.getAddress());
    await expectRevert(as(third).withdraw(attacker, left).catch(decodeConsumer), 'NotIssuer');
    await (await as(issuer).withdraw(await issuer.signer.getAddress(), left)).wait();
    assert.equal(await balance(await consumer.getAddress()), 0n);
  });
});

/** ethers errors from direct contract calls -> ContractRevertError (the registry's or a given interface's errors). */
const decodeWith = (iface?: ethers.Interface) => (err: unknown): never => {
  throw decodeRevert(err, 'call', iface);
};
const decode = decodeWith();

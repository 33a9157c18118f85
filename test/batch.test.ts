import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ethers } from 'ethers';
import { BatchStatement, batchDepth, itemPath, itemTree, pathLength, rootFromPath, type BatchItemValues } from '../src/commit/batch.js';
import { deriveSalts, PublicStatement } from '../src/commit/statement.js';
import { parseVisibility, type Visibility } from '../src/commit/visibility.js';
import { compile } from '../src/compile/compile.js';
import { loadBuild, type Manifest } from '../src/compile/manifest.js';
import { startHardhatNode, type LocalNode } from '../src/chain/local_node.js';
import { rpcChain, type Chain } from '../src/chain/network.js';
import { deployOutputOpener } from '../src/chain/opener.js';
import { deployVerifier } from '../src/chain/onchain.js';
import {
  batchItemArg,
  deployRegistry,
  openItem,
  readItem,
  readResult,
  registerModel,
  registrationFor,
  submitBatch,
  submitProof,
  ContractRevertError,
  type BatchItemArg,
} from '../src/chain/registry.js';
import { ensureDeployed, recordOf, writeDeployment } from '../src/chain/deployment.js';
import { verifierArtifact } from '../src/chain/verifier.js';
import { InvalidInputError } from '../src/errors.js';
import { FIELD_MODULUS } from '../src/prove/field.js';
import { proveInBatches } from '../src/prove/pool.js';
import { itemProofs, Prover, type BatchItemProof, type BatchProofResult } from '../src/prove/prover.js';
import { decodeOutput, quantizeInput } from '../src/quant/io.js';
import { referenceOutput } from '../src/quant/reference.js';
import { synthesize } from '../src/r1cs/synthesize.js';
import { releaseCurves } from '../src/setup/curve.js';
import { setup } from '../src/setup/setup.js';
import { startService, type RunningService } from '../src/service/service.js';
import { verifyBatchItems } from '../src/verify/batch.js';
import { verify } from '../src/verify/verify.js';
import { modelFile, scratchDir, testSamples, type BundledModel } from './helpers/fixtures.js';
import { R1cs } from './helpers/r1cs.js';
import { expectError, zkml } from './helpers/cli.js';
import { apiKeys, client } from './helpers/service.js';

const DEV_KEYS = { insecureDevKeys: true };
const KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const COMPACT = { input: 'hashed', output: 'hashed' } as const;
const scratch = scratchDir('batch');

/** A bundled model compiled with the r1cs backend (batched builds need it), with keys. */
async function batchedBuild(model: BundledModel, visibility: Partial<Visibility>, batchSize: number, keys = true): Promise<{ dir: string; manifest: Manifest }> {
  const v = parseVisibility(visibility);
  const dir = join(scratch, `${model}_${v.input}_${v.output}_${v.weights}_${batchSize}`);
  const manifest = await compile(modelFile(model, 'model.onnx'), { calibration: modelFile(model, 'calibration.json'), test: modelFile(model, 'test.json'), out: dir, visibility: v, batchSize });
  if (keys) await setup(dir);
  return { dir, manifest };
}

async function proveItems(dir: string, inputs: number[][], options: { salts?: bigint[]; recipient?: bigint } = {}): Promise<BatchProofResult> {
  const prover = await Prover.load(dir);
  try {
    return await prover.proveBatch(inputs, options);
  } finally {
    await prover.close();
  }
}

async function expectRevert(p: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ContractRevertError, `expected the ${name} revert, got ${String(err)}`);
    assert.equal(err.errorName, name);
    return true;
  });
}

const iris = testSamples('iris_mlp').inputs;
const salts = (n: number, from = 100) => Array.from({ length: n }, (_, i) => BigInt(from + i));

describe('batched builds: the circuit', () => {
  it('the tree helpers agree with each other: every item\'s path leads to the root; nothing else does', async () => {
    for (const size of [2, 3, 8, 32]) {
      const depth = batchDepth(size);
      const keys = Array.from({ length: size }, (_, j) => ({ inputKey: BigInt(1000 + j), outputCommitment: BigInt(2000 + j) }));
      const levels = await itemTree(keys, depth);
      const root = levels.at(-1)![0];
      for (const j of [0, size - 1]) {
        const path = itemPath(levels, j);
        assert.equal(path.length, pathLength(depth));
        assert.equal(await rootFromPath(keys[j], j, path), root);
        assert.notEqual(await rootFromPath({ ...keys[j], outputCommitment: keys[j].outputCommitment + 1n }, j, path), root, 'another output');
        assert.notEqual(await rootFromPath(keys[j], j ^ 1, path), root, 'another position');
      }
    }
    assert.deepEqual([2, 3, 8, 9, 32, 33, 128].map(batchDepth), [1, 2, 2, 3, 3, 4, 4]);
  });

  it('batch size 1 is the single-input circuit, byte for byte', async () => {
    const a = await compile(modelFile('iris_mlp', 'model.onnx'), { calibration: modelFile('iris_mlp', 'calibration.json'), out: join(scratch, 'single_a'), visibility: COMPACT });
    const b = await compile(modelFile('iris_mlp', 'model.onnx'), { calibration: modelFile('iris_mlp', 'calibration.json'), out: join(scratch, 'single_b'), visibility: COMPACT, batchSize: 1 });
    assert.equal(a.circuit.sha256, b.circuit.sha256);
    assert.equal(b.batch, undefined);
  });

  it('refuses what it cannot batch, naming why', async () => {
    const compileWith = (o: object) => compile(modelFile('iris_mlp', 'model.onnx'), { calibration: modelFile('iris_mlp', 'calibration.json'), out: join(scratch, 'refused'), ...o });
    await assert.rejects(compileWith({ visibility: { input: 'hashed', output: 'public' }, batchSize: 4 }), /batched build needs hashed output/);
    await assert.rejects(compileWith({ visibility: COMPACT, batchSize: 4, backend: 'circom' }), /r1cs backend/);
    await assert.rejects(compileWith({ visibility: COMPACT, batchSize: 0 }), /batch size must be an integer from 1 to 1024/);
  });

  it('a witness holds every constraint, its public signals are the statement\'s, and no single wire can change', async () => {
    const { dir, manifest } = await batchedBuild('iris_mlp', COMPACT, 4, false);
    const { program } = loadBuild(dir);
    const v = manifest.visibility;
    const statement = new BatchStatement(await PublicStatement.for(program, v, manifest.circuit.publicLayout), 4, manifest.circuit.publicLayout);
    const items: BatchItemValues[] = await Promise.all(iris.slice(0, 3).map(async (x, j) => {
      const q = quantizeInput(program, x);
      return { q, out: referenceOutput(program, q), salts: await deriveSalts(v, BigInt(7 + j)) };
    }));
    const s = synthesize(program, v, statement.circuitInputs(items, 5n), true, 4);
    const r1cs = R1cs.of(s.cs.constraints);
    const w = s.cs.values;
    assert.deepEqual(r1cs.violations(w), []);
    const expected = await statement.publicSignals(items, 5n);
    assert.deepEqual(w.slice(1, 1 + expected.length).map(String), expected, 'wires 1.. are the public signals in the layout\'s order');
    assert.equal(expected[2], '3', 'count');

    // Every wire is pinned: changing any one (but the free inverse wires) breaks a constraint.
    const touching = new Map<number, number[]>();
    s.cs.constraints.forEach((c, k) => {
      for (const lc of c) for (const wire of lc.keys()) touching.set(wire, [...(touching.get(wire) ?? []), k]);
    });
    const loose: number[] = [];
    for (let wire = 1; wire < w.length; wire++) {
      if (s.cs.free.has(wire)) continue;
      const forged = [...w];
      forged[wire] = (forged[wire] + 1n) % FIELD_MODULUS;
      if (r1cs.violations(forged, touching.get(wire) ?? []).length === 0) loose.push(wire);
    }
    assert.deepEqual(loose, []);

    // Padding counted as an item: count 3 with flags 1,1,1,1; or flags that are not a prefix.
    const flags = 2 + s.publicOutputs + s.publicInputs + s.privateInputs; // real_1 .. real_3, after recipient²
    assert.deepEqual(w.slice(flags, flags + 3), [1n, 1n, 0n]);
    const padded = [...w];
    padded[flags + 2] = 1n;
    assert.notDeepEqual(r1cs.violations(padded), [], 'a padding item flagged real');
    const gap = [...w];
    gap[flags + 1] = 0n;
    gap[flags + 2] = 1n;
    assert.notDeepEqual(r1cs.violations(gap), [], 'real items that are not a prefix');
    // A fourth item claimed (count 4) is another statement: another root.
    const four = await statement.publicSignals([...items, items[0]], 5n);
    assert.notEqual(four[0], expected[0]);
    assert.throws(() => synthesize(program, v, { ...statement.circuitInputs(items, 5n), count: '0' }, false, 4), InvalidInputError);
    assert.throws(() => synthesize(program, v, { ...statement.circuitInputs(items, 5n), count: '5' }, false, 4), InvalidInputError);
  });
});

describe('batched builds: proving and verifying off-chain', () => {
  let batched: { dir: string; manifest: Manifest };
  let single: { dir: string; manifest: Manifest };
  let groups: BatchProofResult[];

  before(async () => {
    batched = await batchedBuild('iris_mlp', COMPACT, 4);
    single = await batchedBuild('iris_mlp', COMPACT, 1);
    const results = await proveInBatches(batched.dir, iris.slice(0, 10), { salt: '77', recipient: '0x00000000000000000000000000000000000000aa' });
    groups = results.map((g) => {
      assert.ok(g.outcome.ok, JSON.stringify(g.outcome));
      return g.outcome.result;
    });
  });
  after(releaseCurves);

  it('10 inputs at N = 4 are 3 proofs, the last of 2 items, each with 3 public signals', () => {
    assert.deepEqual(groups.map((g) => g.batch.count), [4, 4, 2]);
    assert.deepEqual(groups.map((g) => g.publicSignals.length), [3, 3, 3]);
    assert.deepEqual(groups.map((g) => g.publicSignals[2]), ['4', '4', '2']);
    assert.equal(batched.manifest.circuit.publicSignals, 3);
  });

  it('every item verifies from its batch file, and from its own result; outputs are the integer reference', async () => {
    const { program } = loadBuild(batched.dir);
    for (const [g, r] of groups.entries()) {
      const v = await verify(batched.dir, r, DEV_KEYS);
      assert.equal(v.valid, true, v.reason);
      assert.equal(v.items!.length, r.batch.count);
      for (const item of v.items!) {
        assert.deepEqual(item.opened, { input: true, output: true });
        assert.deepEqual(item.output, decodeOutput(program, referenceOutput(program, quantizeInput(program, iris[4 * g + item.index]))));
      }
    }
    const one = itemProofs(groups[2])[1];
    const v = await verify(batched.dir, one, { ...DEV_KEYS, item: 1 });
    assert.equal(v.valid, true, v.reason);
    assert.deepEqual(v.items!.map((i) => i.index), [1]);
  });

  it('an item\'s keys are those a single proof of it makes: results keep their keys in a batch', async () => {
    const item = groups[1].items[2];
    const prover = await Prover.load(single.dir);
    try {
      const r = await prover.prove(iris[6], { salt: BigInt(item.salt!), recipient: 0xaan });
      assert.deepEqual([r.publicSignals[0], r.publicSignals[1]], [item.outputCommitment, item.inputKey]);
    } finally {
      await prover.close();
    }
  });

  it('rejects forged items: input, output, keys, position, path, count and root', async () => {
    const r = groups[2];
    const forge = (f: (d: BatchProofResult) => void) => {
      const d = structuredClone(r);
      f(d);
      return verify(batched.dir, d, DEV_KEYS);
    };
    const cases: [string, (d: BatchProofResult) => void, RegExp][] = [
      ['input', (d) => (d.items[0].input[0] += 0.5), /item 0: the input recorded in the file does not open its input key/],
      ['output', (d) => (d.items[1].outputRaw[0] = String(BigInt(d.items[1].outputRaw[0]) + 1n)), /item 1: the output recorded/],
      ['input key', (d) => (d.items[0].inputKey = String(BigInt(d.items[0].inputKey!) + 1n)), /not an item of this proof/],
      ['output commitment', (d) => (d.items[1].outputCommitment = d.items[0].outputCommitment), /not an item of this proof/],
      ['position', (d) => (d.items[0].index = 1), /not an item of this proof/],
      ['padding', (d) => (d.items[1].index = 2), /past the batch's count \(2\): it is padding/],
      ['path', (d) => (d.items[0].path![3] = '1'), /not an item of this proof/],
      ['count', (d) => (d.publicSignals[2] = '3'), /pairing check failed/],
      ['root', (d) => (d.publicSignals[0] = groups[0].publicSignals[0]), /pairing check failed/],
      ['count 0', (d) => (d.publicSignals[2] = '0'), /pairing check failed/],
    ];
    for (const [what, f, reason] of cases) {
      const v = await forge(f);
      assert.equal(v.valid, false, what);
      assert.match(v.reason!, reason, what);
    }
    // A valid item of another batch does not belong to this one.
    const stranger = await forge((d) => (d.items = [{ ...groups[0].items[0] }]));
    assert.match(stranger.reason!, /not an item of this proof/);
  });

  it('on the command line: prove --batch, verify --item, commit, submit --open; bad input is named', async () => {
    const dir = scratchDir('batch-cli');
    const inputs = join(dir, 'inputs.json');
    writeFileSync(inputs, JSON.stringify({ inputs: iris.slice(0, 6) }));
    const proved = await zkml('prove', batched.dir, '--batch', inputs, '--salt', '9', '--out', join(dir, 'proofs'), '--workers', '1');
    assert.equal(proved.code, 0, proved.stderr);
    assert.match(proved.stdout, /6\/6 inferences proved in 2 proof\(s\) of up to 4/);
    const summary = JSON.parse(readFileSync(join(dir, 'proofs', 'summary.json'), 'utf8'));
    assert.deepEqual(summary.results.map((r: { count: number }) => r.count), [4, 2]);
    const file = join(dir, 'proofs', 'batch_1.json');
    const checked = await zkml('verify', batched.dir, '--proof', file, '--item', '1', '--json', '--insecure-dev-keys');
    assert.equal(checked.code, 0, checked.stderr);
    assert.deepEqual(JSON.parse(checked.stdout).items.map((i: { index: number }) => i.index), [1]);
    const padding = await zkml('verify', batched.dir, '--proof', file, '--item', '2', '--insecure-dev-keys');
    assert.equal(padding.code, 1);
    assert.match(padding.stdout, /INVALID: item 2 is not in this batch: it holds items 0\.\.1/);
    // `commit` gives an item's keys from its input and its salt in the batch file.
    const batch = JSON.parse(readFileSync(file, 'utf8')) as BatchProofResult;
    const one = join(dir, 'one.json');
    writeFileSync(one, JSON.stringify({ input: batch.items[1].input }));
    const keys = JSON.parse((await zkml('commit', batched.dir, '--input', one, '--salt', batch.items[1].salt!)).stdout);
    assert.deepEqual([BigInt(keys.inputKey), keys.outputCommitment], [BigInt(batch.items[1].inputKey!), batch.items[1].outputCommitment]);
    const sent = await zkml('submit', batched.dir, '--proof', file, '--open', '0,1', '--insecure-dev-keys');
    assert.equal(sent.code, 0, sent.stderr);
    const r = JSON.parse(sent.stdout);
    assert.equal(r.batch.count, '2');
    assert.deepEqual(r.opened.map((o: { index: number; recorded: boolean }) => [o.index, o.recorded]), [[0, true], [1, true]]);
    expectError(await zkml('submit', batched.dir, '--proof', file, '--open', '3', '--insecure-dev-keys'), /the proof file has no item 3/);
    expectError(await zkml('compile', modelFile('iris_mlp', 'model.onnx'), '-c', modelFile('iris_mlp', 'calibration.json'), '-o', join(dir, 'x'), '--visibility', 'input=hashed', '--batch-size', '4'), /batched build needs hashed output/);
    // One input on a batched build: a batch of one, in one file.
    const single = await zkml('prove', batched.dir, '--input', one, '--out', join(dir, 'one_proof.json'));
    assert.equal(single.code, 0, single.stderr);
    assert.equal((JSON.parse(readFileSync(join(dir, 'one_proof.json'), 'utf8')) as BatchProofResult).batch.count, 1);
  });

  it('public input and output: every real item\'s values are public signals', async () => {
    const pub = await batchedBuild('iris_mlp', { input: 'public', output: 'public' }, 2);
    assert.equal(pub.manifest.circuit.publicSignals, 2 * 3 + 2 + 2 * 4);
    const r = await proveItems(pub.dir, [iris[3]]);
    const v = await verify(pub.dir, r, DEV_KEYS);
    assert.equal(v.valid, true, v.reason);
    assert.deepEqual(v.batch, { size: 2, count: 1 });
    assert.equal(v.items!.length, 1, 'the padding item is not reported');
    assert.deepEqual(v.items![0].output, r.items[0].output);
    await assert.rejects(proveItems(pub.dir, [iris[0], iris[1], iris[2]]), /holds 1 to 2 inputs; got 3/);
    assert.throws(() => registrationFor(pub.manifest, {}, ethers.ZeroAddress), /cannot be registered/);
  });

  it('private input with hashed weights: nullifiers per item, one weights commitment', async () => {
    const priv = await batchedBuild('iris_mlp', { input: 'private', output: 'hashed', weights: 'hashed' }, 2);
    assert.equal(priv.manifest.circuit.publicSignals, 4);
    const r = await proveItems(priv.dir, [iris[0], iris[0]], { salts: [1n, 2n] });
    assert.notEqual(r.items[0].inputKey, r.items[1].inputKey, 'the same input twice has two nullifiers');
    const v = await verify(priv.dir, r, DEV_KEYS);
    assert.equal(v.valid, true, v.reason);
    assert.equal(v.commitments!.weights, priv.manifest.weightsCommitment);
    assert.deepEqual(v.items!.map((i) => i.opened), [{ input: true, output: true }, { input: true, output: true }]);
  });
});

describe('batched builds on the registry (hardhat node)', () => {
  let node: LocalNode;
  let owner: Chain;
  let other: Chain;
  let registry: ethers.Contract;
  let build: { dir: string; manifest: Manifest };
  let modelId: bigint;
  let recipient: string;
  let batches: BatchProofResult[];

  before(async () => {
    node = await startHardhatNode();
    owner = await rpcChain(node.url, KEY_0);
    other = await rpcChain(node.url, KEY_1);
    registry = (await deployRegistry(owner)).contract;
    recipient = await other.signer.getAddress();
    build = await batchedBuild('iris_mlp', COMPACT, 4);
    const verifier = await deployVerifier(owner, await verifierArtifact(build.dir), DEV_KEYS);
    const vkey = JSON.parse(readFileSync(join(build.dir, 'verification_key.json'), 'utf8'));
    modelId = (await registerModel(registry, registrationFor(build.manifest, vkey, verifier.address))).modelId;
    const r = BigInt(recipient);
    batches = [await proveItems(build.dir, iris.slice(0, 4), { salts: salts(4), recipient: r }), await proveItems(build.dir, iris.slice(4, 6), { salts: salts(2, 200), recipient: r })];
  });
  after(async () => {
    await owner?.close();
    await other?.close();
    await node?.stop();
    await releaseCurves();
  });

  it('records a batch in one transaction, then each item as it is opened, under a single proof\'s key', async () => {
    const s = await submitBatch(registry.connect(other.signer) as ethers.Contract, modelId, batches[0].proof, batches[0].publicSignals);
    assert.equal(s.count, 4n);
    assert.equal(s.recipient, recipient);
    // The same whatever N (3 public signals): at N = 32 under 15,000 per inference.
    assert.ok(s.gasUsed < 32n * 15_000n, `submitBatch used ${s.gasUsed} gas`);
    for (const it of batches[0].items) {
      const item = batchItemArg(build.manifest, batches[0], it.index);
      assert.equal((await readItem(registry, modelId, item)).exists, true);
      const key = { inputKey: ethers.toBeHex(BigInt(it.inputKey!), 32), recipient, outputCommitment: BigInt(it.outputCommitment!) };
      assert.equal((await readResult(registry, modelId, key)).exists, false, 'not recorded before it is opened');
      const o = await openItem(registry, modelId, item);
      assert.equal(o.inputKey, key.inputKey);
      const result = await readResult(registry, modelId, key);
      assert.equal(result.exists, true);
      assert.equal(result.submitter, recipient, 'credited to the batch\'s submitter');
    }
    await expectRevert(openItem(registry, modelId, batchItemArg(build.manifest, batches[0], 2)), 'ResultExists');
    await expectRevert(submitBatch(registry, modelId, batches[0].proof, batches[0].publicSignals), 'BatchExists');
  });

  it('refuses forged batches and items that the batch did not prove', async () => {
    const b = batches[1];
    const signals = (i: number, v: string) => b.publicSignals.map((s, k) => (k === i ? v : s));
    await expectRevert(submitBatch(registry, modelId, b.proof, signals(2, '4')), 'InvalidProof');
    await expectRevert(submitBatch(registry, modelId, b.proof, signals(2, '5')), 'CountOutsideBatch');
    await expectRevert(submitBatch(registry, modelId, b.proof, signals(0, batches[0].publicSignals[0])), 'InvalidProof');
    await expectRevert(openItem(registry, modelId, batchItemArg(build.manifest, b, 0)), 'UnknownBatch');
    await submitBatch(registry, modelId, b.proof, b.publicSignals);
    const item = batchItemArg(build.manifest, b, 1);
    const forged: [string, Partial<BatchItemArg>, string][] = [
      ['padding', { index: 2n, path: batchItemArg(build.manifest, b, 0).path }, 'ItemOutsideBatch'],
      ['another position', { index: 0n }, 'ItemNotInBatch'],
      ['another output', { outputCommitment: item.outputCommitment + 1n }, 'ItemNotInBatch'],
      ['another input', { inputKey: item.inputKey + 1n }, 'ItemNotInBatch'],
      ['a path node', { path: item.path.map((p, k) => (k === 3 ? p + 1n : p)) }, 'ItemNotInBatch'],
      ['a short path', { path: item.path.slice(1) }, 'ItemNotInBatch'],
      ['a key past the field', { inputKey: item.inputKey + FIELD_MODULUS }, 'ItemKeyNotInField'],
      ['another recipient', { recipient: ethers.ZeroAddress }, 'UnknownBatch'],
      ['another count', { count: 3n }, 'UnknownBatch'],
    ];
    for (const [what, change, error] of forged) {
      await expectRevert(openItem(registry, modelId, { ...item, ...change }), error);
      assert.equal((await readItem(registry, modelId, { ...item, ...change })).exists, false, what);
    }
    // An item of batch 0 (already recorded) carried into another batch is recorded once.
    const again = await proveItems(build.dir, [iris[0], iris[9]], { salts: [salts(1)[0], 999n], recipient: BigInt(recipient) });
    assert.equal(again.items[0].inputKey, batches[0].items[0].inputKey);
    await submitBatch(registry, modelId, again.proof, again.publicSignals);
    await expectRevert(openItem(registry, modelId, batchItemArg(build.manifest, again, 0)), 'ResultExists');
    await openItem(registry, modelId, batchItemArg(build.manifest, again, 1));
  });

  it('a batched model takes only batches, and a single model only single proofs', async () => {
    await expectRevert(submitProof(registry, modelId, batches[1].proof, batches[1].publicSignals), 'BatchedModel');
    const single = await batchedBuild('iris_mlp', COMPACT, 1);
    const verifier = await deployVerifier(owner, await verifierArtifact(single.dir), DEV_KEYS);
    const vkey = JSON.parse(readFileSync(join(single.dir, 'verification_key.json'), 'utf8'));
    const singleId = (await registerModel(registry, registrationFor(single.manifest, vkey, verifier.address))).modelId;
    const p = await Prover.load(single.dir);
    const r = await p.prove(iris[0]).finally(() => p.close());
    await expectRevert(submitBatch(registry, singleId, r.proof, r.publicSignals), 'NotBatched');
    await expectRevert(openItem(registry, singleId, batchItemArg(build.manifest, batches[0], 0)), 'NotBatched');
    const layout = registrationFor(build.manifest, vkey, verifier.address).layout;
    for (const bad of [{ ...layout, batchSize: 0 }, { ...layout, inputMode: 0 }, { ...layout, countIndex: layout.recipientIndex }, { ...layout, inputSize: 1 }]) {
      await expectRevert(registerModel(registry, { ...registrationFor(build.manifest, vkey, verifier.address), layout: bad }), 'InvalidRegistration');
    }
  });

  it('a consumer reads one item\'s output: ZkmlOutputOpener.opensItem', async () => {
    const opener = await deployOutputOpener(owner, build.dir);
    const it = batches[0].items[3];
    const item = batchItemArg(build.manifest, batches[0], 3);
    const values = it.outputRaw.map(BigInt);
    assert.equal(await opener.contract.opensItem(await registry.getAddress(), modelId, item, BigInt(it.salts!.output!), values), true);
    assert.equal(await opener.contract.opensItem(await registry.getAddress(), modelId, item, BigInt(it.salts!.output!), values.map((v, k) => (k === 0 ? v + 1n : v))), false, 'another output');
    assert.equal(await opener.contract.opensItem(await registry.getAddress(), modelId, { ...item, index: 2n }, BigInt(it.salts!.output!), values), false, 'another position');
  });
});

describe('batched builds: 40 inferences per proof (a 2^15 key, 95% full), on the registry and in the proving service', () => {
  let node: LocalNode;
  let chain: Chain;
  let service: RunningService;
  let build: { dir: string; manifest: Manifest };
  const keys = apiKeys();

  before(async () => {
    build = await batchedBuild('diabetes_linreg', COMPACT, 40);
    node = await startHardhatNode();
    chain = await rpcChain(node.url);
    const d = await ensureDeployed(chain, { build: build.dir, register: true });
    await writeDeployment(build.dir, chain, await recordOf(chain, build.dir, d));
    service = await startService({ builds: [build.dir], port: 0, store: join(scratchDir('store'), 'jobs'), workers: 2, rpc: node.url, insecureDevKeys: true, apiKeys: keys.file });
  });
  after(async () => {
    await service?.close(1000);
    await chain?.close();
    await node?.stop();
    await releaseCurves();
  });

  // The 1,000-input job of the acceptance runs in `npm run bench:batch` (digits MLP at N = 32); here 80 inputs take the same path.
  it('proves an 80-input job as 2 proofs; every item verifies from its stored proof and opening; one item goes on-chain', async () => {
    const api = client(service.url, keys.tokens.test);
    const samples = testSamples('diabetes_linreg').inputs;
    const inputs = Array.from({ length: 80 }, (_, i) => samples[i % samples.length]);
    const model = (await api.get('/v1/models/diabetes_linreg_hashed_hashed_fixed_40')).body;
    assert.equal(model.batchSize, 40);
    const created = await api.post('/v1/jobs', { model: model.name, inputs, salt: '5' });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const job = await api.finished(created.body.id, 600_000);
    assert.equal(job.state, 'completed');
    assert.equal(job.progress.succeeded, 80);
    const items = await api.allItems(job.id);
    const results = items.map((it: { result: BatchItemProof }) => it.result);
    const proofs = new Map<string, BatchItemProof>();
    for (const r of results) if (!proofs.has(r.publicSignals[0])) proofs.set(r.publicSignals[0], r);
    assert.equal(proofs.size, 2);
    assert.ok([...proofs.values()].every((r) => r.batch.count === 40 && r.publicSignals[2] === '40'));
    // The pairing check once per proof, then every item's opening against its proof's statement.
    for (const r of proofs.values()) assert.equal((await verify(build.dir, r, DEV_KEYS)).valid, true);
    const { manifest, program } = loadBuild(build.dir);
    for (const [i, r] of results.entries()) {
      assert.deepEqual(r.proof, proofs.get(r.publicSignals[0])!.proof);
      const v = await verifyBatchItems({ manifest, program }, r);
      assert.equal(v.valid, true, `item ${i}: ${v.reason}`);
      assert.deepEqual(v.items![0].opened, { input: true, output: true });
      assert.deepEqual(r.output, decodeOutput(program, referenceOutput(program, quantizeInput(program, inputs[i]))));
      assert.equal(r.index, i % 40);
    }

    // Registry: the batch costs under 15,000 gas per inference; its items open one by one.
    const first = await api.post('/v1/submit', { job: job.id, index: 40 });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const perInference = Number(first.body.batch.gasUsed) / 40;
    assert.ok(perInference < 15_000, `${perInference} gas per inference`);
    assert.equal(first.body.item.index, 0);
    const second = await api.post('/v1/submit', { job: job.id, index: 41 });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.batch, undefined, 'the batch was already recorded');
    const again = await api.post('/v1/submit', { job: job.id, index: 41 });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /ResultExists/);

    // A short job is one proof whose count says how many items are real.
    const short = await api.finished((await api.post('/v1/jobs', { model: model.name, inputs: inputs.slice(0, 3) })).body.id);
    const shortItems = (await api.allItems(short.id)).map((it: { result: BatchItemProof }) => it.result);
    assert.deepEqual(shortItems.map((r: BatchItemProof) => [r.index, r.publicSignals[2]]), [[0, '3'], [1, '3'], [2, '3']]);
    const checked = await api.post('/v1/verify', { model: model.name, ...shortItems[2] });
    assert.equal(checked.status, 200, JSON.stringify(checked.body));
    assert.equal(checked.body.valid, true, checked.body.reason);
    assert.deepEqual(checked.body.items[0].opened, { input: true, output: true });
  });
});

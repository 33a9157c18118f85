import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHardhatNode, type LocalNode } from '../src/chain/local_node.js';
import { expectError, zkml, type Run } from './helpers/cli.js';
import { modelFile, scratchDir } from './helpers/fixtures.js';

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

describe('zkml CLI: privacy modes, registry and ceremony', () => {
  const dir = scratchDir('cli-chain');
  const hashed = join(dir, 'iris-hashed');
  const plain = join(dir, 'iris');
  const cal = modelFile('iris_mlp', 'calibration.json');
  const input = modelFile('iris_mlp', 'input.json');
  let node: LocalNode;

  before(async () => {
    ok(await zkml('compile', modelFile('iris_mlp', 'model.onnx'), '-c', cal, '-o', hashed, '--visibility', 'input=hashed,weights=hashed'));
    ok(await zkml('setup', hashed));
    ok(await zkml('compile', modelFile('iris_mlp', 'model.onnx'), '-c', cal, '-o', plain, '--precision', 'fixed'));
    node = await startHardhatNode();
  });
  after(async () => node?.stop());

  it('--visibility takes presets and key=value pairs, and names the problem when wrong', async () => {
    expectError(await zkml('compile', modelFile('iris_mlp', 'model.onnx'), '-c', cal, '--visibility', 'secret'), /"secret" is neither a preset \(public, compact, private-model\)/);
    expectError(await zkml('compile', modelFile('iris_mlp', 'model.onnx'), '-c', cal, '--visibility', 'output=private'), /output visibility must be one of public, hashed; got "private"/);
    const inspect = ok(await zkml('inspect', hashed));
    assert.match(inspect.stdout, /visibility: input hashed, output public, weights hashed; weights commitment \d+/);
    assert.match(inspect.stdout, /output\[3\], inputCommitment\[1\], weightsCommitment\[1\]/);
    for (const cmd of ['deploy', 'register', 'submit', 'calldata', 'commit', 'node', 'bench-modes', 'ceremony']) assert.equal((await zkml(cmd, '--help')).code, 0, cmd);
  });

  it('prove --salt -> verify -> deploy -> register -> submit on a JSON-RPC node; a replay is refused; calldata and commit agree', async () => {
    const proofFile = join(dir, 'proof.json');
    expectError(await zkml('prove', hashed, '-i', input, '--salt', 'pepper', '-o', proofFile), /salt "pepper" is not a decimal or 0x-hex integer/);
    ok(await zkml('prove', hashed, '-i', input, '--salt', '0x2a', '-o', proofFile));
    // Dev keys: verify needs --insecure-dev-keys; the local node (127.0.0.1, chain id 31337) accepts them.
    const v = ok(await zkml('verify', hashed, '-p', proofFile, '--insecure-dev-keys'));
    assert.match(v.stdout, /valid: output .*; input commitment \d+ \(opened by the file\); weights commitment \d+/);

    expectError(await zkml('submit', hashed, '-p', proofFile, '--rpc', node.url), /no model id for .* run `zkml register/);
    const deployed = JSON.parse(ok(await zkml('deploy', hashed, '--rpc', node.url)).stdout);
    assert.match(deployed.registry, /^0x[0-9a-fA-F]{40}$/);
    assert.match(deployed.verifier, /^0x[0-9a-fA-F]{40}$/);
    const registered = JSON.parse(ok(await zkml('register', hashed, '--rpc', node.url, '--metadata-uri', 'ipfs://iris')).stdout);
    assert.equal(registered.registry, deployed.registry, 'register reuses the deployed registry');
    assert.equal(registered.verifier, deployed.verifier, 'and the deployed verifier');
    assert.equal(registered.modelId, '1');
    const submitted = JSON.parse(ok(await zkml('submit', hashed, '-p', proofFile, '--rpc', node.url)).stdout);
    assert.equal(submitted.result.exists, true);
    assert.ok(Number(submitted.gasUsed) > 200_000);
    expectError(await zkml('submit', hashed, '-p', proofFile, '--rpc', node.url), /submit reverted: ResultExists\(1, 0x/);

    const commitments = JSON.parse(ok(await zkml('commit', hashed, '-i', input, '--salt', '42')).stdout);
    assert.equal(commitments.inputKey, submitted.inputKey, 'the input key can be computed off-chain from the input and salt');
    assert.equal(commitments.weightsCommitment, registered.weightsCommitment);
    assert.deepEqual(commitments.publicSignals, JSON.parse(readFileSync(proofFile, 'utf8')).publicSignals, 'commit computes the proof\'s public signals off-chain');

    expectError(await zkml('calldata', hashed, '-p', proofFile, '--model-id', 'abc'), /--model-id must be a registry model id/);
    const calldata = JSON.parse(ok(await zkml('calldata', hashed, '-p', proofFile, '--model-id', '1')).stdout);
    assert.match(calldata.submit.calldata, /^0x[0-9a-f]+$/);
    assert.equal(calldata.verifyProof.args.length, 4);
    // The exported calldata is what `cast send` would send: here, the node refuses the replay.
    const res = await fetch(node.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: deployed.registry, data: calldata.submit.calldata }, 'latest'] }),
    });
    assert.match(JSON.stringify(await res.json()), /revert|error/i);
  });

  it('deployments follow the chain, not the URL; one registry serves every build; a reset chain is named, not a crash', async () => {
    const compact = join(dir, 'iris-compact');
    ok(await zkml('compile', modelFile('iris_mlp', 'model.onnx'), '-c', cal, '-o', compact, '--visibility', 'compact'));
    ok(await zkml('setup', compact));
    let other = await startHardhatNode();
    const port = new URL(other.url).port;
    try {
      const a = JSON.parse(ok(await zkml('deploy', hashed, '--rpc', `http://127.0.0.1:${port}`)).stdout);
      const b = JSON.parse(ok(await zkml('register', hashed, '--rpc', `http://localhost:${port}`)).stdout);
      assert.equal(b.registry, a.registry, 'found by chain id and genesis, whatever the URL');
      assert.equal(b.verifier, a.verifier);
      const c = JSON.parse(ok(await zkml('deploy', compact, '--rpc', other.url)).stdout);
      assert.equal(c.registry, a.registry, 'a second build reuses the chain\'s registry');
      assert.equal(c.gas.deployRegistry, undefined);

      // The node restarts on the same URL: a new chain with the same id. Nothing recorded applies.
      await other.stop();
      other = await startHardhatNode(Number(port));
      const proofFile = join(dir, 'proof-restart.json');
      ok(await zkml('prove', hashed, '-i', input, '-o', proofFile));
      expectError(await zkml('submit', hashed, '-p', proofFile, '--rpc', other.url), /no model id for .* \(chain 31337\): run `zkml register/);
      // A record whose contracts are gone on this very chain (a reverted snapshot, a wrong address) is named.
      const records = JSON.parse(readFileSync(join(hashed, 'deployments.json'), 'utf8'));
      ok(await zkml('register', hashed, '--rpc', other.url));
      const key = Object.keys(JSON.parse(readFileSync(join(hashed, 'deployments.json'), 'utf8'))).find((k) => !(k in records))!;
      const all = JSON.parse(readFileSync(join(hashed, 'deployments.json'), 'utf8'));
      all[key] = { ...all[key], registry: '0x000000000000000000000000000000000000dEaD' };
      writeFileSync(join(hashed, 'deployments.json'), JSON.stringify(all));
      expectError(await zkml('submit', hashed, '-p', proofFile, '--rpc', other.url), /the registry recorded for .* at 0x000000000000000000000000000000000000dEaD has no code: the chain was reset/);
      const again = ok(await zkml('deploy', hashed, '--rpc', other.url));
      assert.match(again.stderr, /has no code: .*; deploying it again/);
      assert.notEqual(JSON.parse(again.stdout).registry, '0x000000000000000000000000000000000000dEaD');
      expectError(await zkml('submit', hashed, '-p', proofFile, '--rpc', other.url, '--registry', '0x000000000000000000000000000000000000dEaD', '--model-id', '1'), /there is no contract at the registry address 0x000000000000000000000000000000000000dEaD/);
      // A record is followed only to the contracts zkml put there, and only to this build's registration.
      const fresh = JSON.parse(ok(await zkml('register', hashed, '--rpc', other.url)).stdout);
      const planted = JSON.parse(readFileSync(join(hashed, 'deployments.json'), 'utf8'));
      planted[key] = { ...planted[key], verifier: fresh.registry };
      writeFileSync(join(hashed, 'deployments.json'), JSON.stringify(planted));
      expectError(await zkml('submit', hashed, '-p', proofFile, '--rpc', other.url), /the verifier recorded for .* is not the verifier zkml deployed \(its code differs\)/);
      planted[key] = { ...planted[key], verifier: fresh.verifier };
      writeFileSync(join(hashed, 'deployments.json'), JSON.stringify(planted));
      const compactModel = JSON.parse(ok(await zkml('register', compact, '--rpc', other.url)).stdout).modelId;
      expectError(await zkml('submit', hashed, '-p', proofFile, '--rpc', other.url, '--model-id', compactModel), new RegExp(`model ${compactModel} of the registry at .* is not .*'s registration \\(its verifier is`));
    } finally {
      await other.stop();
    }
  });

  it('submit on the embedded EVM deploys and registers first, to measure gas', async () => {
    const proofFile = join(dir, 'proof-embedded.json');
    ok(await zkml('prove', hashed, '-i', input, '-o', proofFile));
    const r = JSON.parse(ok(await zkml('submit', hashed, '-p', proofFile)).stdout);
    assert.equal(r.result.exists, true);
    for (const k of ['deployRegistry', 'deployVerifier', 'register', 'submit']) assert.ok(Number(r.gas[k]) > 0, k);
  });

  it('ceremony: init, two contributions, beacon, verify (and detect tampering), finalize; the keys prove and verify', async () => {
    const c = join(dir, 'ceremony');
    expectError(await zkml('ceremony', 'contribute', join(dir, 'nowhere'), '--name', 'x'), /not a ceremony folder; run `zkml ceremony init/);
    ok(await zkml('ceremony', 'init', plain, '--dir', c));
    expectError(await zkml('ceremony', 'init', plain, '--dir', c), /already holds a ceremony/);
    expectError(await zkml('ceremony', 'finalize', c, '--build', plain), /no contribution yet/);
    const alice = ok(await zkml('ceremony', 'contribute', c, '--name', 'alice'));
    assert.match(alice.stdout, /contribution 1 recorded: 0001_alice\.zkey; contribution hash [0-9a-f]{128}/);
    ok(await zkml('ceremony', 'contribute', c, '--name', 'bob', '--entropy', 'bob was here'));
    expectError(await zkml('ceremony', 'beacon', c, '--beacon', 'xyz'), /the beacon must be an even number of hex digits/);
    ok(await zkml('ceremony', 'beacon', c, '--beacon', '0x' + 'ab'.repeat(32), '--iterations', '10'));
    const check = JSON.parse(ok(await zkml('ceremony', 'verify', c, '--json')).stdout);
    assert.equal(check.valid, true);
    assert.equal(check.contributions, 3);

    // A step file replaced by another valid key: the transcript catches it.
    const bob = join(c, '0002_bob.zkey');
    const saved = readFileSync(bob);
    copyFileSync(join(c, '0001_alice.zkey'), bob);
    const tampered = await zkml('ceremony', 'verify', c);
    assert.equal(tampered.code, 1);
    assert.match(tampered.stdout, /ceremony INVALID: 0002_bob\.zkey differs from the transcript/);
    writeFileSync(bob, saved);

    const fin = ok(await zkml('ceremony', 'finalize', c, '--build', plain));
    const vkHash = /verifying key hash (0x[0-9a-f]{64})/.exec(fin.stdout)?.[1];
    assert.ok(vkHash, fin.stdout);
    assert.equal(JSON.parse(ok(await zkml('ceremony', 'verify', c, '--json')).stdout).vkHash, vkHash);
    const setupRecord = JSON.parse(readFileSync(join(plain, 'setup.json'), 'utf8'));
    assert.equal(setupRecord.phase2Contributions, 3);
    assert.ok(existsSync(join(plain, 'model.zkey')));
    expectError(await zkml('ceremony', 'contribute', c, '--name', 'late'), /is finalized/);
    const proofFile = join(dir, 'ceremony-proof.json');
    ok(await zkml('prove', plain, '-i', input, '-o', proofFile));
    // Phase 1 is the dev ptau, so the keys are still forgeable: verify says so unless told.
    expectError(await zkml('verify', plain, '-p', proofFile), /the keys of .* are not secure: phase 1 .* is a development powers of tau/);
    ok(await zkml('verify', plain, '-p', proofFile, '--insecure-dev-keys'));
    assert.match(ok(await zkml('verify-onchain', plain, '-p', proofFile)).stdout, /returned true/);
    // `zkml setup` does not replace the ceremony's keys with dev keys unless --force.
    expectError(await zkml('setup', plain), /has keys from the ceremony in .*; this setup would replace them with INSECURE development keys; pass --force/);
  });
});

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHardhatNode, type LocalNode } from '../src/chain/local_node.js';
import { decodeModel } from '../src/onnx/import.js';
import { onnx } from '../src/onnx/proto.js';
import { expectError, zkml } from './helpers/cli.js';
import { modelFile, scratchDir, testSamples } from './helpers/fixtures.js';
import { packageRoot } from '../src/paths.js';

describe('zkml CLI', () => {
  const dir = scratchDir('cli');
  const build = join(dir, 'iris');
  const write = (name: string, value: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };
  const cal = modelFile('iris_mlp', 'calibration.json');

  before(async () => {
    const compiled = await zkml('compile', modelFile('iris_mlp', 'model.onnx'), '--calibration', cal, '--test', modelFile('iris_mlp', 'test.json'), '--out', build);
    assert.equal(compiled.code, 0, compiled.stderr);
    assert.match(compiled.stdout, /constraints/);
  });

  it('--help exists for every command', async () => {
    for (const cmd of ['compile', 'setup', 'prove', 'verify', 'verify-onchain', 'inspect']) {
      const r = await zkml(cmd, '--help');
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`Usage: zkml ${cmd}`));
    }
  });

  it('missing build artifacts name the file and the command to run', async () => {
    expectError(await zkml('prove', join(dir, 'nothing'), '--input', modelFile('iris_mlp', 'input.json')), /missing .*manifest\.json: not a compiled build folder; run `zkml compile/);
    expectError(await zkml('prove', build, '--input', modelFile('iris_mlp', 'input.json')), /no proving key; run `zkml setup <build>` first/);
    expectError(await zkml('verify', build, '--proof', write('p.json', { proof: {}, publicSignals: [] })), /no verification key; run `zkml setup/);
  });

  it('a malformed ONNX file fails cleanly and writes no build', async () => {
    const out = join(dir, 'bad');
    expectError(await zkml('compile', write('bad.onnx', 'garbage'), '--calibration', cal, '--out', out), /bad\.onnx: not a valid ONNX model/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
  });

  it('an unsupported op names op, node and the supported ops, and leaves an existing build untouched', async () => {
    const model = decodeModel(readFileSync(modelFile('iris_mlp', 'model.onnx')), 'iris');
    model.graph!.node![1].opType = 'Selu';
    const file = join(dir, 'selu.onnx');
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
    const before = readFileSync(join(build, 'manifest.json'), 'utf8');
    expectError(await zkml('compile', file, '--calibration', cal, '--out', build), /unsupported ONNX op Selu \(node "\/1\/Relu"\); supported ops: .*Gemm/);
    assert.equal(readFileSync(join(build, 'manifest.json'), 'utf8'), before);
  });

  it('bad option values are usage errors', async () => {
    const r = await zkml('compile', modelFile('iris_mlp', 'model.onnx'), '--calibration', cal, '--weight-bits', 'lots');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--weight-bits must be an integer/);
  });

  describe('with keys', () => {
    let node: LocalNode;
    before(async () => {
      const r = await zkml('setup', build);
      assert.equal(r.code, 0, r.stderr);
      node = await startHardhatNode();
    });
    after(async () => node?.stop());

    it('bad inputs: wrong shape, NaN, Infinity, out of range, unreadable JSON', async () => {
      expectError(await zkml('prove', build, '--input', write('short.json', { input: [1, 2, 3] })), /input: expected 4 values \(shape \[1, 4\]\), got 3/);
      expectError(await zkml('prove', build, '--input', write('nan.json', '{"input": [1, "NaN", 3, 4]}')), /value 1 is "NaN"; every input value must be a finite number/);
      expectError(await zkml('prove', build, '--input', write('inf.json', '{"input": [1, 2, 1e999, 4]}')), /value 2 is Infinity; every input value must be a finite number/);
      expectError(await zkml('prove', build, '--input', write('big.json', { input: [5, 3, 400, 1] })), /input\[2\] = \d+ is outside the planned fixed-point range .*the value 400 is outside the range/);
      expectError(await zkml('prove', build, '--input', write('broken.json', '{"input": [1, 2,')), /broken\.json.*invalid JSON/);
    });

    it('prove -> verify -> verify-onchain (embedded and --rpc), and a tampered proof file is INVALID', async () => {
      const proofFile = join(dir, 'proof.json');
      const p = await zkml('prove', build, '--input', modelFile('iris_mlp', 'input.json'), '--out', proofFile);
      assert.equal(p.code, 0, p.stderr);
      // The build has dev keys: off-chain verification refuses them without --insecure-dev-keys
      // (test/provenance.test.ts); the embedded EVM and a local node accept them.
      const v = await zkml('verify', build, '--proof', proofFile, '--json', '--insecure-dev-keys');
      assert.equal(v.code, 0, v.stderr);
      assert.equal(JSON.parse(v.stdout).valid, true);
      const e = await zkml('verify-onchain', build, '--proof', proofFile, '--json');
      assert.equal(e.code, 0, e.stderr);
      assert.equal(JSON.parse(e.stdout).valid, true);
      assert.ok(JSON.parse(e.stdout).gas > 0);
      const rpc = await zkml('verify-onchain', build, '--proof', proofFile, '--rpc', node.url);
      assert.equal(rpc.code, 0, rpc.stderr);
      assert.match(rpc.stdout, /returned true/);

      const doc = JSON.parse(readFileSync(proofFile, 'utf8'));
      doc.publicSignals[0] = String(BigInt(doc.publicSignals[0]) + 1n);
      const forged = write('forged.json', doc);
      const bad = await zkml('verify', build, '--proof', forged, '--insecure-dev-keys');
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /INVALID: the pairing check failed/);
      const badChain = await zkml('verify-onchain', build, '--proof', forged, '--rpc', node.url);
      assert.equal(badChain.code, 1);
      assert.match(badChain.stdout, /returned false/);
    });

    it('a batch keeps the good proofs when one input fails, and says so in its exit code', async () => {
      const [a, b] = testSamples('iris_mlp').inputs;
      const batch = write('batch.jsonl', [JSON.stringify({ input: a }), JSON.stringify({ input: [1, 2] }), JSON.stringify(b)].join('\n'));
      const out = join(dir, 'batch');
      const r = await zkml('prove', build, '--batch', batch, '--workers', '2', '--out', out);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /2\/3 proved/);
      assert.match(r.stderr, /input 1: input: expected 4 values/);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      assert.equal(summary.failed, 1);
      assert.ok(existsSync(join(out, 'proof_0.json')) && existsSync(join(out, 'proof_2.json')));
      assert.equal((await zkml('verify', build, '--proof', join(out, 'proof_2.json'), '--insecure-dev-keys')).code, 0);
    });

    it('inputs: a plain array is one sample; a file of several needs --sample; --version answers', async () => {
      const [a, b] = testSamples('iris_mlp').inputs;
      const plain = join(dir, 'plain-proof.json');
      const r = await zkml('prove', build, '--input', write('plain.json', a), '--out', plain);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(readFileSync(plain, 'utf8')).input, a);
      const many = write('many.json', { inputs: [a, b] });
      expectError(await zkml('prove', build, '--input', many), /many\.json holds 2 samples and --input proves one: pick one with --sample <k>, or prove them all with --batch/);
      const picked = join(dir, 'picked-proof.json');
      assert.equal((await zkml('prove', build, '--input', many, '--sample', '1', '--out', picked)).code, 0);
      assert.deepEqual(JSON.parse(readFileSync(picked, 'utf8')).input, b);
      expectError(await zkml('prove', build, '--input', many, '--sample', '5'), /holds 2 sample\(s\); there is no sample 5/);
      const version = await zkml('--version');
      assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version);
    });

    it('bench measures your own model with the suite\'s tables and JSON; an unknown suite model is a clear error', async () => {
      expectError(await zkml('bench', '--models', 'wine'), /unknown bundled model\(s\): wine; the suite has iris_mlp, .*To bench your own model: zkml bench model\.onnx --calibration/);
      expectError(await zkml('bench', modelFile('wine_mlp', 'model.onnx')), /an ONNX target needs --calibration/, 2);
      const out = join(dir, 'bench');
      const r = await zkml('bench', modelFile('wine_mlp', 'model.onnx'), '-c', modelFile('wine_mlp', 'calibration.json'), '-t', modelFile('wine_mlp', 'test.json'), '--proofs', '2', '--no-cold-start', '--out', out);
      assert.equal(r.code, 0, r.stderr);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      assert.deepEqual(results.models.map((m: { model: string }) => m.model), ['wine_mlp']);
      assert.ok(results.models[0].accuracy.decisionAgreement >= 0.99);
      assert.ok(results.models[0].verifyGas > 200_000);
      assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /\| wine_mlp \| \d+ \|/);
      // A build folder is measured as it is, on the samples given.
      const again = await zkml('bench', build, '--samples', modelFile('iris_mlp', 'test.json'), '--proofs', '2', '--no-cold-start', '--out', join(dir, 'bench-build'));
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /\| iris \| \d+ \|/);
      // A measurement that hangs is killed at --timeout and reported, not waited on forever.
      expectError(await zkml('bench', build, '--samples', modelFile('iris_mlp', 'test.json'), '--no-cold-start', '--timeout', '1', '--out', join(dir, 'bench-timeout')), /measuring iris failed \(no result after 1 s \(raise --timeout/);
    });

    it('--input and --batch together are a usage error', async () => {
      const r = await zkml('prove', build, '--input', 'a.json', '--batch', 'b.jsonl');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /exactly one of --input <file> or --batch <file>/);
    });
  });
});

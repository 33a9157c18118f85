import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as snarkjs from 'snarkjs';
import { buildBn128 } from 'ffjavascript';
import { ensureDeployed } from '../src/chain/deployment.js';
import { startHardhatNode, type LocalNode } from '../src/chain/local_node.js';
import { chainKind, rpcChain } from '../src/chain/network.js';
import { deployVerifier } from '../src/chain/onchain.js';
import { verifierArtifact } from '../src/chain/verifier.js';
import type { Manifest } from '../src/compile/manifest.js';
import { InsecureKeysError } from '../src/errors.js';
import { Prover } from '../src/prove/prover.js';
import { startService } from '../src/service/service.js';
import { ceremonyBeacon, ceremonyContribute, ceremonyFinalize, ceremonyInit } from '../src/setup/ceremony.js';
import { releaseCurves } from '../src/setup/curve.js';
import { keyProvenance } from '../src/setup/provenance.js';
import { setup, type SetupRecord } from '../src/setup/setup.js';
import { verify, type ProofDocument } from '../src/verify/verify.js';
import { expectError, zkml, type Run } from './helpers/cli.js';
import { compiled, scratchDir, testSamples, withKeys } from './helpers/fixtures.js';
import { client } from './helpers/service.js';

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

const KEY_FILES = new Set(['model.zkey', 'verification_key.json', 'setup.json', 'deployments.json', 'verifier.json', 'Verifier.sol', 'proofs']);

/** A private copy of a shared test build (keys included or not), so that changing its keys touches no other test. */
function copyBuild(from: string, to: string, withKeyFiles: boolean): string {
  const skip = (src: string) => (withKeyFiles ? basename(src) === 'deployments.json' : KEY_FILES.has(basename(src)));
  cpSync(from, to, { recursive: true, filter: (src) => src === from || !skip(src) });
  return to;
}

interface G1 {
  fromObject(p: bigint[]): Uint8Array;
  add(a: Uint8Array, b: Uint8Array): Uint8Array;
  neg(a: Uint8Array): Uint8Array;
  timesScalar(a: Uint8Array, s: bigint): Uint8Array;
  toAffine(a: Uint8Array): Uint8Array;
  toObject(a: Uint8Array): bigint[];
}

/**
 * The forgery a key without a phase-2 secret allows (delta = gamma = the G2 generator), from the
 * verifying key alone: A = alpha, B = beta, C = -(IC_0 + sum s_i IC_(i+1)). Then
 * e(A, B) = e(alpha, beta) e(IC, gamma) e(C, delta) holds for any public signals s.
 */
async function forge(vkey: { vk_alpha_1: string[]; vk_beta_2: string[][]; IC: string[][] }, signals: string[]) {
  const curve = (await buildBn128(true)) as { G1: G1; terminate(): Promise<void> };
  try {
    const { G1 } = curve;
    const point = (p: string[]) => G1.fromObject(p.map(BigInt));
    let ic = point(vkey.IC[0]);
    signals.forEach((s, i) => (ic = G1.add(ic, G1.timesScalar(point(vkey.IC[i + 1]), BigInt(s)))));
    const c = G1.toObject(G1.toAffine(G1.neg(ic))).map(String);
    return { pi_a: vkey.vk_alpha_1, pi_b: vkey.vk_beta_2, pi_c: c, protocol: 'groth16', curve: 'bn128' };
  } finally {
    await curve.terminate();
  }
}

/** A real (non-beacon) phase 1 of 2^power: snarkjs powersoftau new, one secret contribution, prepare phase2. */
async function securePtau(dir: string, power: number): Promise<string> {
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  await snarkjs.powersOfTau.newAccumulator(curve, power, join(dir, 'pot0.ptau'));
  await snarkjs.powersOfTau.contribute(join(dir, 'pot0.ptau'), join(dir, 'pot1.ptau'), 'tester', 'secret entropy of the test');
  await snarkjs.powersOfTau.preparePhase2(join(dir, 'pot1.ptau'), join(dir, 'final.ptau'));
  return join(dir, 'final.ptau');
}

describe('key provenance: dev keys are forgeable and refused where proofs are trusted', () => {
  const dir = scratchDir('provenance');
  let dev: string;
  let devPtau: string;
  let proofFile: string;
  let secure: string;
  let securePtauFile: string;
  let nodes: { dev: LocalNode; other: LocalNode };

  before(async () => {
    const iris = await withKeys('iris_mlp');
    dev = copyBuild(iris.dir, join(dir, 'iris-dev'), true);
    devPtau = (JSON.parse(readFileSync(join(dev, 'setup.json'), 'utf8')) as SetupRecord).ptau.file;
    const prover = await Prover.load(dev);
    proofFile = join(dir, 'proof.json');
    writeFileSync(proofFile, JSON.stringify(await prover.prove(testSamples('iris_mlp').inputs[0])));
    await prover.close();
    // Secure keys for comparison: a real phase 1 (2^7 takes seconds) and snarkjs' phase 2 with one contribution.
    securePtauFile = await securePtau(scratchDir('ptau'), 7);
    secure = copyBuild((await compiled('diabetes_linreg')).dir, join(dir, 'diabetes-secure'), false);
    const s = await setup(secure, { ptau: securePtauFile });
    assert.deepEqual([s.ptau.source, s.ptau.secretPublic, s.phase2Contributions], ['file', false, 1]);
    const [a, b] = await Promise.all([startHardhatNode(), startHardhatNode(0, 60_000, { chainId: 11155111 })]);
    nodes = { dev: a, other: b };
  });
  after(async () => {
    await nodes?.dev.stop();
    await nodes?.other.stop();
    await releaseCurves();
  });

  it('reads provenance from the keys: dev keys have delta = gamma and a beacon-only phase 1; setup --ptau keys are secure', async () => {
    const p = await keyProvenance(dev);
    assert.equal(p.secure, false);
    assert.equal(p.development, true);
    assert.equal(p.phase2Contributions, 0);
    assert.deepEqual([p.phase1.checked, p.phase1.secretPublic], ['ptau', true]);
    assert.match(p.problems[0], /no phase-2 contribution .* anyone who can read the verifying key can forge proofs/);
    const s = await keyProvenance(secure);
    assert.equal(s.secure, true, s.problems.join('; '));
    assert.deepEqual([s.phase1.contributions, s.phase1.beacons, s.phase2Contributions, s.beacons], [1, 0, 1, 0]);
    assert.match(ok(await zkml('inspect', dev)).stdout, /provenance: INSECURE, development keys: they have no phase-2 contribution/);
    assert.match(ok(await zkml('inspect', secure)).stdout, /provenance: secure \(1 phase-1 contribution\(s\), 0 beacon\(s\); 1 phase-2 contribution\(s\)\)/);
  });

  it('a forged proof for a dev key passes snarkjs, is refused by verify() and `zkml verify`, and passes with the flag', async () => {
    const vkey = JSON.parse(readFileSync(join(dev, 'verification_key.json'), 'utf8'));
    const genuine = JSON.parse(readFileSync(proofFile, 'utf8')) as ProofDocument;
    const manifest = JSON.parse(readFileSync(join(dev, 'manifest.json'), 'utf8')) as Manifest;
    const at = (g: string) => manifest.circuit.publicLayout.find((e) => e.group === g)!;
    // Claim class 2 (virginica) for an input far outside the range the circuit enforces.
    const signals = [...genuine.publicSignals];
    const out = at('output');
    for (let i = 0; i < out.size; i++) signals[out.offset + i] = i === out.size - 1 ? '1000000' : '0';
    const inp = at('input');
    for (let i = 0; i < inp.size; i++) signals[inp.offset + i] = '99999999';
    const forged = { proof: await forge(vkey, signals), publicSignals: signals };
    assert.equal(await snarkjs.groth16.verify(vkey, signals, forged.proof as never), true, 'the attack works against snarkjs');

    await assert.rejects(verify(dev, forged), (err: unknown) => err instanceof InsecureKeysError && err.code === 'INSECURE_KEYS' && /are development keys: they have no phase-2 contribution.*--insecure-dev-keys/.test(err.message));
    await assert.rejects(verify(dev, genuine), InsecureKeysError, 'the keys are refused, whatever the proof');
    const accepted = await verify(dev, forged, { insecureDevKeys: true });
    assert.equal(accepted.valid, true);
    assert.equal(accepted.output!.indexOf(Math.max(...accepted.output!)), out.size - 1);

    const forgedFile = join(dir, 'forged.json');
    writeFileSync(forgedFile, JSON.stringify(forged));
    expectError(await zkml('verify', dev, '-p', forgedFile), /the keys of .*iris-dev are development keys: .*anyone who can read the verifying key can forge proofs; run a ceremony \(`zkml ceremony`\) or pass --insecure-dev-keys/);
    const flagged = ok(await zkml('verify', dev, '-p', forgedFile, '--insecure-dev-keys'));
    assert.match(flagged.stdout, /^valid: output .*\(argmax 2\)/);
    assert.match(flagged.stderr, /warning: .* has development keys: .*\(accepted: --insecure-dev-keys\)/);
    // Secure keys need no flag.
    const prover = await Prover.load(secure);
    const proof = await prover.prove(testSamples('diabetes_linreg').inputs[0]);
    await prover.close();
    assert.equal((await verify(secure, proof)).valid, true);
  });

  it('phase 1 is read from the keys: a dev phase 1 with a real phase-2 contribution is found without setup.json, or with a setup.json that lies', async () => {
    // Dev keys, then one secret phase-2 contribution made with snarkjs directly: delta is secret, but tau, alpha and beta are public.
    const made = copyBuild(dev, join(dir, 'iris-dev-phase1'), true);
    await snarkjs.zKey.contribute(join(dev, 'model.zkey'), join(made, 'model.zkey'), 'someone', 'secret entropy');
    writeFileSync(join(made, 'verification_key.json'), JSON.stringify(await snarkjs.zKey.exportVerificationKey(join(made, 'model.zkey'))));
    const record = JSON.parse(readFileSync(join(made, 'setup.json'), 'utf8')) as SetupRecord;
    for (const [what, setupJson] of [
      ['no setup.json', undefined],
      ['a setup.json claiming a ceremony ptau that is not here', { ...record, ptau: { source: 'file', file: '/nowhere/ceremony.ptau', power: 12, secretPublic: false }, phase2Contributions: 1 }],
    ] as const) {
      if (setupJson) writeFileSync(join(made, 'setup.json'), JSON.stringify(setupJson));
      else rmSync(join(made, 'setup.json'), { force: true });
      const p = await keyProvenance(made);
      assert.equal(p.secure, false, what);
      assert.equal(p.development, false, `${what}: delta is not the generator`);
      assert.match(p.problems.join('; '), /phase 1 .* is a development powers of tau/, what);
    }
    // Keys whose phase 1 is nowhere to be found, with no record that vouches for them, are not trusted either.
    const unknown = copyBuild(secure, join(dir, 'diabetes-unknown'), true);
    rmSync(join(unknown, 'setup.json'));
    assert.match((await keyProvenance(unknown)).problems.join('; '), /how phase 1 was made is unknown/);
  });

  it('export-verifier and deployVerifier apply the key policy: dev keys need the flag, and exported files say they are insecure', async () => {
    const out = join(dir, 'exported');
    expectError(await zkml('export-verifier', dev, '-o', out), /are development keys: .*--insecure-dev-keys/);
    assert.equal(existsSync(join(out, 'Verifier.sol')), false, 'nothing is written');
    ok(await zkml('export-verifier', dev, '-o', out, '--insecure-dev-keys'));
    assert.match(readFileSync(join(out, 'Verifier.sol'), 'utf8'), /^\/\/ WARNING: INSECURE KEYS\./);
    assert.match(JSON.parse(readFileSync(join(out, 'registration.json'), 'utf8')).insecureKeys[0], /no phase-2 contribution/);
    ok(await zkml('export-verifier', secure, '-o', join(dir, 'exported-secure')));
    assert.equal(JSON.parse(readFileSync(join(dir, 'exported-secure', 'registration.json'), 'utf8')).insecureKeys, undefined);
    const remote = await rpcChain(nodes.other.url, '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
    try {
      await assert.rejects(deployVerifier(remote, await verifierArtifact(dev)), InsecureKeysError);
      assert.ok((await deployVerifier(remote, await verifierArtifact(dev), { insecureDevKeys: true })).address);
    } finally {
      await remote.close();
    }
  });

  it('classifies chains: loopback with chain id 31337 or 1337 is a development chain, nothing else is', () => {
    for (const url of ['http://127.0.0.1:8545', 'http://localhost:8545', 'http://[::1]:8545', 'http://127.3.2.1']) assert.equal(chainKind(url, 31337), 'development', url);
    assert.equal(chainKind('http://localhost:8545', 1337), 'development');
    for (const [url, id] of [['http://127.0.0.1:8545', 1], ['http://127.0.0.1:8545', 11155111], ['https://rpc.example.org', 31337], ['http://10.0.0.1:8545', 1337], ['http://127.0.0.1.example.org', 31337]] as const) {
      assert.equal(chainKind(url, id), 'remote', `${url} ${id}`);
    }
    // A node that names itself must be a development node: a private network on chain id 1337 behind a tunnel is not.
    assert.equal(chainKind('http://127.0.0.1:8545', 31337, 'HardhatNetwork/2.29.1/@nomicfoundation/edr/0.3.8'), 'development');
    assert.equal(chainKind('http://127.0.0.1:8545', 31337, 'anvil/v1.2.3'), 'development');
    assert.equal(chainKind('http://127.0.0.1:8545', 1337, 'Geth/v1.13.0-stable/linux-amd64/go1.21'), 'remote');
    assert.equal(chainKind('http://127.0.0.1:8545', 1337, ''), 'remote', 'a node that does not say what it is');
  });

  it('on a non-development chain, verify-onchain, deploy, register and submit refuse dev keys unless --insecure-dev-keys', async () => {
    const url = nodes.other.url;
    const refused = /the keys of .*iris-dev are development keys: .*pass --insecure-dev-keys .*to use them on http:\/\/127\.0\.0\.1:\d+ \(only the embedded EVM and a loopback node with chain id 31337 or 1337/;
    expectError(await zkml('verify-onchain', dev, '-p', proofFile, '--rpc', url), refused);
    expectError(await zkml('deploy', dev, '--rpc', url), refused);
    expectError(await zkml('register', dev, '--rpc', url), refused);
    expectError(await zkml('submit', dev, '-p', proofFile, '--rpc', url, '--model-id', '1'), refused);
    assert.equal(existsSync(join(dev, 'deployments.json')), false, 'nothing was deployed');
    const chain = await rpcChain(url);
    try {
      assert.equal(chain.kind, 'remote');
      await assert.rejects(ensureDeployed(chain, { build: dev, register: true }), InsecureKeysError);
    } finally {
      await chain.close();
    }

    const flag = '--insecure-dev-keys';
    const onchain = ok(await zkml('verify-onchain', dev, '-p', proofFile, '--rpc', url, flag));
    assert.match(onchain.stdout, /returned true/);
    assert.match(onchain.stderr, /warning: .* has development keys: .*\(accepted: --insecure-dev-keys\)/);
    ok(await zkml('deploy', dev, '--rpc', url, flag));
    assert.equal(JSON.parse(ok(await zkml('register', dev, '--rpc', url, flag)).stdout).modelId, '1');
    assert.equal(JSON.parse(ok(await zkml('submit', dev, '-p', proofFile, '--rpc', url, flag)).stdout).result.exists, true);
  });

  it('on a development node (127.0.0.1, chain id 31337) and the embedded EVM they accept dev keys with a warning', async () => {
    const url = nodes.dev.url;
    const warned = /warning: .* has development keys: .*\(accepted on the development chain http:\/\/127\.0\.0\.1:\d+\)/;
    const onchain = ok(await zkml('verify-onchain', dev, '-p', proofFile, '--rpc', url));
    assert.match(onchain.stdout, /returned true/);
    assert.match(onchain.stderr, warned);
    // deploy stands for register and submit, which test/cli_chain.test.ts runs on such a node without the flag.
    assert.match(ok(await zkml('deploy', dev, '--rpc', url)).stderr, warned);
    assert.match(ok(await zkml('verify-onchain', dev, '-p', proofFile)).stderr, /\(accepted on the embedded EVM\)/);
  });

  it('`zkml serve` and startService refuse dev-key builds unless told; a secure build is served alone', async () => {
    const store = () => join(scratchDir('store'), 'jobs');
    // --insecure-no-auth: the service's API keys are another matter (test/service*.test.ts).
    expectError(await zkml('serve', dev, '--port', '0', '--store', store(), '--insecure-no-auth'), /skipping .*iris-dev: the keys of .* are development keys[^]*error: the keys of .*iris-dev are development keys: .*--insecure-dev-keys/);
    await assert.rejects(startService({ builds: [dev], port: 0, store: store(), workers: 1, insecureNoAuth: true }), InsecureKeysError);

    const skipped: string[] = [];
    const both = await startService({ builds: [dev, secure], port: 0, store: store(), workers: 1, insecureNoAuth: true, log: (l) => skipped.push(l) });
    try {
      const models = (await client(both.url).get('/v1/models')).body.models.map((m: { name: string }) => m.name);
      assert.deepEqual(models, ['diabetes-secure']);
      assert.ok(skipped.some((l) => /^skipping .*iris-dev: the keys of .* are development keys/.test(l)), skipped.join('\n'));
    } finally {
      await both.close(0);
    }

    const flagged = await startService({ builds: [dev], port: 0, store: store(), workers: 1, insecureNoAuth: true, insecureDevKeys: true });
    try {
      const doc = JSON.parse(readFileSync(proofFile, 'utf8'));
      const r = await client(flagged.url).post('/v1/verify', { model: 'iris-dev', proof: doc.proof, publicSignals: doc.publicSignals });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.valid, true);
    } finally {
      await flagged.close(0);
    }
  });

  it('a ceremony whose only step is a beacon cannot be finalized; one with a contribution can; a dev phase 1 is recorded and reported', async () => {
    // Secure phase 1: beacon only -> refused; a contribution -> secure keys.
    const build = copyBuild(secure, join(dir, 'diabetes-ceremony'), false);
    const c = join(dir, 'ceremony-secure');
    await ceremonyInit(build, c, { ptau: securePtauFile });
    await ceremonyBeacon(c, { beacon: 'ab'.repeat(32) });
    await assert.rejects(ceremonyFinalize(c, build), /the ceremony has no secret contribution \(only 1 public beacon\(s\)\), so anyone can recompute its delta/);
    assert.equal(existsSync(join(build, 'model.zkey')), false, 'nothing was installed');
    await ceremonyContribute(c, { name: 'alice' });
    await ceremonyFinalize(c, build);
    const p = await keyProvenance(build);
    assert.equal(p.secure, true, p.problems.join('; '));
    assert.deepEqual([p.phase2Contributions, p.beacons, p.ceremony], [2, 1, c]);

    // A dev ptau passed with --ptau is detected: recorded as dev, and the finalized keys are forgeable.
    const devBuild = copyBuild(dev, join(dir, 'iris-ceremony'), false);
    const d = join(dir, 'ceremony-dev');
    const init = ok(await zkml('ceremony', 'init', devBuild, '--dir', d, '--ptau', devPtau));
    assert.match(init.stderr, /WARNING: .* is a development powers of tau: all 1 of its contributions are public beacons/);
    const t = JSON.parse(readFileSync(join(d, 'transcript.json'), 'utf8'));
    assert.deepEqual([t.ptau.source, t.ptau.secretPublic], ['dev', true]);
    ok(await zkml('ceremony', 'contribute', d, '--name', 'bob'));
    const fin = ok(await zkml('ceremony', 'finalize', d, '--build', devBuild));
    assert.match(fin.stderr, /WARNING: phase 1 .* is a dev ptau whose contributions are all public beacons/);
    const q = await keyProvenance(devBuild);
    assert.deepEqual([q.secure, q.development, q.phase2Contributions], [false, false, 1]);
    assert.match(q.problems[0], /^phase 1 .* is a development powers of tau/);
    expectError(await zkml('verify', devBuild, '-p', proofFile), /the keys of .*iris-ceremony are not secure: phase 1 /);
  });

  it('a dev ptau passed as --ptau is recorded as insecure', async () => {
    const build = copyBuild(dev, join(dir, 'iris-devfile'), false);
    const copy = join(scratchDir('ptau'), 'looks-like-a-ceremony.ptau');
    cpSync(devPtau, copy);
    const r = ok(await zkml('setup', build, '--ptau', copy));
    assert.match(r.stderr, /WARNING: .*looks-like-a-ceremony\.ptau is a development powers of tau/);
    assert.match(r.stdout, /ptau: INSECURE dev/);
    const record = JSON.parse(readFileSync(join(build, 'setup.json'), 'utf8')) as SetupRecord;
    assert.deepEqual([record.ptau.source, record.ptau.secretPublic, record.ptau.file, record.phase2Contributions], ['dev', true, copy, 0]);
    assert.equal((await keyProvenance(build)).secure, false);
  });

  it('setup does not replace keys from a ceremony or a --ptau file without --force', async () => {
    const fromCeremony = join(dir, 'diabetes-ceremony');
    expectError(await zkml('setup', fromCeremony), /has keys from the ceremony in .*ceremony-secure; this setup would replace them with INSECURE development keys; pass --force/);
    expectError(await zkml('setup', secure), /has keys from the powers of tau .*final\.ptau; this setup would replace them with INSECURE development keys; pass --force/);
    assert.match(ok(await zkml('setup', secure, '--ptau', securePtauFile)).stdout, /keys cached/);
    assert.equal((await keyProvenance(secure)).secure, true, 'the secure keys are still there');
    ok(await zkml('setup', fromCeremony, '--force'));
    assert.equal((await keyProvenance(fromCeremony)).development, true);
  });
});

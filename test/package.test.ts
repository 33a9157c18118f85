import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { packageRoot } from '../src/paths.js';
import { modelFile, scratchDir } from './helpers/fixtures.js';

interface Run {
  code: number | null;
  output: string;
}

/** A command with an argument list and a time limit (a hung process fails the test instead of the suite). */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms: it did not exit by itself]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The README's Library example, as the README shows it. */
function readmeLibraryExample(): string {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Library'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, 'the README has a Library example');
  return code;
}

/**
 * What a user gets from `npm install zkml`: the package is packed, installed from the tarball into
 * a copy of the Hardhat example (a project of its own, outside this repository), and used there.
 */
describe('the packed package, installed into a new project', () => {
  const dir = scratchDir('package');
  const project = join(dir, 'project');
  // The dev ptau cache of this test: where the package must put it (not inside node_modules).
  const env = { ZKML_CACHE: join(dir, 'cache'), ZKML_STATE: join(dir, 'state'), ONNXRUNTIME_NODE_INSTALL: 'skip' };

  before(async () => {
    // dist/ is built by the test command's tsc; npm pack takes it as it is.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], packageRoot);
    assert.equal(pack.code, 0, pack.output);
    const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
    cpSync(join(packageRoot, 'examples', 'hardhat'), project, { recursive: true });
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    pkg.devDependencies.zkml = `file:${tarball}`;
    // For the TypeScript check of the Library example, and the Foundry example (which shares this install).
    pkg.devDependencies.typescript = '5.9';
    pkg.devDependencies['@types/node'] = '^20.19.43';
    pkg.devDependencies['@foundry-rs/forge'] = JSON.parse(readFileSync(join(packageRoot, 'examples', 'foundry', 'package.json'), 'utf8')).devDependencies['@foundry-rs/forge'];
    writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2));
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], project, env, 600_000);
    assert.equal(install.code, 0, install.output);
    for (const f of ['model.onnx', 'calibration.json']) copyFileSync(modelFile('iris_mlp', f), join(project, f));
    cpSync(join(packageRoot, 'examples', 'foundry'), join(project, 'foundry'), { recursive: true });
    symlinkSync(join(project, 'node_modules'), join(project, 'foundry', 'node_modules'));
  });

  it('installs without scripts or patches of ours, and web-worker stays as published', () => {
    const installed = JSON.parse(readFileSync(join(project, 'node_modules', 'zkml', 'package.json'), 'utf8'));
    assert.equal(installed.scripts?.postinstall, undefined);
    assert.equal(installed.devDependencies?.['patch-package'], undefined);
    assert.ok(existsSync(join(project, 'node_modules', 'zkml', 'dist', 'src', 'index.d.ts')), 'types ship with it');
    const webWorker = readFileSync(join(project, 'node_modules', 'web-worker', 'cjs', 'node.js'), 'utf8');
    assert.doesNotMatch(webWorker, /zkml patch/, 'the fix lives in zkml, not in a patched dependency');
  });

  it('the README Library example runs to completion as an ES module and exits by itself', async () => {
    writeFileSync(join(project, 'library.mjs'), readmeLibraryExample());
    const r = await run(process.execPath, ['library.mjs'], project, env, 180_000);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /valid: true/);
    assert.match(r.output, /onChain: true/);
    assert.ok(readdirSync(join(env.ZKML_CACHE, 'ptau')).some((f) => f.endsWith('.ptau')), 'the dev ptau is cached in ZKML_CACHE');
    assert.equal(existsSync(join(project, 'node_modules', 'zkml', 'artifacts', 'ptau')), false, 'nothing is written inside node_modules');
  });

  it('and as TypeScript, type-checked against the shipped declarations', async () => {
    writeFileSync(join(project, 'library.mts'), readmeLibraryExample());
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: ['node'] }, files: ['library.mts'] }),
    );
    const tsc = await run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project, env);
    assert.equal(tsc.code, 0, tsc.output);
    const r = await run(process.execPath, ['library.mjs'], project, env, 180_000);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /onChain: true/);
  });

  it('the Hardhat example passes: deploy, register, prove, submit, and a consumer contract reads and decodes the output', async () => {
    const r = await run(process.execPath, [join(project, 'node_modules', 'hardhat', 'internal', 'cli', 'bootstrap.js'), 'test'], project, env, 300_000);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /1 passing/);
  });

  it('the Foundry example passes: forge (from npm, offline, solcjs behind a shim) registers, submits and decodes the fixture proof', async () => {
    const foundry = join(project, 'foundry');
    const fixture = await run(process.execPath, ['script/fixture.mjs'], foundry, env, 180_000);
    assert.equal(fixture.code, 0, fixture.output);
    const r = await run(join(project, 'node_modules', '.bin', 'forge'), ['test'], foundry, env, 300_000);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\[PASS\] test_submit_then_read_and_decode/);
  });
});

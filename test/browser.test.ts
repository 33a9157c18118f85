/**
 * The browser prover in a real Chromium (Debian's, driven by playwright-core): `zkml web` serves
 * the page, the test draws a digit and types a form as a person would, proves, verifies, and
 * records the result on a `hardhat node`; then it checks, from Node, that the registry holds the
 * proved output, that Node's verifier accepts the browser's proof, and that no request the page
 * made (its worker's included) carried the input or its quantized form.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ethers } from 'ethers';
import { startHardhatNode, type LocalNode } from '../src/chain/local_node.js';
import { attachRegistry, readResult } from '../src/chain/registry.js';
import { rpcChain, type Chain } from '../src/chain/network.js';
import { compile } from '../src/compile/compile.js';
import { loadBuild } from '../src/compile/manifest.js';
import { fromField, toField } from '../src/prove/field.js';
import { quantizeInput } from '../src/quant/io.js';
import { setup } from '../src/setup/setup.js';
import { verify } from '../src/verify/verify.js';
import { startWebServer, type WebServer } from '../src/web/server.js';
import { packageRoot } from '../src/paths.js';
import { modelFile, scratchDir, task, withKeys } from './helpers/fixtures.js';
import type { ProofResult, Verification } from '../src/browser/index.js';

const CHROMIUM = process.env.ZKML_CHROMIUM ?? ['/usr/bin/chromium', '/usr/lib/chromium/chromium'].find(existsSync);
const ARTIFACTS = join(packageRoot, 'dist', 'test-artifacts');

interface PageState {
  input?: number[];
  result?: ProofResult;
  verification?: Verification;
  submission?: { inputKey: string; recipient: string; registry: string; modelId: string; gasUsed: string };
  recorded?: { exists: boolean; output: string[]; matchesProof: boolean };
  errors: string[];
}

/** Whether `payload` holds `vector` (4+ values) as consecutive decimal numbers, or as consecutive 32-byte ABI words. */
export function carries(payload: string, vector: readonly (number | bigint)[]): boolean {
  const want = vector.map((v) => String(v));
  const numbers = payload.match(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi)?.map((s) => String(Number(s))) ?? [];
  const asNumbers = vector.map((v) => String(Number(v)));
  const words = [...payload.matchAll(/0x([0-9a-f]+)/gi)].flatMap((m) => {
    const hex = m[1].length % 64 === 8 ? m[1].slice(8) : m[1];
    return hex.length % 64 === 0 ? (hex.match(/.{64}/g) ?? []).map((w) => String(BigInt(`0x${w}`))) : [];
  });
  const asField = vector.every((v) => Number.isInteger(Number(v))) ? vector.map((v) => String(toField(BigInt(v)))) : [];
  const has = (seq: string[], sub: string[]) => sub.length >= 4 && seq.some((_, i) => sub.every((s, j) => seq[i + j] === s));
  return has(numbers, asNumbers) || has(numbers, want) || has(words, asField);
}

describe('browser prover (Chromium)', { skip: CHROMIUM ? false : 'no Chromium: apt-get install chromium (.ci/run does), or set ZKML_CHROMIUM' }, () => {
  let node: LocalNode;
  let web: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let chain: Chain;
  let digits: string;
  let iris: string;
  const requests: { url: string; method: string; body: string }[] = [];
  const consoleErrors: string[] = [];

  before(async () => {
    // Private input on the circom backend (witness WASM in the page), hashed input on the r1cs
    // backend (the witness computed by the op definitions in the worker, Poseidon included).
    digits = (await withKeys('digits_mlp', { input: 'private', output: 'public', weights: 'fixed' })).dir;
    iris = join(scratchDir('browser'), 'iris_hashed');
    await compile(modelFile('iris_mlp', 'model.onnx'), { calibration: modelFile('iris_mlp', 'calibration.json'), test: modelFile('iris_mlp', 'test.json'), out: iris, task: task('iris_mlp'), visibility: { input: 'hashed', output: 'public', weights: 'fixed' }, backend: 'r1cs' });
    await setup(iris);
    process.env.ZKML_STATE = scratchDir('browser-state');
    node = await startHardhatNode();
    web = await startWebServer({ builds: [digits, iris], rpc: node.url });
    chain = await rpcChain(node.url);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
    // Every request of the page and of its workers, with its body.
    context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), body: r.postDataBuffer()?.toString('utf8') ?? '' }));
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && consoleErrors.push(`worker: ${m.text()}`)));
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    await chain?.close();
    await node?.stop();
  });

  /** Runs a step; on failure the page's console errors and the page's own error box come with the assertion. */
  async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const shown = await page.locator('#error').textContent().catch(() => '');
      const state = await page.evaluate(() => (globalThis as unknown as { zkml: PageState }).zkml.errors).catch(() => []);
      throw new Error(`${what}: ${(err as Error).message}\npage error box: ${shown}\npage errors: ${JSON.stringify(state)}\nconsole errors:\n${consoleErrors.join('\n') || '(none)'}`);
    }
  }

  /** Waits for the chosen model to load, failing at once if the page reports an error. */
  async function ready(): Promise<void> {
    await page.waitForFunction(() => document.getElementById('stage')!.textContent === 'ready' || !document.getElementById('error')!.hidden, undefined, { timeout: 60_000 });
    assert.ok(await page.locator('#error').isHidden(), 'the model loads without an error');
  }

  const state = () => page.evaluate(() => (globalThis as unknown as { zkml: PageState }).zkml);

  async function proveVerifySubmit(build: string, shot: string): Promise<PageState> {
    await step('prove', async () => {
      await page.getByTestId('prove').click();
      await page.waitForFunction(() => /proved in/.test(document.getElementById('stage')!.textContent ?? '') || !document.getElementById('error')!.hidden, undefined, { timeout: 120_000 });
      assert.ok(await page.locator('#error').isHidden(), 'no error after proving');
    });
    await step('verify', async () => {
      await page.getByTestId('verify').click();
      await page.waitForFunction(() => (document.getElementById('verified')!.textContent ?? '') !== '', undefined, { timeout: 60_000 });
      assert.match((await page.getByTestId('verified').textContent()) ?? '', /^valid/);
    });
    await step('submit', async () => {
      assert.equal(await page.getByTestId('rpc').inputValue(), node.url, 'the page offers the --rpc node');
      await page.getByTestId('submit').click();
      await page.waitForFunction(() => document.getElementById('receipt')!.dataset.recorded !== undefined || !document.getElementById('error')!.hidden, undefined, { timeout: 60_000 });
      assert.equal(await page.getByTestId('receipt').getAttribute('data-recorded'), 'true');
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `web-${shot}.png`);
    await page.screenshot({ path: file, fullPage: true });
    const s = await state();
    // Node's verifier accepts the browser's proof from its shared part alone.
    const v = await verify(build, { proof: s.result!.proof, publicSignals: s.result!.publicSignals }, { insecureDevKeys: true });
    assert.equal(v.valid, true, v.reason);
    // The registry, read from Node, records the proved output under the proof's input key.
    const registry = attachRegistry(chain, s.submission!.registry);
    const recorded = await readResult(registry, BigInt(s.submission!.modelId), { inputKey: s.submission!.inputKey, recipient: s.submission!.recipient });
    assert.equal(recorded.exists, true);
    assert.deepEqual(recorded.output.map((x) => String(fromField(x))), s.result!.outputRaw, 'the recorded output is the proved output');
    assert.deepEqual(v.output, s.result!.output);
    return s;
  }

  function assertNothingCarries(input: number[], build: string, label: string): void {
    const q = quantizeInput(loadBuild(build).program, input);
    assert.ok(input.filter((x) => x !== 0).length >= 4, `${label}: the input has enough non-zero values to be recognised`);
    for (const r of requests) {
      const payload = `${decodeURIComponent(r.url)} ${r.body}`;
      assert.equal(carries(payload, input), false, `${label}: ${r.method} ${r.url} carries the raw input`);
      assert.equal(carries(payload, q), false, `${label}: ${r.method} ${r.url} carries the quantized input`);
    }
  }

  test('the leak detector finds an input in JSON, in decimal and in ABI words', () => {
    const x = [0.5, 1.25, 0, 3, 7.5];
    const q = [8n, 20n, 0n, 48n, -3n];
    assert.equal(carries(JSON.stringify({ input: x }), x), true);
    assert.equal(carries(JSON.stringify({ signals: q.map(String) }), q), true);
    const calldata = new ethers.Interface(['function f(uint256[])']).encodeFunctionData('f', [q.map(toField)]);
    assert.equal(carries(JSON.stringify({ method: 'eth_sendTransaction', params: [{ data: calldata }] }), q), true);
    assert.equal(carries(JSON.stringify({ input: [0.5, 1.25, 0, 3.5, 7.5] }), x), false);
  });

  test('a drawn digit, private input: proved, verified and recorded; no request carries the input', async () => {
    await step('open the page', async () => {
      await page.goto(web.url);
      assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'COOP/COEP make the page cross-origin isolated');
      await page.getByTestId('model').selectOption({ index: 0 });
      await ready();
    });
    // A "7": a bar across the top and a stroke down to the bottom left.
    const box = (await page.getByTestId('pad').boundingBox())!;
    const at = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
    await page.mouse.move(...at(0.2, 0.2));
    await page.mouse.down();
    for (const [x, y] of [[0.5, 0.2], [0.8, 0.2], [0.65, 0.5], [0.5, 0.8], [0.45, 0.9]] as const) await page.mouse.move(...at(x, y), { steps: 8 });
    await page.mouse.up();
    const s = await proveVerifySubmit(digits, 'digits-private');
    assert.equal(s.input!.length, 64);
    assert.equal(s.result!.floatOutput.length, 10, 'the float model ran in the page (onnxruntime-web)');
    assertNothingCarries(s.input!, digits, 'private input');
    assert.ok(requests.some((r) => r.method === 'POST' && r.body.includes('eth_sendTransaction')), 'the proof was sent to the node');
  });

  test('a typed form, hashed input on the r1cs backend: proved in under 1 s, verified and recorded; no request carries the input', async () => {
    requests.length = 0;
    await step('pick iris', async () => {
      await page.getByTestId('model').selectOption({ index: 1 });
      await ready();
    });
    const x = [6.1, 2.8, 4.7, 1.2];
    for (const [i, v] of x.entries()) await page.getByTestId(`x${i}`).fill(String(v));
    const s = await proveVerifySubmit(iris, 'iris-hashed');
    assert.deepEqual(s.input, x);
    assert.ok(s.result!.timings.proveMs < 1000, `iris proves in ${s.result!.timings.proveMs.toFixed(0)} ms in Chromium`);
    assertNothingCarries(x, iris, 'hashed input');
    // A second submission of the same proof is refused by the registry, and the page says why.
    await page.getByTestId('submit').click();
    await page.waitForFunction(() => !document.getElementById('error')!.hidden, undefined, { timeout: 30_000 });
    assert.match((await page.getByTestId('error').textContent()) ?? '', /ResultExists/);
  });

  test('bad input is reported on the page, and nothing is proved', async () => {
    await page.getByTestId('x0').fill('1e9');
    await page.getByTestId('prove').click();
    await page.waitForFunction(() => !document.getElementById('error')!.hidden && /range|bound|outside/i.test(document.getElementById('error')!.textContent ?? ''), undefined, { timeout: 30_000 });
    await page.getByTestId('x0').fill('');
    await page.getByTestId('prove').click();
    await page.waitForFunction(() => /x\[0\] is not a number/.test(document.getElementById('error')!.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.deepEqual(consoleErrors, [], 'no console errors on the way');
  });
});

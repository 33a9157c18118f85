/**
 * The browser prover in a real Chromium (Debian's, driven by playwright-core): `zkml web` serves
 * the page, the test draws a digit and types a form as a person would, proves, verifies, and
 * records the result on a `hardhat node`; then it checks, from Node, that the registry holds the
 * proved output, that Node's verifier accepts the browser's proof, and that no request the page
 * made (its worker's included) carried the input or its quantized form.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ethers } from 'ethers';
import { startHardhatNode, type LocalNode } from '../src/chain/local_node.js';
import { attachRegistry, readResult } from '../src/chain/registry.js';
import { solidityArgs } from '../src/chain/solidity_args.js';
import { projectContract } from '../src/chain/solidity.js';
import { rpcChain, type Chain } from '../src/chain/network.js';
import { compile } from '../src/compile/compile.js';
import { loadBuild } from '../src/compile/manifest.js';
import { fromField, toField } from '../src/prove/field.js';
import { quantizeInput } from '../src/quant/io.js';
import { setup } from '../src/setup/setup.js';
import { verify } from '../src/verify/verify.js';
import { findChromium, chromiumLaunchArgs } from '../src/web/chromium.js';
import { startWebServer, type WebConfig, type WebServer } from '../src/web/server.js';
import { request } from 'node:http';
import { packageRoot } from '../src/paths.js';
import { modelFile, scratchDir, task, withKeys } from './helpers/fixtures.js';
import type { ProofResult, Verification } from '../src/browser/index.js';

const CHROMIUM = findChromium();
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
    browser = await chromium.launch({ executablePath: CHROMIUM, ...chromiumLaunchArgs });
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

  async function proveVerifySubmit(build: string, shot: string, beforeSubmit: () => Promise<void> = async () => {}): Promise<PageState> {
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
      await beforeSubmit();
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

  /**
   * What left the page: every request (the page's and its workers') goes to the page's own server
   * (GET, no query, no body) or to the JSON-RPC node, whose calls only send the registry's
   * submit(proof, public signals) or read it; no request carries the input, its quantized form or a
   * salt, in any of the encodings `carries` reads.
   */
  function assertOnlyTheProofLeft(s: PageState, build: string, label: string): void {
    const input = s.input!;
    const q = quantizeInput(loadBuild(build).program, input);
    assert.ok(input.filter((x) => x !== 0).length >= 4, `${label}: the input has enough non-zero values to be recognised`);
    const salts = [s.result!.salt, s.result!.salts?.input, s.result!.salts?.output].filter((v): v is string => v !== undefined);
    assert.ok(salts.length > 0, `${label}: the proof has salts`);
    const site = new URL(web.url).origin;
    const rpc = new URL(node.url).origin;
    const iface = new ethers.Interface(projectContract('InferenceRegistry').abi as ethers.InterfaceAbi);
    const submitData = iface.encodeFunctionData('submit', [s.submission!.modelId, ...solidityArgs(s.result!.proof, s.result!.publicSignals)]);
    for (const r of requests) {
      const u = new URL(r.url);
      const where = `${label}: ${r.method} ${r.url}`;
      if (u.protocol === 'blob:') continue; // ffjavascript's thread scripts, made by the page itself
      if (u.origin === site) {
        assert.equal(r.method, 'GET', where);
        assert.equal(u.search, '', `${where} has a query`);
        assert.equal(r.body, '', `${where} has a body`);
      } else {
        assert.equal(u.origin, rpc, `${where}: a request to neither the page's server nor the node`);
        const calls = [JSON.parse(r.body)].flat() as { method: string; params?: unknown[] }[];
        for (const c of calls) {
          assert.match(c.method, /^(eth|net|web3)_[A-Za-z]+$/, where);
          for (const p of c.params ?? []) {
            const data = (p as { data?: string; input?: string } | null)?.data ?? (p as { input?: string } | null)?.input;
            if (typeof data !== 'string') continue;
            const fn = iface.parseTransaction({ data })?.name;
            assert.ok(fn === 'submit' || fn === 'resultOf' || fn === 'resultOfCommitted', `${where}: calls ${fn}`);
            if (fn === 'submit') assert.equal(data, submitData, `${where}: submit sends exactly the proof and its public signals`);
          }
        }
      }
      const payload = `${decodeURIComponent(r.url)} ${r.body}`;
      assert.equal(carries(payload, input), false, `${where} carries the raw input`);
      assert.equal(carries(payload, q), false, `${where} carries the quantized input`);
      for (const salt of salts) {
        assert.ok(!payload.includes(salt) && !payload.toLowerCase().includes(BigInt(salt).toString(16).padStart(64, '0')), `${where} carries a salt`);
      }
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
    assert.match((await page.getByTestId('shared-note').textContent()) ?? '', /never leave this tab/);
    assert.equal(s.result!.floatOutput.length, 10, 'the float model ran in the page (onnxruntime-web)');
    assertOnlyTheProofLeft(s, digits, 'private input');
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
    assertOnlyTheProofLeft(s, iris, 'hashed input');
    // A second submission of the same proof is refused by the registry, and the page says why.
    await page.getByTestId('submit').click();
    await page.waitForFunction(() => !document.getElementById('error')!.hidden, undefined, { timeout: 30_000 });
    assert.match((await page.getByTestId('error').textContent()) ?? '', /ResultExists/);
  });

  test('an injected EIP-1193 wallet submits the proof', async () => {
    // A minimal window.ethereum, as a wallet extension injects it, forwarding to the node (whose accounts are unlocked).
    const walletPage = await context.newPage();
    walletPage.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    await walletPage.addInitScript((rpc) => {
      let id = 0;
      (globalThis as unknown as { ethereum: unknown }).ethereum = {
        async request({ method, params }: { method: string; params?: unknown[] }) {
          const m = method === 'eth_requestAccounts' ? 'eth_accounts' : method;
          const res = await fetch(rpc, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: m, params: params ?? [] }) });
          const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
          if (body.error) throw Object.assign(new Error(body.error.message), body.error);
          return body.result;
        },
      };
    }, node.url);
    const main = page;
    page = walletPage;
    try {
      await page.goto(web.url);
      await page.getByTestId('model').selectOption({ index: 1 });
      await ready();
      await page.getByTestId('x0').fill('5.4');
      requests.length = 0;
      const s = await proveVerifySubmit(iris, 'iris-wallet', () => page.locator('#via-wallet').check());
      assert.equal(s.input![0], 5.4);
      assertOnlyTheProofLeft(s, iris, 'injected wallet');
    } finally {
      page = main;
      await walletPage.close();
    }
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

describe('zkml web: the server', () => {
  let web: WebServer;
  let iris: string;
  let port: number;

  /** A raw GET (node:http, so that the Host header can be set). */
  function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  before(async () => {
    iris = (await withKeys('iris_mlp')).dir;
    web = await startWebServer({ builds: [iris, iris] });
    port = Number(new URL(web.url).port);
  });

  after(async () => {
    await web?.close();
  });

  test('serves the page cross-origin isolated, and per build only what proving reads', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(page.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.deepEqual(web.config.models.map((m) => m.id), ['iris_mlp', 'iris_mlp-2'], 'one folder served twice gets two ids');
    for (const f of ['manifest.json', 'program.json', 'verification_key.json', 'model.zkey', 'model.onnx', 'model_js/model.wasm']) assert.equal((await get(`/builds/iris_mlp/${f}`)).status, 200, f);
    for (const f of ['setup.json', 'deployments.json', 'proofs/proof.json', 'model.r1cs', 'constructor', 'toString', '__proto__', '../manifest.json', '%2e%2e/%2e%2e/package.json'])
      assert.equal((await get(`/builds/iris_mlp/${f}`)).status, 404, f);
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/builds/nope/manifest.json']) assert.equal((await get(p)).status, 404, p);
    assert.equal((await get('/%E0%A4%A')).status, 400, 'a malformed escape is a 400, not a crash');
    assert.equal((await get('/', {}, 'POST')).status, 405);
    assert.equal((await get('/', { host: `evil.example:${port}` })).status, 421, 'another Host (DNS rebinding) is refused');
    assert.equal((await get('/', { host: `localhost:${port}` })).status, 200);
    const config = JSON.parse((await get('/api/config')).body) as WebConfig;
    assert.equal(config.models[0].inputSize, 4);
    assert.ok(!JSON.stringify(config).includes('"rpc"'), 'no RPC URL (they may hold API keys) unless --rpc');
  });

  test('refuses batched builds, hidden-weights builds (unless told) and builds without keys, naming the problem', async () => {
    const dir = scratchDir('web');
    const src = (f: string) => modelFile('iris_mlp', f);
    const batched = join(dir, 'batched');
    await compile(src('model.onnx'), { calibration: src('calibration.json'), out: batched, visibility: { input: 'hashed', output: 'hashed' }, batchSize: 2 });
    await assert.rejects(startWebServer({ builds: [batched] }), /batched build .*without --batch-size/);
    const hidden = join(dir, 'hidden');
    await compile(src('model.onnx'), { calibration: src('calibration.json'), out: hidden, visibility: { weights: 'hashed' } });
    await assert.rejects(startWebServer({ builds: [hidden] }), /weights private .*--expose-hidden-weights/);
    await assert.rejects(startWebServer({ builds: [hidden], exposeHiddenWeights: true }), /no proving key; run `zkml setup/);
    await assert.rejects(startWebServer({ builds: [join(dir, 'nothing')] }), /not a compiled build folder/);
    await assert.rejects(startWebServer({ builds: [] }), /at least one build/);
  });
});

/**
 * The page `zkml web` serves: pick a model, draw or type an input, prove it in a Web Worker
 * (zkml/browser), see the float and proved outputs side by side, verify, and record the result
 * in the inference registry through a JSON-RPC URL or an injected wallet. Only the proof and its
 * public signals are ever sent anywhere; `window.zkml` exposes the page's state to tests.
 */
import { BrowserProvider, Contract, Interface, JsonRpcProvider, type Eip1193Provider, type Signer } from 'ethers';
import { solidityArgs } from '../../chain/solidity_args.js';
import { fromField } from '../../prove/field.js';
import { loadModel, sharedPart, type BrowserModel, type ProofResult, type Progress, type Verification } from '../../browser/index.js';
import type { ServedModel, WebConfig } from '../server.js';

interface PageState {
  model?: ServedModel;
  input?: number[];
  result?: ProofResult;
  verification?: Verification;
  submission?: { txHash: string; gasUsed: string; inputKey: string; recipient: string; chainId: string; registry: string; modelId: string };
  recorded?: { exists: boolean; output: string[]; matchesProof: boolean };
  errors: string[];
}

const state: PageState = { errors: [] };
(globalThis as unknown as { zkml: PageState }).zkml = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = (tag: string, text?: string, cls?: string) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};
const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(1) : v.toFixed(4));
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

let config: WebConfig;
let model: BrowserModel | undefined;
let loading = 0;
let loadAbort: AbortController | undefined;

function showError(err: unknown): void {
  const message = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  state.errors.push(message);
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
}

function clearError(): void {
  $('error').hidden = true;
}

const STAGES = ['fetch', 'parse', 'quantize', 'float', 'witness', 'prove', 'check'];
const STAGE_TEXT: Record<string, string> = {
  fetch: 'downloading the build',
  parse: 'reading the proving key',
  quantize: 'quantizing the input',
  float: 'running the float model',
  witness: 'computing the witness',
  prove: 'proving (Groth16)',
  check: 'checking the public signals',
};

function onProgress(p: Progress): void {
  const bar = $<HTMLProgressElement>('progress');
  bar.max = STAGES.length;
  bar.value = STAGES.indexOf(p.stage) + 1;
  const bytes = p.stage === 'fetch' && p.loaded !== undefined ? ` ${p.file}: ${mb(p.loaded)}${p.total && p.total >= p.loaded ? ` of ${mb(p.total)}` : ''}` : '';
  $('stage').textContent = `${STAGE_TEXT[p.stage] ?? p.stage}${bytes}`;
}

// ---------- input ----------

let grid = 8;
const isImage = (m: ServedModel) => m.inputSize === 64;

function setupInput(m: ServedModel): void {
  const image = isImage(m);
  $('canvas-input').hidden = !image;
  const form = $<HTMLFormElement>('form-input');
  form.hidden = image;
  form.replaceChildren();
  if (image) {
    grid = Math.round(Math.sqrt(m.inputSize));
    $('grid-size').textContent = `${grid}x${grid}`;
    clearPad();
    return;
  }
  const initial = m.sample ?? Array.from({ length: m.inputSize }, (_, i) => (m.featureMin && m.featureMax ? (m.featureMin[i] + m.featureMax[i]) / 2 : 0));
  initial.forEach((v, i) => {
    const label = el('label', `x[${i}]`) as HTMLLabelElement;
    label.htmlFor = `x${i}`;
    const field = document.createElement('input');
    field.type = 'number';
    field.step = 'any';
    field.id = `x${i}`;
    field.value = String(Number(v.toFixed(4)));
    field.dataset.testid = `x${i}`;
    form.append(label, field);
  });
}

const pad = () => $<HTMLCanvasElement>('pad');

function clearPad(): void {
  const ctx = pad().getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad().width, pad().height);
  drawPreview();
}

/** The drawing averaged over a grid x grid raster: ink in [0, 1] per cell (the digits models' 8x8 inputs scaled by 1/16). */
function padInput(): number[] {
  const c = pad();
  const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
  const cell = c.width / grid;
  const out: number[] = [];
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      let sum = 0;
      let n = 0;
      for (let y = Math.floor(gy * cell); y < Math.floor((gy + 1) * cell); y++) {
        for (let x = Math.floor(gx * cell); x < Math.floor((gx + 1) * cell); x++) {
          sum += data[(y * c.width + x) * 4];
          n++;
        }
      }
      out.push(Math.round((sum / n / 255) * 16) / 16);
    }
  }
  return out;
}

function drawPreview(): void {
  const values = padInput();
  const p = $<HTMLCanvasElement>('preview');
  p.width = grid;
  p.height = grid;
  const ctx = p.getContext('2d')!;
  const img = ctx.createImageData(grid, grid);
  values.forEach((v, i) => {
    img.data.set([v * 255, v * 255, v * 255, 255], i * 4);
  });
  ctx.putImageData(img, 0, 0);
}

function setupPad(): void {
  const c = pad();
  const ctx = c.getContext('2d')!;
  let last: [number, number] | undefined;
  const at = (e: PointerEvent): [number, number] => {
    const r = c.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * c.width, ((e.clientY - r.top) / r.height) * c.height];
  };
  c.addEventListener('pointerdown', (e) => {
    c.setPointerCapture(e.pointerId);
    last = at(e);
  });
  c.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = c.width / 9;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
    drawPreview();
  });
  const end = () => {
    last = undefined;
  };
  c.addEventListener('pointerup', end);
  c.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', clearPad);
}

let fileInput: number[] | undefined;

function currentInput(): number[] {
  if (fileInput) return fileInput;
  const m = state.model!;
  if (isImage(m)) return padInput();
  return Array.from({ length: m.inputSize }, (_, i) => {
    const text = $<HTMLInputElement>(`x${i}`).value.trim();
    const v = Number(text);
    if (text === '' || !Number.isFinite(v)) throw new Error(`x[${i}] is not a number: "${text}"`);
    return v;
  });
}

async function readFileInput(file: File): Promise<void> {
  fileInput = undefined;
  const doc = JSON.parse(await file.text()) as unknown;
  const raw = Array.isArray(doc) ? doc : (doc as { input?: unknown })?.input;
  const flat = Array.isArray(raw) ? raw.flat(Infinity) : undefined;
  if (!flat || !flat.every((v) => typeof v === 'number')) throw new Error(`${file.name}: expected a JSON array of numbers, or {"input": [...]}`);
  if (flat.length !== state.model!.inputSize) throw new Error(`${file.name} has ${flat.length} values; ${state.model!.name} takes ${state.model!.inputSize}`);
  fileInput = flat as number[];
  $('stage').textContent = `input from ${file.name} (${flat.length} values)`;
}

// ---------- model ----------

async function selectModel(id: string): Promise<void> {
  const ticket = ++loading;
  loadAbort?.abort();
  loadAbort = new AbortController();
  model?.close();
  model = undefined;
  fileInput = undefined;
  $<HTMLInputElement>('file').value = '';
  Object.assign(state, { model: config.models.find((m) => m.id === id), input: undefined, result: undefined, verification: undefined, submission: undefined, recorded: undefined });
  const m = state.model!;
  for (const s of ['output-section', 'shared-section', 'chain-section']) $(s).hidden = true;
  $<HTMLButtonElement>('prove').disabled = true;
  $('timings').hidden = true;
  clearError();
  const info = $('model-info');
  info.replaceChildren();
  const facts: [string, string][] = [
    ['input', `${m.visibility.input} (${m.inputSize} values)`],
    ['output', `${m.visibility.output} (${m.outputSize} values)`],
    ['weights', m.visibility.weights],
    ['constraints', m.constraints.toLocaleString('en-US')],
    ['proving key', mb(m.zkeyBytes)],
  ];
  for (const [k, v] of facts) info.append(el('dt', k), el('dd', v));
  const publicInput = m.visibility.input === 'public';
  $('input-note').textContent = publicInput ? 'public in this build: the proof reveals it' : 'stays on this device';
  $('input-note').className = publicInput ? 'bad' : '';
  $('shared-note').textContent = publicInput
    ? 'The proof and its public signals, which in this build include the input: submitting it puts the input on-chain. The salt never leaves this tab.'
    : `Only the proof and its public signals. The input, its quantized form and the salt never leave this tab (the signals hold ${m.visibility.input === 'hashed' ? 'a salted commitment to the input' : 'a nullifier'} in its place).`;
  const keys = $('keys');
  keys.hidden = m.keys.secure;
  keys.textContent = m.keys.secure ? '' : `These keys are not for production: ${m.keys.summary}`;
  setupInput(m);
  try {
    // Progress of a superseded load is not shown.
    const loaded = await loadModel(new URL(m.url, location.href), { onProgress: (p) => ticket === loading && onProgress(p), ortWasmUrl: new URL('ort-wasm-simd-threaded.wasm', location.href), signal: loadAbort.signal });
    if (ticket !== loading) return loaded.close();
    model = loaded;
    const s = loaded.summary;
    info.append(el('dt', 'proves with'), el('dd', `${s.threads ? `${s.concurrency} threads` : '1 thread'}; loaded in ${Math.round(s.loadMs)} ms`));
    if (!s.float.loaded) info.append(el('dt', 'float model'), el('dd', `not loaded: ${s.float.reason}`));
    $('stage').textContent = 'ready';
    $<HTMLProgressElement>('progress').value = 0;
    $<HTMLButtonElement>('prove').disabled = false;
  } catch (err) {
    if (ticket === loading) showError(err);
  }
}

// ---------- prove, show, verify ----------

function renderResult(r: ProofResult): void {
  const rows = $('outputs').querySelector('tbody')!;
  rows.replaceChildren();
  const top = r.output.length > 1 ? r.output.indexOf(Math.max(...r.output)) : -1;
  r.output.forEach((v, i) => {
    const tr = el('tr', undefined, i === top ? 'top' : undefined);
    tr.append(el('td', r.output.length > 1 ? `class ${i}` : 'value'), el('td', r.floatOutput.length ? fmt(r.floatOutput[i]) : 'n/a'), el('td', fmt(v)));
    rows.append(tr);
  });
  const times = $('timings');
  times.hidden = false;
  const body = times.querySelector('tbody')!;
  body.replaceChildren();
  const t = r.timings;
  for (const [k, v] of [['quantize', t.quantizeMs], ['float model', t.floatMs], ['witness', t.witnessMs], ['prove', t.proveMs], ['total', t.totalMs]] as const) {
    const tr = el('tr');
    tr.append(el('td', k), el('td', `${v.toFixed(1)} ms`));
    body.append(tr);
  }
  const signals = $('signals').querySelector('tbody')!;
  signals.replaceChildren();
  const layout = state.model && model ? model.manifest.circuit.publicLayout : [];
  const means: Record<string, string> = {
    inputNullifier: 'a hash of your salt: it makes this input\'s result unique, and reveals nothing of the input',
    inputCommitment: 'a salted hash of your input: it hides the input, and opens only with the salt',
    outputCommitment: 'a salted hash of the output',
    weightsCommitment: 'a hash of the model\'s weights',
    recipient: 'the address the result is credited to (0: none)',
  };
  r.publicSignals.forEach((s, i) => {
    const e = layout.find((g) => i >= g.offset && i < g.offset + g.size);
    const name = e ? (e.size > 1 ? `${e.group}[${i - e.offset}]` : e.group) : '?';
    const meaning = e?.group === 'output' ? `${fmt(r.output[i - e.offset])} (the proved output)` : e?.group === 'input' ? 'your input: this build makes it public' : (means[e?.group ?? ''] ?? '');
    const tr = el('tr');
    tr.append(el('td', String(i)), el('td', name), el('td', s), el('td', meaning));
    signals.append(tr);
  });
  $('proof').textContent = JSON.stringify(r.proof, null, 1);
  $('verified').textContent = '';
  $('receipt').replaceChildren();
  delete $('receipt').dataset.recorded;
  for (const s of ['output-section', 'shared-section', 'chain-section']) $(s).hidden = false;
}

async function prove(): Promise<void> {
  if (!model) return;
  clearError();
  const buttons = ['prove', 'verify', 'submit'].map((id) => $<HTMLButtonElement>(id));
  for (const b of buttons) b.disabled = true;
  const proving = model;
  try {
    const input = currentInput();
    state.input = input;
    const result = await proving.prove(input, { onProgress });
    if (proving !== model) return; // the model changed meanwhile
    state.result = result;
    state.verification = undefined;
    state.submission = undefined;
    state.recorded = undefined;
    renderResult(state.result);
    $('stage').textContent = `proved in ${state.result.timings.proveMs.toFixed(0)} ms (total ${state.result.timings.totalMs.toFixed(0)} ms)`;
  } catch (err) {
    showError(err);
    $('stage').textContent = 'failed';
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

async function verify(): Promise<void> {
  if (!model || !state.result) return;
  clearError();
  try {
    // Only what was shared: a third party holds the proof and the public signals, nothing else.
    const r = state.result;
    const v = await model.verify(sharedPart(r));
    if (state.result !== r) return; // a newer proof replaced it meanwhile
    state.verification = v;
    const out = $('verified');
    out.className = v.valid ? 'ok' : 'bad';
    out.textContent = v.valid ? 'valid: the proof checks against the build\'s verification key' : `invalid: ${v.reason}`;
  } catch (err) {
    showError(err);
  }
}

// ---------- registry ----------

async function connect(): Promise<{ provider: BrowserProvider | JsonRpcProvider; signer: Signer }> {
  const via = (document.querySelector('input[name="via"]:checked') as HTMLInputElement).value;
  if (via === 'wallet') {
    const eth = (globalThis as { ethereum?: Eip1193Provider }).ethereum;
    if (!eth) throw new Error('no injected wallet (window.ethereum) in this browser: use a JSON-RPC URL');
    const provider = new BrowserProvider(eth);
    await provider.send('eth_requestAccounts', []);
    return { provider, signer: await provider.getSigner() };
  }
  const url = $<HTMLInputElement>('rpc').value.trim();
  if (!url) throw new Error('enter a JSON-RPC URL (e.g. of `zkml node`), or pick the injected wallet');
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1 });
  const accounts = (await provider.send('eth_accounts', [])) as string[];
  if (!accounts.length) throw new Error(`${url} has no unlocked accounts to sign with: use an injected wallet`);
  return { provider, signer: await provider.getSigner(accounts[0]) };
}

interface RevertLike {
  revert?: { name: string; args: unknown[] } | null;
  data?: unknown;
  info?: { error?: { data?: unknown } };
  shortMessage?: string;
  message: string;
}

/** The registry's custom error in a failed call, by name, where the node returned its data. */
function revertReason(e: RevertLike): string | undefined {
  if (e.revert) return `${e.revert.name}(${e.revert.args.join(', ')})`;
  const data = [e.data, e.info?.error?.data].find((d): d is string => typeof d === 'string' && /^0x[0-9a-f]{8}/i.test(d));
  if (!data) return undefined;
  try {
    const parsed = new Interface(config.registryAbi as never).parseError(data);
    return parsed ? `${parsed.name}(${[...parsed.args].join(', ')})` : undefined;
  } catch {
    return undefined;
  }
}

async function submit(): Promise<void> {
  const m = state.model;
  const r = state.result;
  if (!m || !r) return;
  clearError();
  const receipt = $('receipt');
  delete receipt.dataset.recorded;
  receipt.replaceChildren(el('dt', 'status'), el('dd', 'connecting...'));
  const status = receipt.querySelector('dd')!;
  let provider: BrowserProvider | JsonRpcProvider | undefined;
  try {
    const c = await connect();
    provider = c.provider;
    const chainId = String((await provider.getNetwork()).chainId);
    const genesis = (await provider.getBlock(0))?.hash;
    const d = m.deployments.find((x) => x.chainId === chainId && x.genesis === genesis);
    if (!d?.registry || !d.modelId) throw new Error(`${m.name} is not registered on this chain (id ${chainId}): run \`zkml register <build> --rpc <url>\`, or start \`zkml web\` with --rpc`);
    const registry = new Contract(d.registry, config.registryAbi as never, c.signer);
    status.textContent = 'sending the proof...';
    const [a, b, cc, signals] = solidityArgs(sharedPart(r).proof, r.publicSignals);
    const tx = await registry.submit(d.modelId, a, b, cc, signals);
    const mined = await tx.wait();
    const event = mined.logs.map((l: { topics: string[]; data: string }) => registry.interface.parseLog(l)).find((e: { name: string } | null) => e?.name === 'InferenceVerified');
    const inputKey = event.args.inputKey as string;
    const recipient = event.args.recipient as string;
    const outputCommitment = event.args.outputCommitment as bigint;
    if (state.result !== r) return; // a newer proof replaced it meanwhile: its receipt is not this one's
    state.submission = { txHash: tx.hash, gasUsed: String(mined.gasUsed), inputKey, recipient, chainId, registry: d.registry, modelId: d.modelId };
    status.textContent = 'recorded; reading it back...';
    let recorded: PageState['recorded'];
    if (m.visibility.output === 'hashed') {
      const [exists] = await registry.resultOfCommitted(d.modelId, inputKey, recipient, outputCommitment);
      recorded = { exists, output: [String(outputCommitment)], matchesProof: exists && String(outputCommitment) === r.publicSignals[0] };
    } else {
      const res = await registry.resultOf(d.modelId, inputKey, recipient);
      const output = [...(res[4] as bigint[])].map((v) => String(fromField(v)));
      recorded = { exists: res[0] as boolean, output, matchesProof: res[0] && output.join() === r.outputRaw.join() };
    }
    if (state.result !== r) return;
    state.recorded = recorded;
    const rows: [string, string, string?][] = [
      ['status', recorded.exists ? 'recorded in the registry' : 'not found after submission', recorded.exists ? 'ok' : 'bad'],
      ['transaction', tx.hash],
      ['gas', Number(mined.gasUsed).toLocaleString('en-US')],
      ['registry', `${d.registry} (model ${d.modelId}, chain ${chainId})`],
      ['input key', inputKey],
      [m.visibility.output === 'hashed' ? 'recorded output commitment' : 'recorded output (integers)', recorded.output.join(', ')],
      ['matches the proof', recorded.matchesProof ? 'yes' : 'no', recorded.matchesProof ? 'ok' : 'bad'],
    ];
    receipt.replaceChildren(...rows.flatMap(([k, v, cls]) => [el('dt', k), el('dd', v, cls)]));
    receipt.dataset.recorded = String(recorded.exists && recorded.matchesProof);
  } catch (err) {
    if (state.result !== r) return;
    const e = err as RevertLike;
    status.textContent = 'failed';
    const reason = revertReason(e);
    showError(new Error(reason ? `the registry reverted: ${reason}` : (e.shortMessage ?? e.message)));
  } finally {
    provider?.destroy();
  }
}

// ---------- start ----------

async function main(): Promise<void> {
  const isolated = globalThis.crossOriginIsolated === true;
  $('env').textContent = `${isolated ? 'cross-origin isolated: proofs use every core' : 'not cross-origin isolated: proofs run on one thread'} (${navigator.hardwareConcurrency} cores)`;
  config = (await (await fetch('api/config')).json()) as WebConfig;
  if (config.rpc) $<HTMLInputElement>('rpc').value = config.rpc;
  $<HTMLInputElement>('via-wallet').disabled = !(globalThis as { ethereum?: unknown }).ethereum;
  const select = $<HTMLSelectElement>('model');
  for (const m of config.models) {
    const o = el('option', `${m.name} (input ${m.visibility.input}, output ${m.visibility.output})`) as HTMLOptionElement;
    o.value = m.id;
    select.append(o);
  }
  select.addEventListener('change', () => void selectModel(select.value));
  setupPad();
  $('file').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) readFileInput(f).catch(showError);
  });
  $('form-input').addEventListener('input', () => {
    fileInput = undefined;
  });
  $('pad').addEventListener('pointerdown', () => {
    fileInput = undefined;
  });
  $('prove').addEventListener('click', () => void prove());
  $('verify').addEventListener('click', () => void verify());
  $('submit').addEventListener('click', () => void submit());
  if (config.models.length) await selectModel(config.models[0].id);
}

main().catch(showError);

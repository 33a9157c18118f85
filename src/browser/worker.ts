/**
 * The proving worker: a dedicated Web Worker that fetches a build's artifacts, holds its proving
 * key, and proves and verifies on request (./protocol.ts), so that the page stays responsive. With
 * threads, ffjavascript spreads each proof over navigator.hardwareConcurrency workers of its own.
 */
import * as snarkjs from 'snarkjs';
import { manifestVersionProblem, type BuildParts, type Manifest } from '../compile/manifest_types.js';
import { parseRecipient, parseSalt } from '../commit/statement.js';
import { MissingArtifactError } from '../errors.js';
import { ProvingKey } from '../prove/groth16.js';
import { InferenceProver, type FloatRunner } from '../prove/inference.js';
import { parseProgram } from '../quant/program.js';
import { verifyLoaded } from '../verify/check.js';
import { loadFloatModel } from './float.js';
import type { LoadRequest, Request, Response, Stage } from './protocol.js';

const scope = self as unknown as { postMessage(m: Response): void; onmessage: ((e: MessageEvent<Request>) => void) | null };
const send = (m: Response) => scope.postMessage(m);

let loaded: { prover: InferenceProver; build: BuildParts; vkey: unknown } | undefined;

/** Fetches one artifact, reporting its download; a missing file names what produces it. */
async function fetchBytes(id: number, base: string, file: string, stage: Stage = 'fetch'): Promise<Uint8Array> {
  const url = new URL(file, base).href;
  const response = await fetch(url);
  if (!response.ok) throw new MissingArtifactError(url, `the server answered ${response.status} ${response.statusText}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    send({ kind: 'progress', id, stage, loaded: received, total, file });
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function load(r: LoadRequest): Promise<void> {
  const t0 = performance.now();
  const manifest = JSON.parse(text(await fetchBytes(r.id, r.base, 'manifest.json'))) as Manifest;
  const problem = manifestVersionProblem(manifest);
  if (problem) throw new MissingArtifactError(new URL('manifest.json', r.base).href, problem);
  const [program, vkey, zkey] = await Promise.all([
    fetchBytes(r.id, r.base, 'program.json').then((b) => parseProgram(text(b))),
    fetchBytes(r.id, r.base, 'verification_key.json').then((b) => JSON.parse(text(b)) as unknown),
    fetchBytes(r.id, r.base, 'model.zkey'),
  ]);
  send({ kind: 'progress', id: r.id, stage: 'parse' });
  const build: BuildParts = { manifest, program };
  const key = ProvingKey.parse(zkey);
  let float: FloatRunner | undefined;
  let floatStatus: { loaded: true } | { loaded: false; reason: string } = { loaded: false, reason: 'not requested' };
  if (r.float) {
    try {
      float = await loadFloatModel(await fetchBytes(r.id, r.base, 'model.onnx'), manifest.model.onnxInputs, manifest.model.onnxOutput, r.ortWasm ?? new URL('ort-wasm-simd-threaded.wasm', import.meta.url).href);
      floatStatus = { loaded: true };
    } catch (err) {
      // The float output is diagnostic: proving goes on without it.
      floatStatus = { loaded: false, reason: (err as Error).message };
    }
  }
  const parts = await InferenceProver.partsOf(r.base, build, key, () => fetchBytes(r.id, r.base, 'model_js/model.wasm'), { float, singleThread: !r.threads });
  loaded = { prover: new InferenceProver(parts), build, vkey };
  const concurrency = r.threads ? ((globalThis as { curve_bn128?: { tm?: { concurrency?: number } } }).curve_bn128?.tm?.concurrency ?? navigator.hardwareConcurrency) : 1;
  send({ kind: 'loaded', id: r.id, summary: { manifest, zkeyBytes: zkey.length, threads: r.threads, concurrency, float: floatStatus, loadMs: performance.now() - t0 } });
}

function need(): NonNullable<typeof loaded> {
  if (!loaded) throw new Error('no build loaded in this worker');
  return loaded;
}

scope.onmessage = async (e) => {
  const r = e.data;
  try {
    if (r.kind === 'load') await load(r);
    else if (r.kind === 'prove') {
      const result = await need().prover.prove(r.input, {
        salt: r.salt === undefined ? undefined : parseSalt(r.salt),
        recipient: r.recipient === undefined ? undefined : parseRecipient(r.recipient),
        onStage: (stage) => send({ kind: 'progress', id: r.id, stage }),
      });
      send({ kind: 'proved', id: r.id, result });
    } else if (r.kind === 'verify') {
      const { build, vkey } = need();
      const verification = await verifyLoaded(build, vkey, r.doc, (vk, signals, proof) => snarkjs.groth16.verify(vk as never, signals, proof));
      send({ kind: 'verified', id: r.id, verification });
    }
  } catch (err) {
    const e = err as Error;
    send({ kind: 'failed', id: r.id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err) } });
  }
};

/**
 * zkml in the browser (`zkml/browser`): load a build by URL, prove an input on the user's device
 * in a Web Worker, and verify. The input, its quantized form and the salt stay in the page and its
 * worker: what a proof shares is its `proof` and `publicSignals` (see `sharedPart`).
 *
 *   const model = await loadModel('https://example.org/builds/iris/');
 *   const result = await model.prove([5.1, 3.5, 1.4, 0.2], { onProgress: console.log });
 *   const { valid } = await model.verify(result);
 *
 * Artifacts read under the build's URL: manifest.json, program.json, verification_key.json,
 * model.zkey, model_js/model.wasm (circom builds) and model.onnx (the float reference).
 */
import type { Manifest } from '../compile/manifest_types.js';
import type { ProofResult } from '../prove/inference.js';
import type { VerifiableDocument, Verification } from '../verify/check.js';
import type { Request, Response, Stage } from './protocol.js';
import type { BuildSummary } from './summary.js';

export type { BuildSummary } from './summary.js';
export type { Stage } from './protocol.js';
export type { ProofResult, ProveStage, Timings } from '../prove/inference.js';
export type { Verification } from '../verify/check.js';
export type { Manifest } from '../compile/manifest_types.js';

/** A failure reported by the worker, with the zkml error class it had there (InvalidInputError, MissingArtifactError, ...). */
export class BrowserProverError extends Error {
  constructor(readonly errorName: string, message: string) {
    super(message);
    this.name = errorName;
  }
}

export interface Progress {
  stage: Stage;
  /** fetch: bytes received of `file`, and its size (0: unknown). */
  loaded?: number;
  total?: number;
  file?: string;
}

type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

export interface LoadOptions {
  /** The worker script (default: zkml-worker.js beside this bundle). */
  workerUrl?: string | URL;
  /** Prove with every core: 'auto' (default) when the page is cross-origin isolated, else on one thread. */
  threads?: 'auto' | boolean;
  /** Run the float model too (onnxruntime-web; default true), its wasm at `ortWasmUrl` (default: beside this bundle). */
  float?: boolean;
  ortWasmUrl?: string | URL;
  onProgress?: (p: Progress) => void;
  /** Aborting stops the load (and its worker): a page that switches model mid-download. */
  signal?: AbortSignal;
}

export interface BrowserProveOptions {
  /** Master salt of salted builds (default: random, from crypto.getRandomValues). */
  salt?: bigint;
  /** The address the proof is bound to, 0x and 40 hex digits (default: none). */
  recipient?: string;
  onProgress?: (p: Progress) => void;
}

/** What a proof shares: the proof and its public signals, nothing else of the result. */
export function sharedPart(result: Pick<ProofResult, 'proof' | 'publicSignals'>): Pick<ProofResult, 'proof' | 'publicSignals'> {
  return { proof: result.proof, publicSignals: result.publicSignals };
}

/** A build loaded in a proving worker. */
export class BrowserModel {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: Response) => void; reject: (e: Error) => void; progress?: (p: Progress) => void }>();

  private constructor(
    private readonly worker: Worker,
    readonly url: string,
  ) {
    worker.onmessage = (e: MessageEvent<Response>) => {
      const m = e.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.kind === 'progress') return p.progress?.({ stage: m.stage, loaded: m.loaded, total: m.total, file: m.file });
      this.pending.delete(m.id);
      if (m.kind === 'failed') p.reject(new BrowserProverError(m.error.name, m.error.message));
      else p.resolve(m);
    };
    worker.onerror = (e) => this.failPending(new BrowserProverError('WorkerError', `the proving worker failed: ${e.message || 'it could not be started (is zkml-worker.js served beside zkml.js, or workerUrl right?)'}`));
  }

  /** Set by load: the build's manifest and how it proves here. */
  summary!: BuildSummary;

  get manifest(): Manifest {
    return this.summary.manifest;
  }

  private call<K extends Response['kind']>(request: RequestBody, progress?: (p: Progress) => void): Promise<Extract<Response, { kind: K }>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: Response) => void, reject, progress });
      this.worker.postMessage({ ...request, id } as Request);
    });
  }

  static async load(url: string | URL, options: LoadOptions = {}): Promise<BrowserModel> {
    const base = new URL(url, globalThis.location?.href).href.replace(/\/?$/, '/');
    const worker = new Worker(options.workerUrl ?? new URL('./zkml-worker.js', import.meta.url), { type: 'module', name: 'zkml-prover' });
    const model = new BrowserModel(worker, base);
    const threads = options.threads === undefined || options.threads === 'auto' ? globalThis.crossOriginIsolated === true : options.threads;
    const ortWasm = new URL(options.ortWasmUrl ?? new URL('./ort-wasm-simd-threaded.wasm', import.meta.url), globalThis.location?.href).href;
    const abort = () => model.close();
    options.signal?.addEventListener('abort', abort);
    try {
      if (options.signal?.aborted) throw new BrowserProverError('AbortError', 'the load was aborted');
      const r = await model.call<'loaded'>({ kind: 'load', base, threads, float: options.float ?? true, ortWasm }, options.onProgress);
      model.summary = r.summary;
    } catch (err) {
      worker.terminate();
      throw options.signal?.aborted ? new BrowserProverError('AbortError', 'the load was aborted') : err;
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
    if (model.manifest.batch) {
      worker.terminate();
      throw new BrowserProverError('InvalidInputError', `${base} is a batched build (${model.manifest.batch.size} inputs per proof); the browser prover proves builds compiled without --batch-size`);
    }
    return model;
  }

  /** Proves one input (the model's inputs, flattened and concatenated, as floats). */
  async prove(input: readonly number[], options: BrowserProveOptions = {}): Promise<ProofResult> {
    const r = await this.call<'proved'>(
      { kind: 'prove', input: [...input], salt: options.salt === undefined ? undefined : String(options.salt), recipient: options.recipient },
      options.onProgress,
    );
    return r.result;
  }

  /** Verifies a proof (and, where the document has them, its openings) against the build's verification key. */
  async verify(doc: VerifiableDocument): Promise<Verification> {
    return (await this.call<'verified'>({ kind: 'verify', doc })).verification;
  }

  /** Stops the worker (and its proving threads); calls still pending fail. */
  close(): void {
    this.worker.terminate();
    this.failPending(new BrowserProverError('ClosedError', 'the model was closed'));
  }

  private failPending(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** Loads a build by URL into a new proving worker. */
export function loadModel(url: string | URL, options: LoadOptions = {}): Promise<BrowserModel> {
  return BrowserModel.load(url, options);
}

/**
 * Messages between a page (./index.ts) and its proving worker (./worker.ts). Everything crosses
 * as structured-clone data: bigints as decimal strings, errors as {name, message}.
 */
import type { ProofResult, ProveStage } from '../prove/inference.js';
import type { VerifiableDocument, Verification } from '../verify/check.js';
import type { BuildSummary } from './summary.js';

export interface LoadRequest {
  kind: 'load';
  id: number;
  /** The build's folder URL: manifest.json, program.json, verification_key.json, model.zkey, [model_js/model.wasm], [model.onnx] under it. */
  base: string;
  /** Prove with every core (ffjavascript's worker threads) or on the worker's own thread. */
  threads: boolean;
  /** Run the float model with onnxruntime-web (its wasm at ortWasm). */
  float: boolean;
  ortWasm?: string;
}

export interface ProveRequest {
  kind: 'prove';
  id: number;
  input: number[];
  /** Master salt (decimal) and recipient (0x address); absent: a random salt, no recipient. */
  salt?: string;
  recipient?: string;
}

export interface VerifyRequest {
  kind: 'verify';
  id: number;
  doc: VerifiableDocument;
}

export type Request = LoadRequest | ProveRequest | VerifyRequest;

/** What is being fetched or computed: a load's download, or a proof's stage. */
export type Stage = 'fetch' | 'parse' | ProveStage;

export type Response =
  | { kind: 'progress'; id: number; stage: Stage; /** fetch: bytes received and expected (0: unknown). */ loaded?: number; total?: number; file?: string }
  | { kind: 'loaded'; id: number; summary: BuildSummary }
  | { kind: 'proved'; id: number; result: ProofResult }
  | { kind: 'verified'; id: number; verification: Verification }
  | { kind: 'failed'; id: number; error: { name: string; message: string } };

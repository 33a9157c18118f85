import type { Manifest } from '../compile/manifest_types.js';

/** What a page shows of a loaded build, and how it proves there. */
export interface BuildSummary {
  manifest: Manifest;
  /** The proving key's size in bytes, and whether the worker proves with threads. */
  zkeyBytes: number;
  threads: boolean;
  /** ffjavascript's thread count (1 when single-threaded). */
  concurrency: number;
  /** Whether the float model was loaded (onnxruntime-web), or why not. */
  float: { loaded: true } | { loaded: false; reason: string };
  loadMs: number;
}

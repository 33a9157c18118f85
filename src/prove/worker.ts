/**
 * Piscina worker: one task = float inference, quantization, witness and a Groth16 proof (single-
 * threaded unless the pool says otherwise) for one input. The Prover (model, witness calculator, zkey) is loaded once per worker.
 */
import '../setup/web_worker.js'; // first: before anything loads ffjavascript
import { workerData } from 'node:worker_threads';
import { buildBn128 } from 'ffjavascript';
import { ZkmlError } from '../errors.js';
import { claimFault } from '../fault.js';
import { Prover, type BatchProofResult, type ProofResult } from './prover.js';

export interface ProveTask {
  buildDir: string;
  input: number[];
  /** Master salt (decimal) of salted builds; random when absent. */
  salt?: string;
  /** The address the proof is bound to (0x hex); none when absent. */
  recipient?: string;
}

/** Up to N inputs of a batched build, proved as one batch (src/commit/batch.ts). */
export interface BatchTask {
  buildDir: string;
  inputs: number[][];
  /** Each input's master salt (decimal); random when absent. */
  salts?: string[];
  recipient?: string;
}

type Failure = { ok: false; error: { code: string; message: string } };
export type TaskOutcome = { ok: true; result: ProofResult } | Failure;
export type BatchOutcome = { ok: true; result: BatchProofResult } | Failure;

const provers = new Map<string, Promise<Prover>>();

if (claimFault(['start-throw'])) throw new Error('injected fault: a proving worker failed to start');

/** What the pool tells its workers (piscina's workerData). */
export interface WorkerSettings {
  threadsPerWorker: 1 | 'all';
}

const settings = (workerData as WorkerSettings | undefined) ?? { threadsPerWorker: 1 };

/**
 * The prover uses `globalThis.curve_bn128`. A single-threaded curve put there once serves every
 * proof of this worker without spawning threads: one core per worker. With threadsPerWorker
 * 'all' the prover builds the usual curve with a thread per core instead.
 */
const curveReady =
  settings.threadsPerWorker === 1
    ? buildBn128(true).then((curve) => {
        (globalThis as { curve_bn128?: unknown }).curve_bn128 = curve;
      })
    : Promise.resolve();

export default async function proveTask(task: ProveTask): Promise<TaskOutcome> {
  return withProver(task.buildDir, (p) => p.prove(task.input, { salt: task.salt === undefined ? undefined : BigInt(task.salt), recipient: task.recipient === undefined ? undefined : BigInt(task.recipient) }));
}

/** Piscina's named task `proveBatchTask`: one proof of a batched build. */
export async function proveBatchTask(task: BatchTask): Promise<BatchOutcome> {
  return withProver(task.buildDir, (p) => p.proveBatch(task.inputs, { salts: task.salts?.map(BigInt), recipient: task.recipient === undefined ? undefined : BigInt(task.recipient) }));
}

async function withProver<T>(buildDir: string, run: (p: Prover) => Promise<T>): Promise<{ ok: true; result: T } | Failure> {
  const fault = claimFault(['crash', 'throw', 'hang']);
  if (fault === 'hang') await new Promise(() => {});
  if (fault === 'crash') setTimeout(() => process.exit(70), 10);
  if (fault === 'throw')
    setTimeout(() => {
      throw new Error('injected fault: an uncaught exception in a proving worker');
    }, 10);
  try {
    await curveReady;
    let prover = provers.get(buildDir);
    if (!prover) {
      prover = Prover.load(buildDir);
      provers.set(buildDir, prover);
      prover.catch(() => provers.delete(buildDir));
    }
    return { ok: true, result: await run(await prover) };
  } catch (err) {
    const code = err instanceof ZkmlError ? err.code : 'INTERNAL';
    return { ok: false, error: { code, message: (err as Error).message } };
  }
}

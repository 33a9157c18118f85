import type { Worker as NodeWorker } from 'node:worker_threads';
import * as snarkjs from 'snarkjs';
import { WorkerCrashedError } from '../errors.js';
import { claimFault } from '../fault.js';

/**
 * snarkjs keeps one multi-threaded BN254 curve per process, `globalThis.curve_bn128`, built by
 * ffjavascript on first use (setup, in-process proofs, verification) with a thread per core.
 * Every such curve is supervised from the moment ffjavascript stores it there:
 *  - idle threads do not keep the process alive (a thread is ref'd only while it has work), so a
 *    script that calls setup(), prove() or verify() exits by itself;
 *  - a thread that dies fails the work waiting on it, and all later work on that curve, with
 *    WorkerCrashedError, instead of leaving it waiting forever (ffjavascript listens only for
 *    messages); the curve is dropped, its other threads terminated, and the next call builds a new one.
 */
interface ThreadManager {
  singleThread: boolean;
  /** web-worker Worker objects; absent for a single-threaded curve. */
  workers?: WebWorker[];
  working: boolean[];
  pendingDeferreds: ({ reject(err: Error): void } | undefined)[];
  actionQueue: { deferred: { reject(err: Error): void } }[];
  postAction(workerId: number, ...rest: unknown[]): Promise<unknown>;
  queueAction(...args: unknown[]): Promise<unknown>;
}
interface WebWorker {
  addEventListener(type: 'message' | 'error' | 'close', listener: (event: { message?: string }) => void): void;
  [NODE_WORKER]?: NodeWorker;
}
interface Curve {
  tm?: ThreadManager;
  terminate(): Promise<void>;
}

/** web-worker keeps the node:worker_threads Worker under this symbol. */
const NODE_WORKER = Symbol.for('worker');
const supervised = new WeakSet<ThreadManager>();

function supervise(curve: Curve): void {
  const tm = curve.tm;
  if (!tm || tm.singleThread || !tm.workers || supervised.has(tm)) return;
  supervised.add(tm);
  const workers = tm.workers;
  const threads = workers.map((w) => w[NODE_WORKER]);
  let stopping = false;
  const terminate = curve.terminate;
  curve.terminate = async function (this: Curve) {
    stopping = true;
    await terminate.call(this);
  };
  const fail = (i: number, reason: string) => {
    if (stopping) return;
    stopping = true;
    const err = new WorkerCrashedError('snarkjs curve', `thread ${i} of ${workers.length} ${reason}`);
    if (current === curve) current = null;
    tm.queueAction = () => Promise.reject(err);
    for (const d of tm.pendingDeferreds) d?.reject(err);
    for (const a of tm.actionQueue.splice(0)) a.deferred.reject(err);
    for (const t of threads) void t?.terminate();
  };
  const post = tm.postAction;
  tm.postAction = function (this: ThreadManager, workerId: number, ...rest: unknown[]) {
    threads[workerId]?.ref();
    const result = post.call(this, workerId, ...rest);
    if (claimFault(['curve-crash'])) void threads[workerId]?.terminate(); // tests: the thread dies holding a job
    return result;
  };
  workers.forEach((w, i) => {
    threads[i]?.unref();
    // After ffjavascript's own listener, which may already have posted this thread's next job.
    w.addEventListener('message', () => {
      if (!tm.working[i]) threads[i]?.unref();
    });
    w.addEventListener('error', (e) => fail(i, `failed: ${e.message ?? String(e)}`));
    w.addEventListener('close', () => fail(i, 'exited'));
  });
}

let current: Curve | null = (globalThis as { curve_bn128?: Curve | null }).curve_bn128 ?? null;
if (current) supervise(current);
Object.defineProperty(globalThis, 'curve_bn128', {
  configurable: true,
  enumerable: true,
  get: () => current,
  set: (curve: Curve | null) => {
    current = curve;
    if (curve) supervise(curve);
  },
});

/**
 * Terminates snarkjs' curve threads (freeing their memory; they do not keep the process alive
 * while idle). The next snarkjs operation builds a new curve.
 */
export async function releaseCurves(): Promise<void> {
  const curve = current;
  if (curve) {
    current = null;
    await curve.terminate();
  }
}

export type Logger = (line: string) => void;

/** A snarkjs logger that forwards its info lines (progress of long steps) to ours. */
export function snarkLogger(log: Logger, errors: string[] = []) {
  return {
    debug: () => {},
    info: (msg: unknown) => log(`  ${String(msg)}`),
    warn: (msg: unknown) => log(`  warning: ${String(msg)}`),
    error: (msg: unknown) => {
      errors.push(String(msg));
    },
  };
}

export { snarkjs };

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { WorkerCrashedError } from '../errors.js';
import type { FixedBaseRequest, FixedBaseResponse, GroupName } from './fixed_base_worker.js';

export type { GroupName };

/** How long a long setup step has to go: `done` of `total` work units (a G2 point counts 3 G1 points). */
export type SetupProgress = (step: string, done: number, total: number) => void;

/** A FixedBasePool callback that reports `step`'s progress against its planned G1 and G2 points. */
export function meter(step: string, g1: number, g2: number, report?: SetupProgress): ((group: GroupName, points: number) => void) | undefined {
  if (!report) return undefined;
  const total = g1 + 3 * g2;
  let done = 0;
  report(step, 0, total);
  return (group, points) => {
    done += group === 'G2' ? 3 * points : points;
    report(step, Math.min(done, total), total);
  };
}

/** Bytes of one affine point in LEM form. */
export const POINT_BYTES: Record<GroupName, number> = { G1: 64, G2: 128 };

/** Points per request: keeps every worker busy while bounding the memory of one request. */
const CHUNK = 1 << 14;

/**
 * s_i * G for many scalars, on worker threads (one per core), each with its own WASM curve and
 * window tables (src/setup/fixed_base_worker.ts). Output order follows the input order. A thread
 * that dies (an exit, an uncaught error, a failure to start) fails every request, pending and
 * later, with WorkerCrashedError, and the other threads are stopped. close() stops all threads.
 */
export class FixedBasePool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve(p: Uint8Array): void; reject(e: Error): void }>();
  private nextId = 0;
  private nextWorker = 0;
  private closing = false;
  private failure: WorkerCrashedError | undefined;

  /** `onPoints` hears of every finished chunk (for a progress bar). */
  constructor(
    threads = availableParallelism(),
    private readonly onPoints?: (group: GroupName, points: number) => void,
  ) {
    this.workers = Array.from({ length: Math.max(1, threads) }, (_, i) => {
      const w = new Worker(new URL('./fixed_base_worker.js', import.meta.url));
      w.on('message', ({ id, points }: FixedBaseResponse) => {
        this.pending.get(id)?.resolve(points);
        this.pending.delete(id);
      });
      w.on('error', (err) => this.fail(`thread ${i} failed: ${err.message}`, err));
      w.on('messageerror', (err) => this.fail(`thread ${i} sent a message that could not be read: ${err.message}`, err));
      w.on('exit', (code) => this.fail(`thread ${i} exited with code ${code}`));
      return w;
    });
  }

  /** Affine LEM points s_i * G, concatenated. */
  async mul(group: GroupName, scalars: readonly bigint[]): Promise<Uint8Array> {
    const size = POINT_BYTES[group];
    const out = new Uint8Array(scalars.length * size);
    const chunk = Math.min(CHUNK, Math.max(256, Math.ceil(scalars.length / this.workers.length)));
    const jobs: Promise<void>[] = [];
    for (let start = 0; start < scalars.length; start += chunk) {
      const part = scalars.slice(start, start + chunk);
      jobs.push(
        this.request(group, scalarBytes(part)).then((points) => {
          out.set(points, start * size);
          this.onPoints?.(group, part.length);
        }),
      );
    }
    await Promise.all(jobs);
    return out;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private request(group: GroupName, scalars: Uint8Array): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('FixedBasePool: closed'));
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, group, scalars } satisfies FixedBaseRequest, [scalars.buffer as ArrayBuffer]);
    });
  }

  /** The first failure of any thread: reject everything, stop the other threads. */
  private fail(reason: string, cause?: Error): void {
    if (this.closing || this.failure) return;
    this.failure = new WorkerCrashedError('fixed-base setup', reason, { cause });
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    for (const w of this.workers) void w.terminate();
  }
}

/** 32-byte little-endian encodings of scalars in [0, r). */
function scalarBytes(scalars: readonly bigint[]): Uint8Array {
  const limbs = new BigUint64Array(scalars.length * 4);
  scalars.forEach((s, i) => {
    limbs[i * 4] = BigInt.asUintN(64, s);
    limbs[i * 4 + 1] = BigInt.asUintN(64, s >> 64n);
    limbs[i * 4 + 2] = BigInt.asUintN(64, s >> 128n);
    limbs[i * 4 + 3] = s >> 192n;
  });
  return new Uint8Array(limbs.buffer);
}

import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import type { ProveTask, TaskOutcome } from './worker.js';

export interface BatchOptions {
  workers?: number;
  /** Called after each input finishes, in completion order. */
  onResult?: (index: number, outcome: TaskOutcome, done: number, total: number) => void;
}

export interface BatchItem {
  index: number;
  outcome: TaskOutcome;
}

/**
 * Proves many inputs on a piscina pool. Each input is its own task: one that fails (bad input,
 * a crashed worker) is reported with its error and does not affect the others.
 */
export async function proveBatch(buildDir: string, inputs: readonly number[][], options: BatchOptions = {}): Promise<BatchItem[]> {
  const workers = Math.max(1, options.workers ?? 2);
  const pool = new Piscina<ProveTask, TaskOutcome>({
    filename: new URL('./worker.js', import.meta.url).href,
    minThreads: workers,
    maxThreads: workers,
    // snarkjs' web-worker dependency treats any thread without workerData as its own child.
    workerData: {},
    idleTimeout: 1000,
  });
  const dir = resolve(buildDir);
  let done = 0;
  try {
    return await Promise.all(
      inputs.map(async (input, index) => {
        let outcome: TaskOutcome;
        try {
          outcome = await pool.run({ buildDir: dir, input: [...input] });
        } catch (err) {
          outcome = { ok: false, error: { code: 'WORKER', message: (err as Error).message } };
        }
        done++;
        options.onResult?.(index, outcome, done, inputs.length);
        return { index, outcome };
      }),
    );
  } finally {
    await pool.destroy();
  }
}

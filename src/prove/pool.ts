import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import type { ProveTask, TaskOutcome } from './worker.js';

export interface BatchOptions {
  workers?: number;
  /** Commitment salt (decimal) for every input of a hashed build; random per proof when absent. */
  salt?: string;
  /** Called after each input finishes, in completion order. */
  onResult?: (index: number, outcome: TaskOutcome, done: number, total: number) => void;
}

export interface BatchItem {
  index: number;
  outcome: TaskOutcome;
}

/**
 * A piscina pool of proving workers for one build. Each worker loads the build once (model,
 * witness calculator, proving key, a single-threaded curve) and then proves one input per task,
 * on one core: N workers use N cores with no thread contention inside a proof.
 */
export class ProvingPool {
  private readonly pool: Piscina<ProveTask, TaskOutcome>;
  private readonly dir: string;
  readonly workers: number;

  constructor(buildDir: string, workers = 2) {
    this.workers = Math.max(1, workers);
    this.dir = resolve(buildDir);
    this.pool = new Piscina<ProveTask, TaskOutcome>({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: this.workers,
      maxThreads: this.workers,
      // snarkjs' web-worker dependency treats any thread without workerData as its own child.
      workerData: {},
      idleTimeout: 1000,
    });
  }

  /** One proof per worker, all at once, so that every worker has loaded the build (for timing). */
  async warmUp(input: readonly number[]): Promise<void> {
    await Promise.all(Array.from({ length: this.workers }, () => this.pool.run({ buildDir: this.dir, input: [...input] })));
  }

  /**
   * Proves many inputs. Each input is its own task: one that fails (bad input, a crashed worker)
   * is reported with its error and does not affect the others.
   */
  async prove(inputs: readonly (readonly number[])[], onResult?: BatchOptions['onResult'], salt?: string): Promise<BatchItem[]> {
    let done = 0;
    return Promise.all(
      inputs.map(async (input, index) => {
        let outcome: TaskOutcome;
        try {
          outcome = await this.pool.run({ buildDir: this.dir, input: [...input], ...(salt === undefined ? {} : { salt }) });
        } catch (err) {
          outcome = { ok: false, error: { code: 'WORKER', message: (err as Error).message } };
        }
        done++;
        onResult?.(index, outcome, done, inputs.length);
        return { index, outcome };
      }),
    );
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}

/** Proves a batch on a fresh pool (see ProvingPool), then shuts the pool down. */
export async function proveBatch(buildDir: string, inputs: readonly number[][], options: BatchOptions = {}): Promise<BatchItem[]> {
  const pool = new ProvingPool(buildDir, options.workers ?? 2);
  try {
    return await pool.prove(inputs, options.onResult, options.salt);
  } finally {
    await pool.destroy();
  }
}

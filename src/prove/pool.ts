import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import { itemMasterSalts } from '../commit/statement.js';
import { InvalidInputError, WorkerCrashedError } from '../errors.js';
import { choosePoolLayout } from './layout.js';
import type { BatchOutcome, BatchTask, ProveTask, TaskOutcome, WorkerSettings } from './worker.js';
import { loadBuild } from '../compile/manifest.js';

export interface BatchOptions {
  /** Workers (single-threaded each), or 'auto': the layout measured for this build (src/prove/layout.ts). Default 2. */
  workers?: number | 'auto';
  /** Master salt (decimal) of a salted build: each input's proof gets batchSalt(salt, index) (the salt itself for one input); random per proof when absent. */
  salt?: string;
  /** The address every proof is bound to (0x hex); none when absent. */
  recipient?: string;
  /** Called after each input finishes, in completion order. */
  onResult?: (index: number, outcome: TaskOutcome, done: number, total: number) => void;
}

/** What a task proves beside its input: the master salt and the recipient. */
export type TaskParams = Pick<ProveTask, 'salt' | 'recipient'>;

const taskParams = (p: TaskParams): TaskParams => ({
  ...(p.salt === undefined ? {} : { salt: p.salt }),
  ...(p.recipient === undefined ? {} : { recipient: p.recipient }),
});

export interface BatchItem {
  index: number;
  outcome: TaskOutcome;
}

/** One proof of a batched build: inputs first .. first+count-1 of the job. */
export interface BatchGroup {
  group: number;
  first: number;
  count: number;
  outcome: BatchOutcome;
}

/** Splits M inputs into ceil(M/N) groups of a batched build's size N (the last one short). */
export function groupsOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A proving attempt that never finished: the worker thread died (crash, exit) or ran past its time
 * limit and was terminated. Either way piscina replaces the thread, and the same input may be
 * tried again; an input the prover rejects comes back as a TaskOutcome instead, and is final.
 */
export class AttemptLostError extends Error {
  constructor(readonly kind: 'crash' | 'timeout' | 'stopped', message: string) {
    super(message);
    this.name = 'AttemptLostError';
  }

  /** The error code an item lost this way fails with, once it is out of attempts. */
  get code(): 'WORKER_CRASHED' | 'TIMEOUT' | 'INTERRUPTED' {
    return this.kind === 'timeout' ? 'TIMEOUT' : this.kind === 'crash' ? 'WORKER_CRASHED' : 'INTERRUPTED';
  }
}

/**
 * A piscina pool of proving workers for one build. Each worker loads the build once (model,
 * witness calculator, proving key, a single-threaded curve) and then proves one input per task,
 * on one core: N workers use N cores with no thread contention inside a proof. With
 * `threadsPerWorker: 'all'` a worker's proofs use every core instead (one key in memory per
 * worker: for large keys; choosePoolLayout picks by measurement).
 */
export class ProvingPool {
  private readonly pool: Piscina<ProveTask | BatchTask, TaskOutcome | BatchOutcome>;
  private readonly dir: string | undefined;
  readonly workers: number;
  /** Worker threads lost to a crash or a time limit (and replaced). */
  restarts = 0;
  /** Called on each such loss. */
  onRestart?: () => void;
  private destroying = false;

  /** `buildDir` is the default build of `prove` and `warmUp`; `attempt` names its own. */
  constructor(buildDir: string | undefined, workers = 2, options: { threadsPerWorker?: 1 | 'all' } = {}) {
    this.workers = Math.max(1, workers);
    this.dir = buildDir === undefined ? undefined : resolve(buildDir);
    this.pool = new Piscina<ProveTask | BatchTask, TaskOutcome | BatchOutcome>({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: this.workers,
      maxThreads: this.workers,
      idleTimeout: 1000,
      workerData: { threadsPerWorker: options.threadsPerWorker ?? 1 } satisfies WorkerSettings,
    });
    // A thread that dies with a task fails that task (piscina rejects it, then replaces the
    // thread). One that fails with no task (e.g. as it starts) is emitted here instead, where
    // without a listener it would crash this process; it is counted as a restart all the same.
    this.pool.on('error', () => {});
    // min = max threads: a thread is only destroyed when it died or was terminated (or at destroy()).
    this.pool.on('workerDestroy', () => {
      if (this.destroying) return;
      this.restarts++;
      this.onRestart?.();
    });
  }

  private get buildDir(): string {
    if (this.dir === undefined) throw new Error('ProvingPool: no default build; use attempt(buildDir, ...)');
    return this.dir;
  }

  /** One proof per worker, all at once, so that every worker has loaded the build (for timing). */
  async warmUp(input: readonly number[]): Promise<void> {
    const batched = loadBuild(this.buildDir).manifest.batch !== undefined;
    const run = () => (batched ? this.pool.run({ buildDir: this.buildDir, inputs: [[...input]] } satisfies BatchTask, { name: 'proveBatchTask' }) : this.pool.run({ buildDir: this.buildDir, input: [...input] }));
    await Promise.all(
      Array.from({ length: this.workers }, () =>
        run().catch((err: Error) => {
          throw new WorkerCrashedError('proving pool', err.message, { cause: err });
        }),
      ),
    );
  }

  /**
   * One proof of `input` on `buildDir`, terminated after `timeoutMs` or when `signal` aborts.
   * Resolves with the prover's outcome; rejects with AttemptLostError when the worker thread died
   * or was terminated.
   */
  async attempt(buildDir: string, input: readonly number[], options: TaskParams & { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<TaskOutcome> {
    const task: ProveTask = { buildDir: resolve(buildDir), input: [...input], ...taskParams(options) };
    return this.attemptTask(task, options);
  }

  /** attempt() for one proof of a batched build: up to its size of inputs, each with its master salt. */
  async attemptBatch(buildDir: string, inputs: readonly (readonly number[])[], options: { salts?: string[]; recipient?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<BatchOutcome> {
    return this.attemptTask(batchTask(resolve(buildDir), inputs, options.salts, options.recipient), options, 'proveBatchTask');
  }

  private async attemptTask<T>(task: ProveTask | BatchTask, options: { timeoutMs?: number; signal?: AbortSignal }, name?: string): Promise<T> {
    const timeout = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
    const signals = [timeout, options.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    try {
      return (await this.pool.run(task, { ...(signal ? { signal } : {}), ...(name ? { name } : {}) })) as T;
    } catch (err) {
      if (options.signal?.aborted) throw new AttemptLostError('stopped', 'the proof was stopped (the pool is shutting down)');
      if (timeout?.aborted) throw new AttemptLostError('timeout', `the proof ran past its time limit of ${options.timeoutMs} ms; the worker was terminated`);
      throw new AttemptLostError('crash', `the proving worker died: ${(err as Error).message}`);
    }
  }

  /**
   * Proves many inputs. Each input is its own task: one that fails (bad input, a crashed worker)
   * is reported with its error and does not affect the others.
   */
  async prove(inputs: readonly (readonly number[])[], onResult?: BatchOptions['onResult'], params: TaskParams = {}): Promise<BatchItem[]> {
    let done = 0;
    const salts = await saltsPerItem(params.salt, inputs.length);
    return Promise.all(
      inputs.map(async (input, index) => {
        const outcome = await this.runOrLost<TaskOutcome>({ buildDir: this.buildDir, input: [...input], ...taskParams({ ...params, ...(salts ? { salt: salts[index] } : {}) }) });
        done++;
        onResult?.(index, outcome, done, inputs.length);
        return { index, outcome };
      }),
    );
  }

  /**
   * Proves many inputs on a batched build: ceil(M/N) proofs of up to N inputs each, on the pool's
   * workers at once. With a master salt, input i (of the whole job) gets batchSalt(salt, i) (one
   * input: the salt itself), as single proofs do; a group that fails is reported with its error
   * and does not affect the others.
   */
  async proveBatched(inputs: readonly (readonly number[])[], onResult?: (group: BatchGroup, done: number, total: number) => void, params: TaskParams = {}): Promise<BatchGroup[]> {
    const size = loadBuild(this.buildDir).manifest.batch?.size;
    if (!size) throw new InvalidInputError(`${this.buildDir} proves one input per proof (compile with --batch-size to batch)`);
    const salts = await saltsPerItem(params.salt, inputs.length);
    const groups = groupsOf(inputs, size);
    let done = 0;
    return Promise.all(
      groups.map(async (g, group) => {
        const first = group * size;
        const outcome = await this.runOrLost<BatchOutcome>(batchTask(this.buildDir, g, salts?.slice(first, first + g.length), params.recipient), 'proveBatchTask');
        const result = { group, first, count: g.length, outcome };
        onResult?.(result, ++done, groups.length);
        return result;
      }),
    );
  }

  /** One task on the pool; a worker that dies fails it with WorkerCrashedError's code instead of throwing. */
  private async runOrLost<T extends TaskOutcome | BatchOutcome>(task: ProveTask | BatchTask, name?: string): Promise<T> {
    try {
      return (await this.pool.run(task, name ? { name } : {})) as T;
    } catch (err) {
      const lost = new WorkerCrashedError('proving pool', (err as Error).message);
      return { ok: false, error: { code: lost.code, message: lost.message } } as T;
    }
  }

  async destroy(): Promise<void> {
    this.destroying = true;
    await this.pool.destroy();
  }
}

/** Runs `work` on a fresh pool of `workers` (or the measured layout), then shuts the pool down. */
async function withPool<T>(buildDir: string, workers: BatchOptions['workers'], work: (pool: ProvingPool) => Promise<T>): Promise<T> {
  const layout = workers === 'auto' ? await choosePoolLayout(buildDir) : { workers: workers ?? 2, threadsPerWorker: 1 as const };
  const pool = new ProvingPool(buildDir, layout.workers, { threadsPerWorker: layout.threadsPerWorker });
  try {
    return await work(pool);
  } finally {
    await pool.destroy();
  }
}

/** Proves a batch on a fresh pool (see ProvingPool), then shuts the pool down. */
export async function proveBatch(buildDir: string, inputs: readonly number[][], options: BatchOptions = {}): Promise<BatchItem[]> {
  return withPool(buildDir, options.workers, (pool) => pool.prove(inputs, options.onResult, options));
}

/** Proves many inputs on a batched build on a fresh pool (see ProvingPool.proveBatched), then shuts the pool down. */
export async function proveInBatches(buildDir: string, inputs: readonly number[][], options: Omit<BatchOptions, 'onResult'> & { onResult?: (group: BatchGroup, done: number, total: number) => void } = {}): Promise<BatchGroup[]> {
  return withPool(buildDir, options.workers, (pool) => pool.proveBatched(inputs, options.onResult, options));
}

/** One given salt seeds each item's (itemMasterSalts), so no two proofs share salts or a nullifier; none: random per proof. */
async function saltsPerItem(salt: string | undefined, count: number): Promise<string[] | undefined> {
  return salt === undefined ? undefined : (await itemMasterSalts(BigInt(salt), count)).map(String);
}

function batchTask(buildDir: string, inputs: readonly (readonly number[])[], salts: string[] | undefined, recipient: string | undefined): BatchTask {
  return { buildDir, inputs: inputs.map((x) => [...x]), ...(salts ? { salts } : {}), ...(recipient === undefined ? {} : { recipient }) };
}

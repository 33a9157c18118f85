import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { hostname } from 'node:os';
import { InvalidInputError } from '../errors.js';
import { AttemptLostError, ProvingPool } from '../prove/pool.js';
import { CANCELLED, isRetryable } from './jobs.js';
import { loadModels, type ServedModel } from './models.js';
import { Slots } from './slots.js';
import { connectRedis, failureReason, jobStopped, queueName, RESTARTS_KEY, type ItemData, type Proved } from './redis_common.js';

export interface RedisWorkerOptions {
  url: string;
  builds: string[];
  /** Proving threads of this process's piscina pool. */
  workers: number;
  /** How long an item stays locked to this process without a renewal: after a crash, others take it over after this. */
  lockDurationMs: number;
  /** Times an item may be taken back from a dead worker before it fails. */
  maxStalls: number;
  log?: (line: string) => void;
  /** Called after BullMQ accepted a completion: the item is proved, once. */
  onCompleted?: (item: string, worker: string) => void;
}

export interface RunningWorker {
  name: string;
  models: string[];
  /** Finishes the proofs in flight (or gives them up after `drainMs`; others take them over), then disconnects. */
  close(drainMs?: number): Promise<void>;
}

/**
 * `zkml worker --redis`: takes items from every served model's queue and proves them on this
 * process's piscina pool. BullMQ holds a lock on each active item and renews it from this thread
 * (the proof runs in a worker thread, so renewals never starve); if this process dies, the lock
 * lapses and another worker's stalled-job check puts the item back in the queue.
 */
export async function startRedisWorker(options: RedisWorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? (() => {});
  const models = loadModels(options.builds, (dir, reason) => log(`skipping ${dir}: ${reason}`));
  if (models.size === 0) throw new InvalidInputError(`no build with keys under ${options.builds.join(', ')}; nothing to prove`);
  const redis = await connectRedis(options.url);
  const pool = new ProvingPool(undefined, options.workers);
  const name = `${hostname()}:${process.pid}`;
  // Items of every model share the pool: BullMQ hands out two per thread, so the next proof starts
  // while the last result is being stored; the slots hold each proof (and its time limit) to a thread.
  const slots = new Slots(pool.workers);
  // Every worker process adds its replaced threads to one Redis counter, which the servers report.
  pool.onRestart = () => void redis.incr(RESTARTS_KEY).catch(() => {});

  /** A cancelled (or deleted) job's item fails at once, without retries. */
  const cancelled = (message: string) => new UnrecoverableError(failureReason(CANCELLED.code, message));

  const processor = (model: ServedModel) => async (job: Job<ItemData, Proved>): Promise<Proved> => {
    const { input, salt, recipient, timeoutMs, group } = job.data;
    await slots.acquire();
    // A cancel marks the job in the index: checked before the proof and every second during it.
    const stop = new AbortController();
    const watch = setInterval(() => void jobStopped(redis, job.data.job).then((s) => s && stop.abort(), () => {}), 1000);
    try {
      if (await jobStopped(redis, job.data.job)) throw cancelled(CANCELLED.message);
      // A batched build's group is one proof of all its items.
      const limits = { recipient, timeoutMs, signal: stop.signal };
      const outcome = group ? await pool.attemptBatch(model.dir, group.inputs, { ...limits, salts: group.salts }) : await pool.attempt(model.dir, input, { ...limits, salt });
      if (outcome.ok) return outcome.result;
      const reason = failureReason(outcome.error.code, outcome.error.message);
      throw isRetryable(outcome.error.code) ? new Error(reason) : new UnrecoverableError(reason);
    } catch (err) {
      if (err instanceof AttemptLostError) {
        if (stop.signal.aborted) throw cancelled('the job was cancelled during this proof; the proof was stopped');
        throw new Error(failureReason(err.code, err.message));
      }
      throw err;
    } finally {
      clearInterval(watch);
      slots.release();
    }
  };

  // BullMQ leaves connections it was given open: each worker gets its own, closed below.
  const connections = [...models.values()].map(() => redis.duplicate());
  const workers = [...models.values()].map((m, k) => {
    const w = new Worker<ItemData, Proved>(queueName(m), processor(m), {
      connection: connections[k],
      name,
      concurrency: pool.workers * 2,
      lockDuration: options.lockDurationMs,
      maxStalledCount: options.maxStalls,
      stalledInterval: Math.max(1000, Math.floor(options.lockDurationMs / 2)),
    });
    w.on('completed', (job) => options.onCompleted?.(job.id!, name));
    w.on('failed', (job, err) => log(`item ${job?.id}: ${err.message}`));
    w.on('error', (err) => log(`worker: ${err.message}`));
    return w;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log(`zkml worker ${name}: ${pool.workers} proving threads on ${options.url} for ${[...models.keys()].join(', ')}`);

  let closed: Promise<void> | undefined;
  return {
    name,
    models: [...models.keys()],
    close(drainMs = 30_000) {
      closed ??= (async () => {
        const graceful = Promise.all(workers.map((w) => w.close()));
        const timer = setTimeout(() => void Promise.all(workers.map((w) => w.close(true))), drainMs);
        await graceful;
        clearTimeout(timer);
        await pool.destroy();
        for (const c of [...connections, redis]) c.disconnect();
      })();
      return closed;
    },
  };
}

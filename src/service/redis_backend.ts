import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ProofResult } from '../prove/prover.js';
import { NotFoundError } from './errors.js';
import { admit, emptyProgress, itemSalts, jobState, newJobId, type BackendStats, type ItemView, type JobBackend, type JobSpec, type JobView } from './jobs.js';
import type { ServedModel } from './models.js';
import { connectRedis, itemId, itemView, JOB_INDEX_KEY, queueName, RESTARTS_KEY, type ItemData } from './redis_common.js';

/** BullMQ's states of an item that waits to start. */
const QUEUED = ['waiting', 'delayed', 'prioritized'] as const;
const sum = (counts: Record<string, number>, states: readonly string[]) => states.reduce((n, k) => n + (counts[k] ?? 0), 0);

export interface RedisBackendOptions {
  url: string;
  maxQueue: number;
  maxAttempts: number;
}

/**
 * Jobs on BullMQ: `zkml serve --redis` queues each item as a BullMQ job on its model's queue and
 * answers status from Redis; `zkml worker --redis` processes prove them. Redis is the only state,
 * so any number of servers and workers share it, and a server restart loses nothing.
 */
export class RedisBackend implements JobBackend {
  readonly kind = 'redis';
  onTiming?: JobBackend['onTiming'];

  private constructor(
    private readonly redis: Redis,
    private readonly queues: Map<string, Queue<ItemData, ProofResult>>,
    private readonly events: QueueEvents[],
    private readonly connections: Redis[],
    private readonly options: RedisBackendOptions,
  ) {}

  static async connect(models: ReadonlyMap<string, ServedModel>, options: RedisBackendOptions): Promise<RedisBackend> {
    const redis = await connectRedis(options.url);
    const queues = new Map<string, Queue<ItemData, ProofResult>>();
    const events: QueueEvents[] = [];
    const connections = [redis];
    for (const m of models.values()) {
      queues.set(m.name, new Queue<ItemData, ProofResult>(queueName(m), { connection: redis }));
      // QueueEvents blocks on its connection: one of its own.
      connections.push(redis.duplicate());
      events.push(new QueueEvents(queueName(m), { connection: connections.at(-1)! }));
    }
    const backend = new RedisBackend(redis, queues, events, connections, options);
    for (const e of events) {
      e.on('completed', ({ returnvalue }) => {
        const r = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as ProofResult | undefined;
        if (r?.timings) backend.onTiming?.('proof', r.timings.totalMs / 1000, true);
      });
    }
    return backend;
  }

  async submit(spec: JobSpec): Promise<JobView> {
    await admit(spec.inputs.length, this.options.maxQueue, () => this.queueDepth(), () => 5);
    const { model } = spec;
    const queue = this.queues.get(model.name)!;
    const id = newJobId();
    const salts = itemSalts(spec);
    // The index first: a job whose items were never added reads as unknown, not as stuck.
    await this.redis.hset(JOB_INDEX_KEY, id, queue.name);
    await queue.addBulk(
      spec.inputs.map((input, index) => ({
        name: 'prove',
        data: { job: id, index, total: spec.inputs.length, model: model.name, circuitSha256: model.build.manifest.circuit.sha256, input, timeoutMs: spec.timeoutMs, ...(salts[index] === undefined ? {} : { salt: salts[index] }) },
        // Attempts count failed tries; a worker that dies is caught by BullMQ's stalled-job check (maxStalledCount on the worker).
        opts: { jobId: itemId(id, index), attempts: this.options.maxAttempts, removeOnComplete: false, removeOnFail: false },
      })),
    );
    return this.job(id);
  }

  async job(id: string): Promise<JobView> {
    const { queue, first } = await this.locate(id);
    const items = await this.fetch(queue, id, 0, first.data.total);
    const progress = emptyProgress();
    for (const it of items) progress[it.state]++;
    const state = jobState(first.data.total, progress);
    const finished = state === 'completed' || state === 'failed';
    const finishedAt = finished ? Math.max(...items.map((it) => Date.parse(it.finishedAt ?? '0'))) : undefined;
    return {
      id,
      model: first.data.model,
      circuitSha256: first.data.circuitSha256,
      state,
      total: first.data.total,
      progress,
      timeoutMs: first.data.timeoutMs,
      createdAt: new Date(first.timestamp).toISOString(),
      ...(finishedAt ? { finishedAt: new Date(finishedAt).toISOString() } : {}),
    };
  }

  async items(id: string, offset: number, limit: number): Promise<ItemView[]> {
    const { queue, first } = await this.locate(id);
    return this.fetch(queue, id, offset, Math.min(limit, first.data.total - offset));
  }

  async stats(): Promise<BackendStats> {
    const items = emptyProgress();
    let queueDepth = 0;
    for (const q of this.queues.values()) {
      const c = await q.getJobCounts(...QUEUED, 'active', 'completed', 'failed');
      const queued = sum(c, QUEUED);
      queueDepth += queued;
      items.queued += queued;
      items.running += c.active;
      items.succeeded += c.completed;
      items.failed += c.failed;
    }
    const workerRestarts = Number((await this.redis.get(RESTARTS_KEY)) ?? 0);
    return { queueDepth, running: items.running, items, workerRestarts };
  }

  /** Proofs waiting to start, over every model's queue (a lighter read than stats, for admission). */
  private async queueDepth(): Promise<number> {
    let depth = 0;
    for (const q of this.queues.values()) depth += sum(await q.getJobCounts(...QUEUED), QUEUED);
    return depth;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await Promise.all(this.events.map((e) => e.close()));
    // BullMQ leaves connections it was given open.
    for (const c of this.connections) c.disconnect();
  }

  private async locate(id: string) {
    const name = await this.redis.hget(JOB_INDEX_KEY, id);
    const queue = name ? [...this.queues.values()].find((q) => q.name === name) : undefined;
    const first = queue ? await Job.fromId<ItemData, ProofResult>(queue, itemId(id, 0)) : undefined;
    if (!queue || !first) throw new NotFoundError(`no job ${id}`);
    return { queue, first };
  }

  private async fetch(queue: Queue<ItemData, ProofResult>, id: string, offset: number, count: number): Promise<ItemView[]> {
    const jobs = await Promise.all(Array.from({ length: Math.max(0, count) }, (_, k) => Job.fromId<ItemData, ProofResult>(queue, itemId(id, offset + k))));
    return Promise.all(jobs.filter((j): j is Job<ItemData, ProofResult> => j !== undefined).map(itemView));
  }
}

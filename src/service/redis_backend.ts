import { Job, Queue, QueueEvents } from 'bullmq';
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConflictError, IdempotencyKeyReusedError, NotFoundError } from './errors.js';
import { admit, CANCELLED, emptyProgress, isFinished, itemSalts, jobState, newJobId, type BackendStats, type ItemView, type JobBackend, type JobSpec, type JobView } from './jobs.js';
import type { ServedModel } from './models.js';
import { connectRedis, holderOf, itemId, itemView, JOB_INDEX_KEY, parseJobMeta, queueName, RESTARTS_KEY, type ItemData, type JobMeta, type Proved } from './redis_common.js';

/** BullMQ's states of an item that waits to start. */
const QUEUED = ['waiting', 'delayed', 'prioritized'] as const;
const sum = (counts: Record<string, number>, states: readonly string[]) => states.reduce((n, k) => n + (counts[k] ?? 0), 0);

/** Lock held by the one server (of many) that runs a retention sweep. */
const SWEEP_LOCK_KEY = 'zkml:sweep-lock';
/** A job or idempotency record this old that never got its items was left by a server that died while accepting it. */
const HALF_CREATED_MS = 60_000;

interface IdempotencyRecord {
  job: string;
  bodyHash: string;
  createdAt: number;
}

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
  /** Queues of jobs whose build this server does not serve, opened to read or delete them. */
  private readonly others = new Map<string, Queue<ItemData, Proved>>();

  private constructor(
    private readonly redis: Redis,
    private readonly queues: Map<string, Queue<ItemData, Proved>>,
    private readonly events: QueueEvents[],
    private readonly connections: Redis[],
    private readonly options: RedisBackendOptions,
    /** Items per BullMQ job of each served model (a batched build's size). */
    private readonly batchSizes: ReadonlyMap<string, number>,
  ) {}

  static async connect(models: ReadonlyMap<string, ServedModel>, options: RedisBackendOptions): Promise<RedisBackend> {
    const redis = await connectRedis(options.url);
    const queues = new Map<string, Queue<ItemData, Proved>>();
    const events: QueueEvents[] = [];
    const connections = [redis];
    for (const m of models.values()) {
      queues.set(m.name, new Queue<ItemData, Proved>(queueName(m), { connection: redis }));
      // QueueEvents blocks on its connection: one of its own.
      connections.push(redis.duplicate());
      events.push(new QueueEvents(queueName(m), { connection: connections.at(-1)! }));
    }
    const backend = new RedisBackend(redis, queues, events, connections, options, new Map([...models.values()].map((m) => [m.name, m.build.manifest.batch?.size ?? 1])));
    for (const e of events) {
      e.on('completed', ({ returnvalue }) => {
        const r = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as Proved | undefined;
        if (r?.timings) backend.onTiming?.('proof', r.timings.totalMs / 1000, true);
      });
    }
    return backend;
  }

  async submit(spec: JobSpec): Promise<{ job: JobView; replayed: boolean }> {
    const { model } = spec;
    const idemKey = spec.idempotency && `zkml:idem:${spec.owner}:${createHash('sha256').update(spec.idempotency.key).digest('hex')}`;
    if (idemKey) {
      const earlier = await this.replay(idemKey, spec);
      if (earlier) return earlier;
    }
    await admit(spec.inputs.length, this.options.maxQueue, () => this.queueDepth(), () => 5);
    const queue = this.queues.get(model.name)!;
    const id = newJobId();
    const salts = await itemSalts(spec);
    const n = model.build.manifest.batch?.size ?? 1;
    const meta: JobMeta = {
      queue: queue.name,
      model: model.name,
      circuitSha256: model.build.manifest.circuit.sha256,
      total: spec.inputs.length,
      timeoutMs: spec.timeoutMs,
      owner: spec.owner,
      createdAt: Date.now(),
      ...(n > 1 ? { batchSize: n } : {}),
      ...(idemKey ? { idempotency: idemKey } : {}),
    };
    // The index first: a job whose items were never added reads as unknown, not as stuck.
    await this.redis.hset(JOB_INDEX_KEY, id, JSON.stringify(meta));
    if (idemKey) {
      const record: IdempotencyRecord = { job: id, bodyHash: spec.idempotency!.bodyHash, createdAt: meta.createdAt };
      if ((await this.redis.set(idemKey, JSON.stringify(record), 'NX')) !== 'OK') {
        // Another request with this key got there first.
        await this.redis.hdel(JOB_INDEX_KEY, id);
        const earlier = await this.replay(idemKey, spec);
        if (earlier) return earlier;
        throw new ConflictError(`a request with Idempotency-Key "${spec.idempotency!.key}" is being accepted; retry`);
      }
    }
    // One BullMQ job per item, or per group of a batched build's size (one proof each).
    const firsts = Array.from({ length: Math.ceil(spec.inputs.length / n) }, (_, g) => g * n);
    await queue.addBulk(
      firsts.map((index) => ({
        name: 'prove',
        data: {
          job: id,
          index,
          total: spec.inputs.length,
          model: model.name,
          circuitSha256: meta.circuitSha256,
          owner: spec.owner,
          input: spec.inputs[index],
          timeoutMs: spec.timeoutMs,
          ...(salts[index] === undefined ? {} : { salt: salts[index] }),
          ...(spec.recipient === undefined ? {} : { recipient: spec.recipient }),
          ...(n > 1 ? { group: { inputs: spec.inputs.slice(index, index + n), ...(salts[index] === undefined ? {} : { salts: salts.slice(index, index + n) as string[] }) } } : {}),
        },
        // Attempts count failed tries; a worker that dies is caught by BullMQ's stalled-job check (maxStalledCount on the worker).
        opts: { jobId: itemId(id, index), attempts: this.options.maxAttempts, removeOnComplete: false, removeOnFail: false },
      })),
    );
    return { job: await this.job(id), replayed: false };
  }

  /** The job an idempotency key created, if the owner used it before; a record left by a server that died accepting it is cleared. */
  private async replay(idemKey: string, spec: JobSpec): Promise<{ job: JobView; replayed: true } | undefined> {
    const raw = await this.redis.get(idemKey);
    if (!raw) return undefined;
    const earlier = JSON.parse(raw) as IdempotencyRecord;
    if (earlier.bodyHash !== spec.idempotency!.bodyHash) throw new IdempotencyKeyReusedError(spec.idempotency!.key, earlier.job);
    try {
      return { job: await this.job(earlier.job), replayed: true };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    if (Date.now() - earlier.createdAt < HALF_CREATED_MS) throw new ConflictError(`a request with Idempotency-Key "${spec.idempotency!.key}" is being accepted; retry`);
    await this.redis.del(idemKey);
    return undefined;
  }

  async job(id: string): Promise<JobView> {
    const meta = await this.locate(id);
    const items = await this.fetch(meta, id, 0, meta.total);
    const progress = emptyProgress();
    for (const it of items) progress[it.state]++;
    const state = jobState(meta.total, progress, meta.cancelledAt !== undefined);
    const finishedAt = isFinished(state) ? Math.max(...items.map((it) => Date.parse(it.finishedAt ?? '0'))) : undefined;
    return {
      id,
      model: meta.model,
      circuitSha256: meta.circuitSha256,
      state,
      total: meta.total,
      progress,
      timeoutMs: meta.timeoutMs,
      owner: meta.owner,
      createdAt: new Date(meta.createdAt).toISOString(),
      ...(meta.cancelledAt ? { cancelledAt: new Date(meta.cancelledAt).toISOString() } : {}),
      ...(finishedAt ? { finishedAt: new Date(finishedAt).toISOString() } : {}),
    };
  }

  async owner(id: string): Promise<string> {
    return (await this.locate(id)).owner;
  }

  async items(id: string, offset: number, limit: number): Promise<ItemView[]> {
    const meta = await this.locate(id);
    return this.fetch(meta, id, offset, Math.min(limit, meta.total - offset));
  }

  /**
   * Marks the job cancelled (workers check the mark before each proof, and every second during
   * one, and stop) and removes its waiting items from BullMQ; they read as failed with CANCELLED.
   */
  async cancel(id: string): Promise<JobView> {
    const meta = await this.locate(id);
    const view = await this.job(id);
    if (meta.cancelledAt !== undefined) return view;
    if (isFinished(view.state)) throw new ConflictError(`job ${id} is already ${view.state}; there is nothing to cancel`);
    await this.redis.hset(JOB_INDEX_KEY, id, JSON.stringify({ ...meta, cancelledAt: Date.now() }));
    const queue = this.queue(meta);
    // Read after the mark: an item that starts from now on is stopped by its worker's check. One a
    // worker holds is locked (remove returns 0): the worker sees the mark within a second and stops it.
    const queued = [...new Set((await this.fetch(meta, id, 0, meta.total)).filter((it) => it.state === 'queued').map((it) => itemId(id, holderOf(it.index, meta.batchSize))))];
    for (let k = 0; k < queued.length; k += 500) await Promise.all(queued.slice(k, k + 500).map((item) => queue.remove(item)));
    return this.job(id);
  }

  async remove(id: string): Promise<void> {
    const meta = await this.locate(id);
    const view = await this.job(id);
    if (!isFinished(view.state)) throw new ConflictError(`job ${id} is not finished; cancel it first (POST /v1/jobs/${id}/cancel), then delete it`);
    await this.purge(id, meta);
  }

  /**
   * Retention on Redis: walks the job index (HSCAN) and deletes jobs finished before
   * `finishedBefore`. A job's finish time is written into its index entry the first time it is
   * seen finished, so a later sweep reads no items of it. One server sweeps at a time.
   */
  async sweep(finishedBefore: number): Promise<number> {
    const token = randomBytes(8).toString('hex');
    if ((await this.redis.set(SWEEP_LOCK_KEY, token, 'PX', 300_000, 'NX')) !== 'OK') return 0;
    let removed = 0;
    try {
      let cursor = '0';
      do {
        const [next, flat] = await this.redis.hscan(JOB_INDEX_KEY, cursor, 'COUNT', 200);
        cursor = next;
        for (let k = 0; k < flat.length; k += 2) {
          const id = flat[k];
          const meta = await this.normalize(id, flat[k + 1]);
          if (!meta) continue;
          let finishedAt = meta.finishedAt;
          if (meta.deleting || (finishedAt === undefined && (await this.halfCreated(id, meta)))) {
            await this.purge(id, meta);
            continue;
          }
          finishedAt ??= await this.finishTime(id, meta);
          if (finishedAt !== undefined && finishedAt < finishedBefore) {
            await this.purge(id, meta);
            removed++;
          }
        }
      } while (cursor !== '0');
    } finally {
      if ((await this.redis.get(SWEEP_LOCK_KEY)) === token) await this.redis.del(SWEEP_LOCK_KEY);
    }
    return removed;
  }

  /** When the job finished (recorded in its index entry), or undefined while it runs. */
  private async finishTime(id: string, meta: JobMeta): Promise<number | undefined> {
    // Items run in order: an unfinished last item means an unfinished job, for one read.
    const [last] = await this.fetch(meta, id, meta.total - 1, 1);
    if (last && last.state !== 'succeeded' && last.state !== 'failed') return undefined;
    const view = await this.job(id);
    if (!view.finishedAt) return undefined;
    const finishedAt = Date.parse(view.finishedAt);
    await this.redis.hset(JOB_INDEX_KEY, id, JSON.stringify({ ...meta, finishedAt }));
    return finishedAt;
  }

  /** An index entry whose items were never added (the server died accepting the job). */
  private async halfCreated(id: string, meta: JobMeta): Promise<boolean> {
    if (meta.cancelledAt !== undefined || Date.now() - meta.createdAt < HALF_CREATED_MS) return false;
    return (await Job.fromId(this.queue(meta), itemId(id, 0))) === undefined;
  }

  /** Deletes a job: marked first (it reads as unknown from then on), then its idempotency record and items, then its index entry. */
  private async purge(id: string, meta: JobMeta): Promise<void> {
    if (!meta.deleting) await this.redis.hset(JOB_INDEX_KEY, id, JSON.stringify({ ...meta, deleting: true }));
    if (meta.idempotency) {
      const raw = await this.redis.get(meta.idempotency);
      if (raw && (JSON.parse(raw) as IdempotencyRecord).job === id) await this.redis.del(meta.idempotency);
    }
    const queue = this.queue(meta);
    const step = meta.batchSize ?? 1;
    for (let k = 0; k < meta.total; k += 500 * step) {
      await Promise.all(Array.from({ length: Math.min(500, Math.ceil((meta.total - k) / step)) }, (_, j) => queue.remove(itemId(id, k + j * step))));
    }
    await this.redis.hdel(JOB_INDEX_KEY, id);
  }

  /** Items counted from BullMQ jobs: a batched build's queue holds groups, counted at its size (a job's last group may hold fewer). */
  async stats(): Promise<BackendStats> {
    const items = emptyProgress();
    let queueDepth = 0;
    for (const [name, q] of this.queues) {
      const n = this.batchSizes.get(name) ?? 1;
      const c = await q.getJobCounts(...QUEUED, 'active', 'completed', 'failed');
      const queued = sum(c, QUEUED) * n;
      queueDepth += queued;
      items.queued += queued;
      items.running += c.active * n;
      items.succeeded += c.completed * n;
      items.failed += c.failed * n;
    }
    const workerRestarts = Number((await this.redis.get(RESTARTS_KEY)) ?? 0);
    return { queueDepth, running: items.running, items, workerRestarts };
  }

  /** Proofs waiting to start, over every model's queue (a lighter read than stats, for admission). */
  private async queueDepth(): Promise<number> {
    let depth = 0;
    for (const [name, q] of this.queues) depth += sum(await q.getJobCounts(...QUEUED), QUEUED) * (this.batchSizes.get(name) ?? 1);
    return depth;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values(), ...this.others.values()].map((q) => q.close()));
    await Promise.all(this.events.map((e) => e.close()));
    // BullMQ leaves connections it was given open.
    for (const c of this.connections) c.disconnect();
  }

  /** The queue of a job: a served model's, or (a job of a build this server does not serve, or an older circuit) one opened for it. */
  private queue(meta: JobMeta): Queue<ItemData, Proved> {
    const served = [...this.queues.values()].find((q) => q.name === meta.queue);
    if (served) return served;
    let other = this.others.get(meta.queue);
    if (!other) this.others.set(meta.queue, (other = new Queue<ItemData, Proved>(meta.queue, { connection: this.redis })));
    return other;
  }

  /** The index entry of a live job; NotFoundError for an unknown, half-created or deleting one. */
  private async locate(id: string): Promise<JobMeta> {
    const raw = await this.redis.hget(JOB_INDEX_KEY, id);
    const meta = raw === null ? undefined : await this.normalize(id, raw);
    if (!meta || meta.deleting) throw new NotFoundError(`no job ${id}`);
    // A job is live once its items exist (a cancel may have removed its waiting ones since).
    if (meta.cancelledAt === undefined && !(await Job.fromId(this.queue(meta), itemId(id, 0)))) throw new NotFoundError(`no job ${id}`);
    return meta;
  }

  /** An index entry as JobMeta; entries written before it was JSON hold the queue name and are completed from item 0. */
  private async normalize(id: string, raw: string): Promise<JobMeta | undefined> {
    const parsed = parseJobMeta(raw);
    if (parsed) return parsed;
    const first = await Job.fromId<ItemData, Proved>(this.queue({ queue: raw } as JobMeta), itemId(id, 0));
    if (!first) return undefined;
    const d = first.data;
    return { queue: raw, model: d.model, circuitSha256: d.circuitSha256, total: d.total, timeoutMs: d.timeoutMs, owner: d.owner ?? 'anonymous', createdAt: first.timestamp };
  }

  /** Items offset..offset+count (a batched build's items read from their groups); those a cancel removed read as failed with CANCELLED. */
  private async fetch(meta: JobMeta, id: string, offset: number, count: number): Promise<ItemView[]> {
    const queue = this.queue(meta);
    const indices = Array.from({ length: Math.max(0, count) }, (_, k) => offset + k);
    const holders = new Map<number, Promise<Job<ItemData, Proved> | undefined>>();
    for (const i of indices) {
      const h = holderOf(i, meta.batchSize);
      if (!holders.has(h)) holders.set(h, Job.fromId<ItemData, Proved>(queue, itemId(id, h)));
    }
    const cancelledAt = meta.cancelledAt === undefined ? undefined : new Date(meta.cancelledAt).toISOString();
    const views = await Promise.all(
      indices.map(async (i): Promise<ItemView | undefined> => {
        const j = await holders.get(holderOf(i, meta.batchSize))!;
        if (j) return itemView(j, i);
        return cancelledAt ? { index: i, state: 'failed', attempts: 0, error: { ...CANCELLED }, finishedAt: cancelledAt } : undefined;
      }),
    );
    return views.filter((v): v is ItemView => v !== undefined);
  }
}

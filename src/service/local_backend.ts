import { AttemptLostError, ProvingPool } from '../prove/pool.js';
import { itemProofs, type BatchItemProof, type BatchProofResult, type ProofResult } from '../prove/prover.js';
import type { BatchOutcome, TaskOutcome } from '../prove/worker.js';
import { ConflictError, IdempotencyKeyReusedError, NotFoundError, UnavailableError } from './errors.js';
import { admit, CANCELLED, isFinished, isRetryable, itemSalts, newJobId, type BackendStats, type ItemView, type JobBackend, type JobSpec, type JobView } from './jobs.js';
import type { ServedModel } from './models.js';
import { Slots } from './slots.js';
import { JobStore, newJobRecord, type ItemRecord, type JobRecord } from './store.js';

export interface LocalBackendOptions {
  /** Folder of the embedded job store. */
  store: string;
  workers: number;
  /** Most proofs (items) waiting to start; a job that would pass it is refused with 429. */
  maxQueue: number;
  /** Proving attempts per item, counting attempts lost to a crash, a time limit or a killed service. */
  maxAttempts: number;
  log?: (line: string) => void;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

interface QueueEntry {
  id: string;
  index: number;
  count: number;
  items: number;
}

export function jobView(j: JobRecord): JobView {
  return {
    id: j.id,
    model: j.model,
    circuitSha256: j.circuitSha256,
    state: j.state,
    total: j.total,
    progress: j.progress,
    timeoutMs: j.timeoutMs,
    owner: j.owner ?? 'anonymous',
    createdAt: iso(j.createdAt)!,
    ...(j.cancelledAt ? { cancelledAt: iso(j.cancelledAt) } : {}),
    ...(j.finishedAt ? { finishedAt: iso(j.finishedAt) } : {}),
  };
}

/**
 * Jobs in an embedded store (LMDB), proved by an in-process piscina pool. One scheduler claims up
 * to two items per thread and runs one proof per thread (Slots), so an item's time limit starts
 * when its proof does and commits overlap with proofs. Every change of
 * state is committed before it takes effect: an item is marked running (its attempt counted)
 * before the proof starts, and its result is stored in the transaction that marks it succeeded.
 * A restart therefore resumes queued items, retries running ones (their attempt lost), and keeps
 * every finished result as it was. A cancel fails the queued items in one transaction and aborts
 * the running proofs (their threads are terminated and replaced).
 */
export class LocalBackend implements JobBackend {
  readonly kind = 'local';
  onTiming?: JobBackend['onTiming'];
  /** Proofs waiting to start: the `count` items of job `id` from `index` (one, or a batched build's group), `items` of them queued. */
  private readonly queue: QueueEntry[] = [];
  private readonly running = new Map<string, AbortController>();
  /** Why a running item's AbortController fired: a cancel fails it; a shutdown gives it back. */
  private static readonly CANCEL = 'cancel';
  private closing = false;
  private idle?: () => void;
  private meanProofSeconds = 1;
  private readonly slots: Slots;

  private constructor(
    private readonly models: ReadonlyMap<string, ServedModel>,
    private readonly store: JobStore,
    private readonly pool: ProvingPool,
    private readonly options: LocalBackendOptions,
  ) {
    this.slots = new Slots(pool.workers);
  }

  static async start(models: ReadonlyMap<string, ServedModel>, options: LocalBackendOptions): Promise<LocalBackend> {
    const store = await JobStore.open(options.store);
    const backend = new LocalBackend(models, store, new ProvingPool(undefined, options.workers), options);
    await backend.resume();
    backend.pump();
    return backend;
  }

  /** Items per proof of the model a job was accepted for (1 unless batched). */
  private unitSize(model: string): number {
    return this.models.get(model)?.build.manifest.batch?.size ?? 1;
  }

  /**
   * Queues the unit (proof) an item belongs to: a batched build's items are proved in groups.
   * `groups` (at a restart, one item at a time) keeps each group to one entry counting its items.
   */
  private enqueue(id: string, index: number, total: number, options: { front?: boolean; items?: number; groups?: Map<string, QueueEntry> } = {}): void {
    const job = this.store.job(id);
    const n = job ? this.unitSize(job.model) : 1;
    const first = index - (index % n);
    const known = options.groups?.get(`${id}/${first}`);
    if (known) {
      known.items++;
      return;
    }
    const entry = { id, index: first, count: Math.min(n, total - first), items: options.items ?? 1 };
    options.groups?.set(`${id}/${first}`, entry);
    if (options.front) this.queue.unshift(entry);
    else this.queue.push(entry);
  }

  /** Items waiting, as the queue bound counts them. */
  private get queuedItems(): number {
    return this.queue.reduce((a, q) => a + q.items, 0);
  }

  private async resume(): Promise<void> {
    let requeued = 0;
    let resumed = 0;
    const groups = new Map<string, QueueEntry>();
    for (const { id, index, item } of [...this.store.unfinished()]) {
      if (item.state === 'running') {
        // The process that ran this attempt died with it.
        if (item.attempts >= this.options.maxAttempts) {
          await this.fail(id, index, { code: 'INTERRUPTED', message: `the service stopped during each of ${item.attempts} attempts` });
          continue;
        }
        await this.store.transition(id, index, (it) => (it.state === 'running' ? { ...it, state: 'queued' } : undefined));
        requeued++;
      } else resumed++;
      this.enqueue(id, index, this.store.job(id)?.total ?? index + 1, { groups });
    }
    if (requeued + resumed) this.options.log?.(`job store: resuming ${resumed} queued and ${requeued} interrupted proofs`);
  }

  async submit(spec: JobSpec): Promise<{ job: JobView; replayed: boolean }> {
    if (this.closing) throw new UnavailableError('the service is shutting down');
    // A replay is answered before admission: it adds nothing to the queue.
    const earlier = spec.idempotency && this.store.idempotent(spec.owner, spec.idempotency.key);
    const earlierJob = earlier && this.store.job(earlier.job);
    if (earlier && earlierJob) return this.replay(spec, earlier, earlierJob);
    await admit(spec.inputs.length, this.options.maxQueue, () => this.queuedItems, (depth) => Math.max(1, Math.ceil((depth * this.meanProofSeconds) / this.pool.workers)));
    const { model } = spec;
    const salts = await itemSalts(spec);
    const record = newJobRecord(newJobId(), model.name, model.build.manifest.circuit.sha256, spec.inputs.length, spec.timeoutMs, spec.owner, spec.idempotency?.key);
    const created = await this.store.create(
      record,
      spec.inputs.map((input, i) => ({ input, ...(salts[i] === undefined ? {} : { salt: salts[i] }), ...(spec.recipient === undefined ? {} : { recipient: spec.recipient }) })),
      spec.idempotency,
    );
    // Another request with the same key won the race to the store.
    if (created.replayOf) return this.replay(spec, created.replayOf, created.job);
    const n = this.unitSize(model.name);
    for (let index = 0; index < spec.inputs.length; index += n) {
      const count = Math.min(n, spec.inputs.length - index);
      this.queue.push({ id: record.id, index, count, items: count });
    }
    this.pump();
    return { job: jobView(record), replayed: false };
  }

  private replay(spec: JobSpec, earlier: { job: string; bodyHash: string }, job: JobRecord): { job: JobView; replayed: true } {
    if (earlier.bodyHash !== spec.idempotency!.bodyHash) throw new IdempotencyKeyReusedError(spec.idempotency!.key, earlier.job);
    return { job: jobView(job), replayed: true };
  }

  async job(id: string): Promise<JobView> {
    return jobView(this.record(id));
  }

  async owner(id: string): Promise<string> {
    return this.record(id).owner ?? 'anonymous';
  }

  async items(id: string, offset: number, limit: number): Promise<ItemView[]> {
    this.record(id);
    return this.store.itemRange(id, offset, limit).map(({ index, item, result }) => ({
      index,
      state: item.state,
      attempts: item.attempts,
      ...(item.error ? { error: item.error } : {}),
      ...(result ? { result } : {}),
      ...(item.startedAt ? { startedAt: iso(item.startedAt) } : {}),
      ...(item.finishedAt ? { finishedAt: iso(item.finishedAt) } : {}),
    }));
  }

  async cancel(id: string): Promise<JobView> {
    const before = this.record(id);
    if (isFinished(before.state) && before.cancelledAt === undefined) throw new ConflictError(`job ${id} is already ${before.state}; there is nothing to cancel`);
    const job = await this.store.cancel(id);
    if (!job) throw new NotFoundError(`no job ${id}`);
    // Its queued items failed in the store; drop them from the queue and stop the running ones.
    let kept = 0;
    for (const q of this.queue) if (q.id !== id) this.queue[kept++] = q;
    this.queue.length = kept;
    for (const [key, stop] of this.running) if (key.startsWith(`${id}/`)) stop.abort(LocalBackend.CANCEL);
    return jobView(job);
  }

  async remove(id: string): Promise<void> {
    const r = await this.store.remove(id);
    if (r === 'unknown') throw new NotFoundError(`no job ${id}`);
    if (r === 'unfinished') throw new ConflictError(`job ${id} is not finished; cancel it first (POST /v1/jobs/${id}/cancel), then delete it`);
  }

  async sweep(finishedBefore: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = this.store.finishedBefore(finishedBefore, 500);
      let batch = 0;
      for (const id of ids) if ((await this.store.remove(id)) === 'removed') batch++;
      removed += batch;
      if (ids.length < 500 || batch === 0) return removed;
    }
  }

  /** Running totals kept by the store's transactions: no scan of the jobs. */
  async stats(): Promise<BackendStats> {
    const { items, jobs } = this.store.counts();
    return { queueDepth: this.queuedItems, running: this.running.size, items: { ...items }, jobs: { ...jobs }, workerRestarts: this.pool.restarts };
  }

  async close(drainMs: number): Promise<void> {
    this.closing = true;
    if (this.running.size) {
      this.options.log?.(`shutting down: waiting up to ${drainMs} ms for ${this.running.size} running proofs`);
      const drained = new Promise<void>((r) => (this.idle = r));
      const timer = setTimeout(() => {
        // Out of time: stop the rest; they go back to the queue, their attempt not counted.
        for (const c of this.running.values()) c.abort();
      }, drainMs);
      await drained;
      clearTimeout(timer);
    }
    await this.pool.destroy();
    await this.store.close();
  }

  private record(id: string): JobRecord {
    const j = this.store.job(id);
    if (!j) throw new NotFoundError(`no job ${id}`);
    return j;
  }

  private pump(): void {
    // Two items per thread: one proving, one being claimed or having its result committed.
    while (!this.closing && this.running.size < 2 * this.pool.workers && this.queue.length) {
      const { id, index, count } = this.queue.shift()!;
      const stop = new AbortController();
      this.running.set(`${id}/${index}`, stop);
      void this.run(id, index, count, stop.signal)
        .catch((err) => this.options.log?.(`job ${id} item ${index}: ${(err as Error).stack ?? err}`))
        .finally(() => {
          this.running.delete(`${id}/${index}`);
          if (this.closing && this.running.size === 0) this.idle?.();
          this.pump();
        });
    }
  }

  /**
   * Proves one unit: one item, or up to a batched build's size of consecutive items in one proof.
   * Each item is marked running (its attempt counted) before the proof starts and gets its own
   * result (a batch's items: the shared proof with their own opening); a lost attempt retries
   * the unit's items together.
   */
  private async run(id: string, first: number, count: number, stop: AbortSignal): Promise<void> {
    const indices = Array.from({ length: count }, (_, k) => first + k);
    const failAll = (error: NonNullable<ItemRecord['error']>) => Promise.all(indices.map((i) => this.fail(id, i, error)));
    const job = this.store.job(id);
    if (!job) return; // deleted while queued
    if (job.cancelledAt !== undefined) {
      // Cancelled while queued, or put back in the queue (a retry, a restart) around the cancel:
      // finish it, so that the job finishes and can be deleted and swept.
      await failAll({ ...CANCELLED });
      return;
    }
    const model = this.models.get(job.model);
    if (!model || model.build.manifest.circuit.sha256 !== job.circuitSha256) {
      const why = model ? 'its build was recompiled (another circuit)' : 'it is not served any more';
      await failAll({ code: 'MODEL_UNAVAILABLE', message: `model ${job.model}: ${why} since the job was accepted` });
      return;
    }
    const claimed: { index: number; attempts: number; input: number[]; salt?: string; recipient?: string }[] = [];
    for (const index of indices) {
      const started = await this.store.transition(id, index, (it) =>
        it.state === 'queued' ? { ...it, state: 'running', attempts: it.attempts + 1, startedAt: Date.now() } : undefined,
      );
      const stored = started && this.store.input(id, index);
      if (stored) claimed.push({ index, attempts: started.item.attempts, ...stored });
    }
    if (!claimed.length) return;
    const each = (f: (index: number) => Promise<unknown>) => Promise.all(claimed.map((c) => f(c.index)));
    const batched = model.build.manifest.batch !== undefined;
    let outcome: TaskOutcome | BatchOutcome | undefined;
    let lost: AttemptLostError | undefined;
    await this.slots.acquire();
    if (stop.reason === LocalBackend.CANCEL) {
      this.slots.release();
      await each((i) => this.fail(id, i, { ...CANCELLED }));
      return;
    }
    if (this.closing) {
      // Claimed but not started when shutdown began: back to the queue, the attempt given back.
      this.slots.release();
      await each((i) => this.giveBack(id, i));
      return;
    }
    const t0 = performance.now();
    try {
      const limits = { timeoutMs: job.timeoutMs, signal: stop };
      const { salt, recipient } = claimed[0];
      outcome = batched
        ? await this.pool.attemptBatch(model.dir, claimed.map((c) => c.input), { ...limits, recipient, ...(salt === undefined ? {} : { salts: claimed.map((c) => c.salt!) }) })
        : await this.pool.attempt(model.dir, claimed[0].input, { ...limits, salt, recipient });
    } catch (err) {
      if (!(err instanceof AttemptLostError)) throw err;
      lost = err;
    } finally {
      this.slots.release();
    }
    const seconds = (performance.now() - t0) / 1000;
    if (stop.reason === LocalBackend.CANCEL && !outcome?.ok) {
      await each((i) => this.fail(id, i, { code: CANCELLED.code, message: 'the job was cancelled during this proof; the proof was stopped' }));
      return;
    }
    if (stop.aborted && !outcome?.ok) {
      // Stopped by shutdown, not by the items: back to the queue with the attempt given back.
      await each((i) => this.giveBack(id, i));
      return;
    }
    this.onTiming?.('proof', seconds, outcome?.ok === true);
    if (outcome?.ok) {
      this.meanProofSeconds = 0.9 * this.meanProofSeconds + 0.1 * (seconds / claimed.length);
      const results: (ProofResult | BatchItemProof)[] = batched ? itemProofs(outcome.result as BatchProofResult) : [outcome.result as ProofResult];
      for (const [k, c] of claimed.entries()) {
        const now = Date.now();
        // A batch's item k is the job's item first + k: its result keeps its place in the batch (index k).
        const done = await this.store.transition(id, c.index, ({ error: _lastLost, ...it }) => (it.state === 'running' ? { ...it, state: 'succeeded', finishedAt: now } : undefined), { result: results[k], now });
        this.jobFinished(done?.job);
      }
      return;
    }
    const error = outcome && !outcome.ok ? outcome.error : { code: lost!.code, message: lost!.message };
    const attempts = Math.max(...claimed.map((c) => c.attempts));
    const retry = isRetryable(error.code) && attempts < this.options.maxAttempts;
    if (retry) {
      this.options.log?.(`job ${id} item${claimed.length > 1 ? `s ${first}..${first + count - 1}` : ` ${first}`}: attempt ${attempts} lost (${error.message}); retrying`);
      await each((i) => this.store.transition(id, i, (it) => (it.state === 'running' ? { ...it, state: 'queued', error } : undefined)));
      this.enqueue(id, first, job.total, { front: true, items: claimed.length });
      return;
    }
    const final = isRetryable(error.code) ? { ...error, message: `${error.message} (attempt ${attempts} of ${this.options.maxAttempts})` } : error;
    await each((i) => this.fail(id, i, final));
  }

  /** Back to the queue after shutdown stopped it, the attempt not counted: the item did nothing wrong. */
  private async giveBack(id: string, index: number): Promise<void> {
    await this.store.transition(id, index, (it) => (it.state === 'running' ? { ...it, state: 'queued', attempts: it.attempts - 1 } : undefined));
  }

  private async fail(id: string, index: number, error: NonNullable<ItemRecord['error']>): Promise<void> {
    const now = Date.now();
    const done = await this.store.transition(id, index, (it) => (it.state === 'queued' || it.state === 'running' ? { ...it, state: 'failed', error, finishedAt: now } : undefined), { now });
    this.jobFinished(done?.job);
  }

  /** Reports a job's latency once: only the transition that finishes it returns a job with finishedAt. */
  private jobFinished(job: JobRecord | undefined): void {
    if (job?.finishedAt !== undefined) this.onTiming?.('job', (job.finishedAt - job.createdAt) / 1000, job.state === 'completed');
  }
}

import { AttemptLostError, ProvingPool } from '../prove/pool.js';
import type { TaskOutcome } from '../prove/worker.js';
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
  private readonly queue: { id: string; index: number }[] = [];
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

  private async resume(): Promise<void> {
    let requeued = 0;
    let resumed = 0;
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
      this.queue.push({ id, index });
    }
    if (requeued + resumed) this.options.log?.(`job store: resuming ${resumed} queued and ${requeued} interrupted proofs`);
  }

  async submit(spec: JobSpec): Promise<{ job: JobView; replayed: boolean }> {
    if (this.closing) throw new UnavailableError('the service is shutting down');
    // A replay is answered before admission: it adds nothing to the queue.
    const earlier = spec.idempotency && this.store.idempotent(spec.owner, spec.idempotency.key);
    const earlierJob = earlier && this.store.job(earlier.job);
    if (earlier && earlierJob) return this.replay(spec, earlier, earlierJob);
    await admit(spec.inputs.length, this.options.maxQueue, () => this.queue.length, (depth) => Math.max(1, Math.ceil((depth * this.meanProofSeconds) / this.pool.workers)));
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
    spec.inputs.forEach((_, index) => this.queue.push({ id: record.id, index }));
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
    return { queueDepth: this.queue.length, running: this.running.size, items: { ...items }, jobs: { ...jobs }, workerRestarts: this.pool.restarts };
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
      const { id, index } = this.queue.shift()!;
      const stop = new AbortController();
      this.running.set(`${id}/${index}`, stop);
      void this.run(id, index, stop.signal)
        .catch((err) => this.options.log?.(`job ${id} item ${index}: ${(err as Error).stack ?? err}`))
        .finally(() => {
          this.running.delete(`${id}/${index}`);
          if (this.closing && this.running.size === 0) this.idle?.();
          this.pump();
        });
    }
  }

  private async run(id: string, index: number, stop: AbortSignal): Promise<void> {
    const job = this.store.job(id);
    if (!job) return; // deleted while queued
    if (job.cancelledAt !== undefined) {
      // Cancelled while queued, or put back in the queue (a retry, a restart) around the cancel:
      // finish it, so that the job finishes and can be deleted and swept.
      await this.fail(id, index, { ...CANCELLED });
      return;
    }
    const model = this.models.get(job.model);
    if (!model || model.build.manifest.circuit.sha256 !== job.circuitSha256) {
      const why = model ? 'its build was recompiled (another circuit)' : 'it is not served any more';
      await this.fail(id, index, { code: 'MODEL_UNAVAILABLE', message: `model ${job.model}: ${why} since the job was accepted` });
      return;
    }
    const started = await this.store.transition(id, index, (it) =>
      it.state === 'queued' ? { ...it, state: 'running', attempts: it.attempts + 1, startedAt: Date.now() } : undefined,
    );
    if (!started) return;
    const { attempts } = started.item;
    const stored = this.store.input(id, index);
    if (!stored) return;
    const { input, salt, recipient } = stored;
    let outcome: TaskOutcome | undefined;
    let lost: AttemptLostError | undefined;
    await this.slots.acquire();
    if (stop.reason === LocalBackend.CANCEL) {
      this.slots.release();
      await this.fail(id, index, { ...CANCELLED });
      return;
    }
    if (this.closing) {
      // Claimed but not started when shutdown began: back to the queue, the attempt given back.
      this.slots.release();
      await this.giveBack(id, index);
      return;
    }
    const t0 = performance.now();
    try {
      outcome = await this.pool.attempt(model.dir, input, { salt, recipient, timeoutMs: job.timeoutMs, signal: stop });
    } catch (err) {
      if (!(err instanceof AttemptLostError)) throw err;
      lost = err;
    } finally {
      this.slots.release();
    }
    const seconds = (performance.now() - t0) / 1000;
    if (stop.reason === LocalBackend.CANCEL && !outcome?.ok) {
      await this.fail(id, index, { code: CANCELLED.code, message: 'the job was cancelled during this proof; the proof was stopped' });
      return;
    }
    if (stop.aborted && !outcome?.ok) {
      // Stopped by shutdown, not by the item: back to the queue with the attempt given back.
      await this.giveBack(id, index);
      return;
    }
    this.onTiming?.('proof', seconds, outcome?.ok === true);
    if (outcome?.ok) {
      this.meanProofSeconds = 0.9 * this.meanProofSeconds + 0.1 * seconds;
      const now = Date.now();
      const done = await this.store.transition(id, index, ({ error: _lastLost, ...it }) => (it.state === 'running' ? { ...it, state: 'succeeded', finishedAt: now } : undefined), { result: outcome.result, now });
      this.jobFinished(done?.job);
      return;
    }
    const error = outcome && !outcome.ok ? outcome.error : { code: lost!.code, message: lost!.message };
    const retry = isRetryable(error.code) && attempts < this.options.maxAttempts;
    if (retry) {
      this.options.log?.(`job ${id} item ${index}: attempt ${attempts} lost (${error.message}); retrying`);
      await this.store.transition(id, index, (it) => (it.state === 'running' ? { ...it, state: 'queued', error } : undefined));
      this.queue.unshift({ id, index });
      return;
    }
    const final = isRetryable(error.code) ? { ...error, message: `${error.message} (attempt ${attempts} of ${this.options.maxAttempts})` } : error;
    await this.fail(id, index, final);
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

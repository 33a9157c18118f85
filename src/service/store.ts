import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { BatchItemProof, ProofResult } from '../prove/prover.js';
import { UnavailableError } from './errors.js';
import { CANCELLED, emptyProgress, isFinished, JOB_STATES, jobState, type ItemState, type JobState, type Progress } from './jobs.js';

export interface JobRecord {
  id: string;
  model: string;
  circuitSha256: string;
  total: number;
  timeoutMs: number;
  /** The API key that created the job (absent in stores written before keys existed: "anonymous"). */
  owner?: string;
  /** The Idempotency-Key it was created with, if any (its record goes with the job). */
  idempotencyKey?: string;
  createdAt: number;
  cancelledAt?: number;
  finishedAt?: number;
  state: JobState;
  /** Items per state, updated in the same transaction as the item. */
  progress: Progress;
}

export interface ItemRecord {
  state: ItemState;
  attempts: number;
  startedAt?: number;
  finishedAt?: number;
  error?: { code: string; message: string };
}

/** What an item proves: the input and the salt fixed when the job was accepted, so a retry proves the same statement. */
export interface ItemInput {
  input: number[];
  salt?: string;
  /** The address the proof is bound to (0x hex). */
  recipient?: string;
}

/** An Idempotency-Key's record: the job it created and the hash of the request that created it. */
export interface IdempotencyRecord {
  job: string;
  bodyHash: string;
}

/** Running totals over every stored job, kept in the transactions that change them: what /metrics reports without a scan. */
export interface StoreCounts {
  items: Progress;
  jobs: Record<JobState, number>;
}

type ItemKey = [string, number];
type IdempotencyKey = [string, string];
/** The finished-jobs index, in finishing order: what the retention sweep reads. */
type FinishedKey = [number, string];

const COUNTS = 'counts';
const emptyCounts = (): StoreCounts => ({ items: emptyProgress(), jobs: Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number> });

/**
 * The service's job store: LMDB (embedded, transactional, crash-safe) in one folder. Every state
 * change is one transaction that updates the item, its job's counts, the store's running totals
 * and the finished-jobs index together, committed to disk before the caller goes on, so a killed
 * process leaves either the old state or the new one. A lock file keeps a second service off the
 * same store (two schedulers would prove items twice).
 */
export class JobStore {
  private constructor(
    private readonly root: RootDatabase,
    private readonly jobs: Database<JobRecord, string>,
    private readonly items: Database<ItemRecord, ItemKey>,
    private readonly inputs: Database<ItemInput, ItemKey>,
    private readonly results: Database<ProofResult | BatchItemProof, ItemKey>,
    private readonly idempotency: Database<IdempotencyRecord, IdempotencyKey>,
    private readonly finished: Database<true, FinishedKey>,
    private readonly meta: Database<StoreCounts, string>,
    private readonly lockFile: string,
  ) {}

  static async open(dir: string): Promise<JobStore> {
    mkdirSync(dir, { recursive: true });
    const lockFile = join(dir, 'service.lock');
    takeLock(lockFile);
    const root = open({ path: join(dir, 'jobs.lmdb'), compression: false });
    const store = new JobStore(
      root,
      root.openDB<JobRecord, string>({ name: 'jobs' }),
      root.openDB<ItemRecord, ItemKey>({ name: 'items' }),
      root.openDB<ItemInput, ItemKey>({ name: 'inputs' }),
      root.openDB<ProofResult | BatchItemProof, ItemKey>({ name: 'results' }),
      root.openDB<IdempotencyRecord, IdempotencyKey>({ name: 'idempotency' }),
      root.openDB<true, FinishedKey>({ name: 'finished' }),
      root.openDB<StoreCounts, string>({ name: 'meta' }),
      lockFile,
    );
    if (!store.meta.get(COUNTS)) await store.rebuildIndexes();
    return store;
  }

  /** A store written before the running totals and the finished index existed: build both, once. */
  private async rebuildIndexes(): Promise<void> {
    await this.root.transaction(() => {
      const counts = emptyCounts();
      for (const { value: j } of this.jobs.getRange()) {
        counts.jobs[j.state]++;
        for (const s of Object.keys(j.progress) as ItemState[]) counts.items[s] += j.progress[s];
        if (j.finishedAt !== undefined) this.finished.put([j.finishedAt, j.id], true);
      }
      this.meta.put(COUNTS, counts);
    });
  }

  /**
   * Stores a new job and its items, or, when the owner used `idempotency.key` before, returns the
   * job that key created (and the body hash it came with) instead: one transaction, so two
   * requests with one key make one job.
   */
  async create(job: JobRecord, inputs: readonly ItemInput[], idempotency?: { key: string; bodyHash: string }): Promise<{ job: JobRecord; replayOf?: IdempotencyRecord }> {
    return this.root.transaction(() => {
      if (idempotency) {
        const earlier = this.idempotent(job.owner ?? 'anonymous', idempotency.key);
        const earlierJob = earlier && this.jobs.get(earlier.job);
        if (earlier && earlierJob) return { job: earlierJob, replayOf: earlier };
        this.idempotency.put([job.owner ?? 'anonymous', idempotency.key], { job: job.id, bodyHash: idempotency.bodyHash });
      }
      this.jobs.put(job.id, job);
      inputs.forEach((input, i) => {
        this.inputs.put([job.id, i], input);
        this.items.put([job.id, i], { state: 'queued', attempts: 0 });
      });
      this.count((c) => {
        c.jobs[job.state]++;
        c.items.queued += inputs.length;
      });
      return { job };
    });
  }

  idempotent(owner: string, key: string): IdempotencyRecord | undefined {
    return this.idempotency.get([owner, key]);
  }

  job(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  /** Running totals over every stored job (one read, no scan). */
  counts(): StoreCounts {
    return this.meta.get(COUNTS) ?? emptyCounts();
  }

  item(id: string, index: number): ItemRecord | undefined {
    return this.items.get([id, index]);
  }

  itemRange(id: string, offset: number, limit: number): { index: number; item: ItemRecord; result?: ProofResult }[] {
    const out: { index: number; item: ItemRecord; result?: ProofResult }[] = [];
    for (const { key, value } of this.items.getRange({ start: [id, offset], end: [id, offset + limit] })) {
      const result = this.results.get(key);
      out.push({ index: key[1], item: value, ...(result ? { result } : {}) });
    }
    return out;
  }

  /** An item's input and salt; undefined once its job was deleted. */
  input(id: string, index: number): ItemInput | undefined {
    return this.inputs.get([id, index]);
  }

  /** Items not finished, in job-creation order: what a restarted service resumes. */
  *unfinished(): Iterable<{ id: string; index: number; item: ItemRecord }> {
    for (const { key, value } of this.items.getRange()) {
      if (value.state === 'queued' || value.state === 'running') yield { id: key[0], index: key[1], item: value };
    }
  }

  /** Ids of jobs that finished before `before` (ms since the epoch), oldest first. */
  finishedBefore(before: number, limit = 1000): string[] {
    return [...this.finished.getKeys({ end: [before, ''], limit })].map((k) => k[1]);
  }

  /**
   * Moves an item to `next` and its job's counts with it, in one transaction. `guard` sees the
   * stored item and may refuse the change (returns undefined): a finished item never changes again.
   */
  async transition(
    id: string,
    index: number,
    next: (item: ItemRecord) => ItemRecord | undefined,
    extra?: { result?: ProofResult; now?: number },
  ): Promise<{ item: ItemRecord; job: JobRecord } | undefined> {
    return this.root.transaction(() => {
      const item = this.items.get([id, index]);
      const job = this.jobs.get(id);
      if (!item || !job) return undefined;
      const changed = next(item);
      if (!changed) return undefined;
      this.items.put([id, index], changed);
      if (extra?.result) this.results.put([id, index], extra.result);
      return { item: changed, job: this.moveItems(job, [[item.state, changed.state]], extra?.now ?? Date.now()) };
    });
  }

  /**
   * Cancels a job: marks it, and fails its queued items with CANCELLED, in one transaction.
   * Running items are the caller's to stop. Undefined for an unknown job.
   */
  async cancel(id: string, now = Date.now()): Promise<JobRecord | undefined> {
    return this.root.transaction(() => {
      const job = this.jobs.get(id);
      if (!job) return undefined;
      if (job.cancelledAt !== undefined || isFinished(job.state)) return job;
      const moves: [ItemState, ItemState][] = [];
      for (const { key, value } of this.items.getRange({ start: [id, 0], end: [id, job.total] })) {
        if (value.state !== 'queued') continue;
        this.items.put(key, { ...value, state: 'failed', error: { ...CANCELLED }, finishedAt: now });
        moves.push(['queued', 'failed']);
      }
      return this.moveItems({ ...job, cancelledAt: now }, moves, now);
    });
  }

  /**
   * Deletes a finished job with its items, inputs, salts, results and idempotency record, in one
   * transaction. 'unfinished' (nothing deleted) while it has queued or running items.
   */
  async remove(id: string): Promise<'removed' | 'unfinished' | 'unknown'> {
    return this.root.transaction(() => {
      const job = this.jobs.get(id);
      if (!job) return 'unknown';
      if (!isFinished(job.state)) return 'unfinished';
      for (const key of this.items.getKeys({ start: [id, 0], end: [id, job.total] })) {
        this.items.remove(key);
        this.inputs.remove(key);
        this.results.remove(key);
      }
      if (job.idempotencyKey !== undefined) this.idempotency.remove([job.owner ?? 'anonymous', job.idempotencyKey]);
      if (job.finishedAt !== undefined) this.finished.remove([job.finishedAt, id]);
      this.jobs.remove(id);
      this.count((c) => {
        c.jobs[job.state]--;
        for (const s of Object.keys(job.progress) as ItemState[]) c.items[s] -= job.progress[s];
      });
      return 'removed';
    });
  }

  async close(): Promise<void> {
    await this.root.close();
    rmSync(this.lockFile, { force: true });
  }

  /** Inside a transaction: moves item counts of `job`, its state, the totals and the finished index. */
  private moveItems(job: JobRecord, moves: readonly [ItemState, ItemState][], now: number): JobRecord {
    const progress = { ...job.progress };
    for (const [from, to] of moves) {
      progress[from]--;
      progress[to]++;
    }
    const state = jobState(job.total, progress, job.cancelledAt !== undefined);
    const finishing = isFinished(state) && job.finishedAt === undefined;
    const next: JobRecord = { ...job, progress, state, ...(finishing ? { finishedAt: now } : {}) };
    this.jobs.put(job.id, next);
    if (finishing) this.finished.put([now, job.id], true);
    this.count((c) => {
      c.jobs[job.state]--;
      c.jobs[state]++;
      for (const [from, to] of moves) {
        c.items[from]--;
        c.items[to]++;
      }
    });
    return next;
  }

  /** Inside a transaction: updates the running totals. */
  private count(change: (c: StoreCounts) => void): void {
    const c = this.meta.get(COUNTS) ?? emptyCounts();
    change(c);
    this.meta.put(COUNTS, c);
  }
}

export function newJobRecord(id: string, model: string, circuitSha256: string, total: number, timeoutMs: number, owner: string, idempotencyKey?: string): JobRecord {
  return {
    id,
    model,
    circuitSha256,
    total,
    timeoutMs,
    owner,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    createdAt: Date.now(),
    state: 'queued',
    progress: { ...emptyProgress(), queued: total },
  };
}

/** Creates the lock file with our pid; a lock whose process is gone is taken over. */
function takeLock(file: string): void {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new UnavailableError(`the job store ${file.replace(/service\.lock$/, '')} is in use by process ${pid}; one service per store`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new UnavailableError(`could not lock the job store (${file})`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

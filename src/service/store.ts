import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { ProofResult } from '../prove/prover.js';
import { UnavailableError } from './errors.js';
import { emptyProgress, jobState, type ItemState, type JobState, type Progress } from './jobs.js';

export interface JobRecord {
  id: string;
  model: string;
  circuitSha256: string;
  total: number;
  timeoutMs: number;
  createdAt: number;
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
}

type ItemKey = [string, number];

/**
 * The service's job store: LMDB (embedded, transactional, crash-safe) in one folder. Every state
 * change is one transaction that updates the item and its job's counts together, committed to disk
 * before the caller goes on, so a killed process leaves either the old state or the new one.
 * A lock file keeps a second service off the same store (two schedulers would prove items twice).
 */
export class JobStore {
  private constructor(
    private readonly root: RootDatabase,
    private readonly jobs: Database<JobRecord, string>,
    private readonly items: Database<ItemRecord, ItemKey>,
    private readonly inputs: Database<ItemInput, ItemKey>,
    private readonly results: Database<ProofResult, ItemKey>,
    private readonly lockFile: string,
  ) {}

  static open(dir: string): JobStore {
    mkdirSync(dir, { recursive: true });
    const lockFile = join(dir, 'service.lock');
    takeLock(lockFile);
    const root = open({ path: join(dir, 'jobs.lmdb'), compression: false });
    return new JobStore(
      root,
      root.openDB<JobRecord, string>({ name: 'jobs' }),
      root.openDB<ItemRecord, ItemKey>({ name: 'items' }),
      root.openDB<ItemInput, ItemKey>({ name: 'inputs' }),
      root.openDB<ProofResult, ItemKey>({ name: 'results' }),
      lockFile,
    );
  }

  async create(job: JobRecord, inputs: readonly ItemInput[]): Promise<void> {
    await this.root.transaction(() => {
      this.jobs.put(job.id, job);
      inputs.forEach((input, i) => {
        this.inputs.put([job.id, i], input);
        this.items.put([job.id, i], { state: 'queued', attempts: 0 });
      });
    });
  }

  job(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  *allJobs(): Iterable<JobRecord> {
    for (const { value } of this.jobs.getRange()) yield value;
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

  input(id: string, index: number): ItemInput {
    const v = this.inputs.get([id, index]);
    if (!v) throw new Error(`job store: item ${id}/${index} has no input`);
    return v;
  }

  /** Items not finished, in job-creation order: what a restarted service resumes. */
  *unfinished(): Iterable<{ id: string; index: number; item: ItemRecord }> {
    for (const { key, value } of this.items.getRange()) {
      if (value.state === 'queued' || value.state === 'running') yield { id: key[0], index: key[1], item: value };
    }
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
      const progress = { ...job.progress };
      progress[item.state]--;
      progress[changed.state]++;
      const state = jobState(job.total, progress);
      const finished = state === 'completed' || state === 'failed';
      const nextJob: JobRecord = { ...job, progress, state, ...(finished && !job.finishedAt ? { finishedAt: extra?.now ?? Date.now() } : {}) };
      this.items.put([id, index], changed);
      this.jobs.put(id, nextJob);
      if (extra?.result) this.results.put([id, index], extra.result);
      return { item: changed, job: nextJob };
    });
  }

  async close(): Promise<void> {
    await this.root.close();
    rmSync(this.lockFile, { force: true });
  }
}

export function newJobRecord(id: string, model: string, circuitSha256: string, total: number, timeoutMs: number): JobRecord {
  return { id, model, circuitSha256, total, timeoutMs, createdAt: Date.now(), state: 'queued', progress: { ...emptyProgress(), queued: total } };
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

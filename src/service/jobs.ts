import { createHash, randomBytes } from 'node:crypto';
import { itemMasterSalts, randomSalt } from '../commit/statement.js';
import { usesSalt } from '../commit/visibility.js';
import type { BatchItemProof, ProofResult } from '../prove/prover.js';
import { InvalidRequestError, QueueFullError } from './errors.js';
import type { ServedModel } from './models.js';

/**
 * A job proves one or more inputs of one model. Each input is an item, proved on its own by one
 * worker; the job is finished when every item is.
 */
export type ItemState = 'queued' | 'running' | 'succeeded' | 'failed';
/** A cancelled job's unfinished items fail with code CANCELLED; once none is running the job is `cancelled`. */
export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export const ITEM_STATES: readonly ItemState[] = ['queued', 'running', 'succeeded', 'failed'];
export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];

export const isFinished = (state: JobState) => state === 'completed' || state === 'failed' || state === 'cancelled';

/** The error of an item stopped by a cancel. */
export const CANCELLED = { code: 'CANCELLED', message: 'the job was cancelled before this input was proved' } as const;

export type Progress = Record<ItemState, number>;

export interface JobSpec {
  model: ServedModel;
  inputs: number[][];
  /** One commitment salt (decimal) for every item; absent: a random salt per item, fixed when the job is accepted. */
  salt?: string;
  /** The address every proof of the job is bound to (0x hex); absent: none. */
  recipient?: string;
  /** Time limit of each proving attempt of this job. */
  timeoutMs: number;
  /** The API key that creates the job (Principal.id): the only one that may see, cancel or delete it. */
  owner: string;
  /** POST /v1/jobs's Idempotency-Key (scoped to the owner) and the SHA-256 of the request it came with. */
  idempotency?: { key: string; bodyHash: string };
}

export interface JobView {
  id: string;
  model: string;
  circuitSha256: string;
  state: JobState;
  total: number;
  progress: Progress;
  timeoutMs: number;
  /** The id of the API key that created the job. */
  owner: string;
  createdAt: string;
  cancelledAt?: string;
  finishedAt?: string;
}

export interface ItemView {
  index: number;
  state: ItemState;
  /** Proving attempts started, the successful one included. */
  attempts: number;
  error?: { code: string; message: string };
  /** The proof; for a batched build, the batch's proof with this item's opening (BatchItemProof). */
  result?: ProofResult | BatchItemProof;
  startedAt?: string;
  finishedAt?: string;
}

/** What the metrics endpoint reads from a backend. */
export interface BackendStats {
  queueDepth: number;
  running: number;
  items: Progress;
  jobs?: Record<JobState, number>;
  workerRestarts: number;
}

/** Where jobs live and run: the embedded store with an in-process pool, or BullMQ on Redis. */
export interface JobBackend {
  readonly kind: 'local' | 'redis';
  /**
   * Accepts a job once it is durably stored or queued; throws QueueFullError past the bound. With
   * an idempotency key the owner used before, returns that job instead (`replayed`), or throws
   * IdempotencyKeyReusedError if it came with another body.
   */
  submit(spec: JobSpec): Promise<{ job: JobView; replayed: boolean }>;
  /** Throws NotFoundError for an unknown id. */
  job(id: string): Promise<JobView>;
  /** The API key that created the job (one read, no items); NotFoundError for an unknown id. */
  owner(id: string): Promise<string>;
  items(id: string, offset: number, limit: number): Promise<ItemView[]>;
  /** Fails the job's queued items (CANCELLED) and stops its running proofs; ConflictError for a completed or failed job. */
  cancel(id: string): Promise<JobView>;
  /** Deletes a finished job with its inputs, salts, results and idempotency record; ConflictError while it is unfinished. */
  remove(id: string): Promise<void>;
  /** Retention: deletes jobs that finished before `finishedBefore` (ms since the epoch); returns how many. */
  sweep(finishedBefore: number): Promise<number>;
  stats(): Promise<BackendStats>;
  /** Called with the wall time of each finished proof attempt, and of each finished job (submission to end). */
  onTiming?: (kind: 'proof' | 'job', seconds: number, ok: boolean) => void;
  /** Stops taking work; running proofs finish within `drainMs` or go back to the queue. */
  close(drainMs: number): Promise<void>;
}

/**
 * Whether a failed proving attempt may succeed on another try: the worker died or ran out of time,
 * or the prover threw something other than a typed zkml error. A typed error (the input, the
 * build) would fail the same way again.
 */
export function isRetryable(code: string): boolean {
  return code === 'INTERNAL' || code === 'WORKER' || code === 'TIMEOUT' || code === 'WORKER_CRASHED';
}

/**
 * The queue bound, the same for every backend: a job larger than the whole queue can never be
 * accepted (413); one that does not fit now is refused with 429 and a hint of when to retry.
 */
export async function admit(size: number, maxQueue: number, queueDepth: () => number | Promise<number>, retryAfterSeconds: (depth: number) => number): Promise<void> {
  if (size > maxQueue) throw new InvalidRequestError(`a job of ${size} inputs is larger than the whole queue (${maxQueue}); split it`, 413);
  const depth = await queueDepth();
  if (depth + size > maxQueue) throw new QueueFullError(depth, maxQueue, retryAfterSeconds(depth));
}

/**
 * Each item's master salt, fixed when the job is accepted so that a retry proves the same
 * statement: the job's salt for a single input, batchSalt(salt, index) for each item of a batch,
 * else a random one per item; none for a build that commits to nothing salted.
 */
export async function itemSalts(spec: JobSpec): Promise<(string | undefined)[]> {
  if (!usesSalt(spec.model.build.manifest.visibility)) return spec.inputs.map(() => undefined);
  const { salt } = spec;
  if (salt === undefined) return spec.inputs.map(() => String(randomSalt()));
  return (await itemMasterSalts(BigInt(salt), spec.inputs.length)).map(String);
}

/** Job ids sort by creation time (9 base36 digits of milliseconds) and are unguessable (128 random bits). */
export function newJobId(): string {
  return Date.now().toString(36).padStart(9, '0') + randomBytes(16).toString('hex');
}

export function jobState(total: number, p: Progress, cancelled = false): JobState {
  if (p.succeeded + p.failed === total) return cancelled ? 'cancelled' : p.failed > 0 ? 'failed' : 'completed';
  return p.running > 0 || p.succeeded + p.failed > 0 ? 'running' : 'queued';
}

export const emptyProgress = (): Progress => ({ queued: 0, running: 0, succeeded: 0, failed: 0 });

/** SHA-256 of a request body in a canonical form (keys sorted), for idempotency: the same JSON in another key order is the same request. */
export function bodyHash(body: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canon(body))).digest('hex');
}


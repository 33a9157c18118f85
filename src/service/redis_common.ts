import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { itemProofs, type BatchProofResult, type ProofResult } from '../prove/prover.js';
import { UnavailableError } from './errors.js';
import type { ItemView } from './jobs.js';
import type { ServedModel } from './models.js';

/** What a BullMQ job proves: one input's proof, or a batched build's proof of a group of inputs. */
export type Proved = ProofResult | BatchProofResult;

/**
 * What one BullMQ job carries: one item of a service job, or, for a batched build, the group of
 * items `index` .. `index + group.inputs.length - 1` proved together (jobId: its first item's).
 */
export interface ItemData {
  job: string;
  index: number;
  total: number;
  model: string;
  circuitSha256: string;
  /** The API key that created the job. */
  owner?: string;
  input: number[];
  salt?: string;
  /** The address the proof is bound to (0x hex). */
  recipient?: string;
  timeoutMs: number;
  /** A batched build's group: every item's input and master salt (`input`, `salt`: the first's). */
  group?: { inputs: number[][]; salts?: string[] };
}

/** Redis key of the counter every worker process adds its replaced threads to. */
export const RESTARTS_KEY = 'zkml:worker-restarts';
/** Hash: service job id -> JobMeta (JSON). */
export const JOB_INDEX_KEY = 'zkml:jobs';

/** A job's entry in the index: what its view needs besides its items, and the marks of a cancel and a delete. */
export interface JobMeta {
  queue: string;
  model: string;
  circuitSha256: string;
  total: number;
  timeoutMs: number;
  owner: string;
  createdAt: number;
  /** Redis key of its idempotency record. */
  idempotency?: string;
  cancelledAt?: number;
  /** Items per BullMQ job: a batched build's size (absent: 1). */
  batchSize?: number;
  /** Written by the first retention sweep that sees the job finished. */
  finishedAt?: number;
  /** Set before its items are removed: the job reads as unknown from then on. */
  deleting?: boolean;
}

/** An index entry; undefined for one written before entries were JSON (the queue name alone). */
export function parseJobMeta(raw: string): JobMeta | undefined {
  return raw.startsWith('{') ? (JSON.parse(raw) as JobMeta) : undefined;
}

/** Whether a worker should stop proving the job's items: it was cancelled, or is gone (deleted). */
export async function jobStopped(redis: Redis, job: string): Promise<boolean> {
  const raw = await redis.hget(JOB_INDEX_KEY, job);
  if (raw === null) return true;
  const meta = parseJobMeta(raw);
  return meta !== undefined && (meta.cancelledAt !== undefined || meta.deleting === true);
}

/**
 * One queue per model and circuit: a worker only takes items of builds it has, and an item queued
 * for one circuit is never proved with another (a recompiled build gets a new queue).
 */
export function queueName(m: ServedModel): string {
  return `zkml.${m.name}.${m.build.manifest.circuit.sha256.slice(0, 16)}`;
}

export const itemId = (job: string, index: number) => `${job}.${index}`;

/** A connection that fails fast with a clear message when Redis is not there. */
export async function connectRedis(url: string): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error();
  } catch {
    throw new UnavailableError(`--redis: "${url}" is not a redis:// URL`);
  }
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: 5000, retryStrategy: (n) => Math.min(n * 200, 2000) });
  redis.on('error', () => {}); // reconnects are ioredis' job; commands wait for it
  try {
    await Promise.race([redis.connect(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 5000))]);
  } catch (err) {
    redis.disconnect();
    throw new UnavailableError(`cannot reach Redis at ${url}: ${(err as Error).message}`);
  }
  return redis;
}

/** Permanent failures carry the prover's error code in front of the message. */
export function failureReason(code: string, message: string): string {
  return `${code}: ${message}`;
}

/** The view of item `index` of a BullMQ job (its own, or one of its group's: the group's state, and its own result). */
export async function itemView(job: Job<ItemData, Proved>, index = job.data.index): Promise<ItemView> {
  const attempts = job.attemptsStarted ?? job.attemptsMade;
  const times = {
    ...(job.processedOn ? { startedAt: new Date(job.processedOn).toISOString() } : {}),
    ...(job.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
  };
  if (job.finishedOn && job.returnvalue) {
    const r = job.returnvalue;
    return { index, state: 'succeeded', attempts, result: 'items' in r ? itemProofs(r)[index - job.data.index] : r, ...times };
  }
  if (job.finishedOn) {
    const m = /^([A-Z_]+): ([\s\S]*)$/.exec(job.failedReason ?? '');
    return { index, state: 'failed', attempts, error: m ? { code: m[1], message: m[2] } : { code: 'FAILED', message: job.failedReason }, ...times };
  }
  const state = await job.getState();
  return { index, state: state === 'active' ? 'running' : 'queued', attempts, ...times };
}

/** The BullMQ job holding item `index`: its own, or its group's (a batched build's, keyed by the group's first item). */
export const holderOf = (index: number, batchSize = 1) => index - (index % batchSize);

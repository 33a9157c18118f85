/**
 * One batch of pool cycles for src/bench/lifecycle.ts, in its own process:
 *   node dist/src/bench/lifecycle_child.js '<CycleBatch JSON>'
 * Each cycle is what the benchmark does per worker count (src/bench/measure.ts): a new
 * ProvingPool, one warm-up proof per worker, a batch, destroy. Prints `cycle <k>` after each.
 * The whole library is loaded in this (main) thread first, as in the benchmark's processes.
 */
import * as z from '../index.js';

export interface CycleBatch {
  build: string;
  inputs: number[][];
  /** Global index of the first cycle; cycle k uses workers[k % workers.length] threads. */
  from: number;
  count: number;
  workers: number[];
  batchPerWorker: number;
}

const batch = JSON.parse(process.argv[2] ?? '{}') as CycleBatch;
await z.releaseCurves();
for (let k = batch.from; k < batch.from + batch.count; k++) {
  const w = batch.workers[k % batch.workers.length];
  const pool = new z.ProvingPool(batch.build, w);
  try {
    await pool.warmUp(batch.inputs[k % batch.inputs.length]);
    const items = await pool.prove(Array.from({ length: w * batch.batchPerWorker }, (_, i) => batch.inputs[(k + i) % batch.inputs.length]));
    const failed = items.find((i) => !i.outcome.ok);
    if (failed && !failed.outcome.ok) throw new Error(`cycle ${k}: proof ${failed.index} failed: ${failed.outcome.error.code}: ${failed.outcome.error.message}`);
  } finally {
    await pool.destroy();
  }
  process.stdout.write(`cycle ${k}\n`);
}

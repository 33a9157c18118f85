import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { join } from 'node:path';
import { loadBuild } from '../compile/manifest.js';
import { writeJsonAtomic } from '../files.js';
import { Prover } from './prover.js';

/**
 * How a proving pool spreads its cores: one single-threaded prover per core (no contention inside
 * a proof, but one copy of the proving key per worker), or one prover whose proof uses every core
 * (snarkjs' multi-threaded FFTs and multi-exponentiations; one key in memory).
 */
export interface PoolLayout {
  workers: number;
  threadsPerWorker: 1 | 'all';
  /** Why: the measured proof times, and whether memory decided. */
  reason: string;
}

interface Measurement {
  zkeyBytes: number;
  zkeyMtimeMs: number;
  cores: number;
  singleMs: number;
  multiMs: number;
}

/** Proving memory per worker, as a multiple of the key's size (measured: LeNet-5 790 MB for a 133 MB key, CIFAR 3.1 GB for 0.8 GB). */
const MEMORY_PER_KEY_BYTE = 6;

/**
 * Picks the pool layout for a build by measurement: one proof single-threaded and one with every
 * core, timed after a warm-up proof each, recorded in <build>/pool_layout.json (remeasured when
 * the key or the core count changes). N single-threaded workers win when N / single > 1 / multi,
 * unless N copies of the proving memory would not fit in free memory.
 */
export async function choosePoolLayout(buildDir: string, cores = availableParallelism()): Promise<PoolLayout> {
  const build = loadBuild(buildDir);
  const file = join(build.paths.root, 'pool_layout.json');
  const key = statSync(build.paths.zkey);
  let m: Measurement | undefined = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Measurement) : undefined;
  if (!m || m.zkeyBytes !== key.size || m.zkeyMtimeMs !== key.mtimeMs || m.cores !== cores) {
    // The lowest accepted value of every input: always in range, and the proof's cost does not depend on it.
    const input = build.manifest.inputs.flatMap((t) => t.featureMin ?? new Array<number>(t.shape.reduce((a, b) => a * b, 1)).fill(t.floatMin));
    const time = async (singleThread: boolean) => {
      const prover = await Prover.load(buildDir, { singleThread });
      try {
        // A batched build's proof costs the same for one item as for a full batch (padding).
        const prove = () => (prover.batchSize > 1 ? prover.proveBatch([input]) : prover.prove(input));
        await prove();
        return (await prove()).timings.proveMs;
      } finally {
        await prover.close();
      }
    };
    m = { zkeyBytes: key.size, zkeyMtimeMs: key.mtimeMs, cores, singleMs: await time(true), multiMs: await time(false) };
    writeJsonAtomic(file, m);
  }
  return layoutFrom(m, freemem());
}

/** The choice from a measurement and the free memory (separate, so that it is testable). */
export function layoutFrom(m: Pick<Measurement, 'zkeyBytes' | 'cores' | 'singleMs' | 'multiMs'>, free: number): PoolLayout {
  const times = `${m.cores} x single-threaded ${(m.cores / (m.singleMs / 1000)).toFixed(2)} proofs/s, one ${m.cores}-thread prover ${(1 / (m.multiMs / 1000)).toFixed(2)} proofs/s`;
  if (m.cores > 1 && m.cores * m.zkeyBytes * MEMORY_PER_KEY_BYTE > free) {
    return { workers: 1, threadsPerWorker: 'all', reason: `${m.cores} provers would need about ${((m.cores * m.zkeyBytes * MEMORY_PER_KEY_BYTE) / 2 ** 30).toFixed(1)} GB, ${(free / 2 ** 30).toFixed(1)} GB free (${times})` };
  }
  return m.cores / m.singleMs >= 1 / m.multiMs
    ? { workers: m.cores, threadsPerWorker: 1, reason: times }
    : { workers: 1, threadsPerWorker: 'all', reason: times };
}

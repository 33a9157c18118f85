import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ZkmlError } from '../errors.js';
import type { Logger } from './curve.js';
import { generateDevPtau } from './dev_ptau.js';
import type { SetupProgress } from './fixed_base.js';

export class SetupError extends ZkmlError {
  readonly code = 'SETUP';
}

export interface PtauInfo {
  file: string;
  power: number;
  /**
   * 'dev': a development ptau whose secret is public: generated here, or a --ptau file whose
   * contributions are all beacons; 'file': a --ptau file with at least one secret contribution.
   */
  source: 'dev' | 'file';
  /** Anyone can recompute tau, alpha and beta (every contribution is a beacon): keys made from it are forgeable. */
  secretPublic: boolean;
  /** Phase-1 contributions recorded in the file, and how many are beacons (read for --ptau files). */
  contributions?: number;
  beacons?: number;
}

/** The smallest power of tau snarkjs accepts for a circuit (same formula as its zkey new). */
export function requiredPower(constraints: number, publicSignals: number): number {
  return Math.floor(Math.log2(constraints + publicSignals)) + 1;
}

/** Dev ptaus are never smaller than this, so small models share one cached file. */
const MIN_DEV_POWER = 11;

export const DEV_WARNING = [
  '*******************************************************************************************',
  '* INSECURE DEVELOPMENT POWERS OF TAU: generated on this machine from one beacon that the  *',
  '* file records, so anyone holding it can rebuild its secret, and the dev keys made from   *',
  '* it have no phase-2 secret: anyone who can read their verifying key can forge proofs.    *',
  '* verify, serve and deployments to public chains refuse them without --insecure-dev-keys. *',
  '* Use --ptau with a file from a public ceremony (e.g. the Hermez/Polygon ptau files) and  *',
  '* `zkml ceremony` for anything that matters.                                              *',
  '*******************************************************************************************',
].join('\n');

/**
 * Returns a cached dev powers-of-tau of at least `power`, generating it (src/setup/dev_ptau.ts)
 * when there is none. Written to a temporary name, then renamed.
 */
export async function devPtau(power: number, cacheDir: string, log: Logger, progress?: SetupProgress): Promise<PtauInfo> {
  mkdirSync(cacheDir, { recursive: true });
  const cached = readdirSync(cacheDir)
    .map((f) => /^dev_bn128_(\d+)\.ptau$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= power)
    .sort((a, b) => Number(a[1]) - Number(b[1]))[0];
  if (cached) return { file: join(cacheDir, cached[0]), power: Number(cached[1]), source: 'dev', secretPublic: true };

  const p = Math.max(power, MIN_DEV_POWER);
  const file = join(cacheDir, `dev_bn128_${p}.ptau`);
  const tmp = `${file}.tmp-${process.pid}`;
  log(DEV_WARNING);
  log(`generating a dev powers of tau 2^${p} (once; cached in ${cacheDir})`);
  try {
    await generateDevPtau(p, tmp, log, undefined, progress);
    renameSync(tmp, file);
  } finally {
    if (existsSync(tmp)) rmSync(tmp);
  }
  return { file, power: p, source: 'dev', secretPublic: true };
}

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ZkmlError } from '../errors.js';
import { snarkjs, snarkLogger, type Logger } from './curve.js';

export class SetupError extends ZkmlError {
  readonly code = 'SETUP';
}

export interface PtauInfo {
  file: string;
  power: number;
  /** 'dev': generated here from a local secret (insecure); 'file': supplied by the user. */
  source: 'dev' | 'file';
}

/** The smallest power of tau snarkjs accepts for a circuit (same formula as its zkey new). */
export function requiredPower(constraints: number, publicSignals: number): number {
  return Math.floor(Math.log2(constraints + publicSignals)) + 1;
}

/** Dev ptaus are never smaller than this, so small models share one cached file. */
const MIN_DEV_POWER = 11;

export const DEV_WARNING = [
  '*****************************************************************************************',
  '* INSECURE DEVELOPMENT POWERS OF TAU: generated on this machine with a single local      *',
  '* contribution. Whoever knows its randomness can forge proofs. Use --ptau with a file    *',
  '* from a public ceremony (e.g. the Hermez/Polygon ptau files) for anything that matters. *',
  '*****************************************************************************************',
].join('\n');

/**
 * Returns a cached dev powers-of-tau of at least `power`, generating it (new accumulator, one
 * contribution, prepare phase 2) when there is none. Written to a temporary name, then renamed.
 */
export async function devPtau(power: number, cacheDir: string, log: Logger): Promise<PtauInfo> {
  mkdirSync(cacheDir, { recursive: true });
  const cached = readdirSync(cacheDir)
    .map((f) => /^dev_bn128_(\d+)\.ptau$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= power)
    .sort((a, b) => Number(a[1]) - Number(b[1]))[0];
  if (cached) return { file: join(cacheDir, cached[0]), power: Number(cached[1]), source: 'dev' };

  const p = Math.max(power, MIN_DEV_POWER);
  const file = join(cacheDir, `dev_bn128_${p}.ptau`);
  const tmp = `${file}.tmp-${process.pid}`;
  log(DEV_WARNING);
  log(`generating a dev powers of tau 2^${p} (once; cached in ${cacheDir})`);
  const errors: string[] = [];
  const logger = snarkLogger(() => {}, errors);
  try {
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    let t = performance.now();
    await snarkjs.powersOfTau.newAccumulator(curve, p, `${tmp}.0`, logger);
    await snarkjs.powersOfTau.contribute(`${tmp}.0`, `${tmp}.1`, 'zkml dev', randomBytes(32).toString('hex'), logger);
    log(`  phase 1 contribution: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    log('  preparing phase 2 (Lagrange basis; the slow step)');
    await snarkjs.powersOfTau.preparePhase2(`${tmp}.1`, tmp, logger);
    log(`  prepare phase 2: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    if (errors.length) throw new SetupError(`powers of tau generation failed: ${errors.join('; ')}`);
    renameSync(tmp, file);
  } finally {
    for (const f of [`${tmp}.0`, `${tmp}.1`, tmp]) if (existsSync(f)) rmSync(f);
  }
  return { file, power: p, source: 'dev' };
}

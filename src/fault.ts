import { unlinkSync } from 'node:fs';

/**
 * Fault injection, for tests: ZKML_FAULT=<kind>:<file>. The one caller that removes <file> first,
 * in any thread or process, gets the fault; every other caller gets undefined. `kinds` are the
 * faults the caller implements:
 *  - proving worker (src/prove/worker.ts): `crash` (the thread exits in the middle of the proof),
 *    `throw` (an uncaught exception in the thread), `hang` (the proof never finishes),
 *    `start-throw` (the thread fails to start: an exception as its module loads);
 *  - fixed-base setup worker (src/setup/fixed_base_worker.ts): `setup-crash` (the thread exits on
 *    its first request);
 *  - snarkjs' curve threads (src/setup/curve.ts): `curve-crash` (a thread is terminated right
 *    after it is given a job).
 */
export function claimFault<K extends string>(kinds: readonly K[]): K | undefined {
  const spec = process.env.ZKML_FAULT;
  const colon = spec?.indexOf(':') ?? -1;
  if (!spec || colon < 0) return undefined;
  const kind = spec.slice(0, colon) as K;
  if (!kinds.includes(kind)) return undefined;
  try {
    unlinkSync(spec.slice(colon + 1));
    return kind;
  } catch {
    return undefined;
  }
}

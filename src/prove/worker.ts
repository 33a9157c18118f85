/**
 * Piscina worker: one task = float inference, quantization, witness and a single-threaded Groth16
 * proof for one input. The Prover (model, witness calculator, zkey) is loaded once per worker.
 */
import { buildBn128 } from 'ffjavascript';
import { unlinkSync } from 'node:fs';
import { ZkmlError } from '../errors.js';
import { Prover, type ProofResult } from './prover.js';

export interface ProveTask {
  buildDir: string;
  input: number[];
  /** Commitment salt (decimal) for hashed builds; random when absent. */
  salt?: string;
}

export type TaskOutcome = { ok: true; result: ProofResult } | { ok: false; error: { code: string; message: string } };

const provers = new Map<string, Promise<Prover>>();

/**
 * snarkjs' single-threaded mode builds a fresh curve (WASM instance and tables, ~100 ms) for every
 * proof. Its multi-threaded mode reuses `globalThis.curve_bn128`, so a single-threaded curve put
 * there once serves every proof of this worker without spawning threads: one core per worker.
 */
const curveReady = buildBn128(true).then((curve) => {
  (globalThis as { curve_bn128?: unknown }).curve_bn128 = curve;
});

/**
 * Fault injection, for the service's fault tests: ZKML_FAULT=crash:<file> or hang:<file>. The one
 * task that removes <file> first has its thread exit in the middle of the proof, or never finishes.
 */
function claimFault(): 'crash' | 'hang' | undefined {
  const spec = process.env.ZKML_FAULT;
  const match = spec?.match(/^(crash|hang):(.+)$/);
  if (!match) return undefined;
  try {
    unlinkSync(match[2]);
    return match[1] as 'crash' | 'hang';
  } catch {
    return undefined;
  }
}

export default async function proveTask(task: ProveTask): Promise<TaskOutcome> {
  const fault = claimFault();
  if (fault === 'hang') await new Promise(() => {});
  if (fault === 'crash') setTimeout(() => process.exit(70), 10);
  try {
    await curveReady;
    let prover = provers.get(task.buildDir);
    if (!prover) {
      prover = Prover.load(task.buildDir);
      provers.set(task.buildDir, prover);
      prover.catch(() => provers.delete(task.buildDir));
    }
    return { ok: true, result: await (await prover).prove(task.input, { salt: task.salt === undefined ? undefined : BigInt(task.salt) }) };
  } catch (err) {
    const code = err instanceof ZkmlError ? err.code : 'INTERNAL';
    return { ok: false, error: { code, message: (err as Error).message } };
  }
}

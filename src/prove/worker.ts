/**
 * Piscina worker: one task = float inference, quantization, witness and a single-threaded Groth16
 * proof for one input. The Prover (model, witness calculator, zkey) is loaded once per worker.
 */
import { ZkmlError } from '../errors.js';
import { Prover, type ProofResult } from './prover.js';

export interface ProveTask {
  buildDir: string;
  input: number[];
}

export type TaskOutcome = { ok: true; result: ProofResult } | { ok: false; error: { code: string; message: string } };

const provers = new Map<string, Promise<Prover>>();

export default async function proveTask(task: ProveTask): Promise<TaskOutcome> {
  try {
    let prover = provers.get(task.buildDir);
    if (!prover) {
      prover = Prover.load(task.buildDir, { singleThread: true });
      provers.set(task.buildDir, prover);
      prover.catch(() => provers.delete(task.buildDir));
    }
    return { ok: true, result: await (await prover).prove(task.input) };
  } catch (err) {
    const code = err instanceof ZkmlError ? err.code : 'INTERNAL';
    return { ok: false, error: { code, message: (err as Error).message } };
  }
}

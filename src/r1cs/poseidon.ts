/**
 * circomlib's Poseidon (poseidon.circom) as constraints: the same permutation (circomlibjs'
 * round constants C and MDS matrices M, 8 full rounds, N_ROUNDS_P partial rounds) and the same
 * cost, 3 constraints per S-box x^5 whose input is not constant. The permutation's linear layers
 * are linear combinations and cost nothing.
 */
import { blocks } from '../commit/poseidon.js';
import { readPoseidonConstants } from './poseidon_constants.js';
import type { ConstraintSystem, Lin } from './system.js';

const N_ROUNDS_F = 8;
const N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

let constants: { C: bigint[][]; M: bigint[][][] } | undefined;

function poseidonConstants(): { C: bigint[][]; M: bigint[][][] } {
  if (!constants) {
    const raw = readPoseidonConstants();
    constants = { C: raw.C.map((r) => r.map(BigInt)), M: raw.M.map((m) => m.map((r) => r.map(BigInt))) };
  }
  return constants;
}

function pow5(cs: ConstraintSystem, x: Lin): Lin {
  const x2 = cs.mul(x, x, 'poseidon S-box');
  const x4 = cs.mul(x2, x2, 'poseidon S-box');
  return cs.mul(x4, x, 'poseidon S-box');
}

/** Poseidon(inputs) with circomlib's parameters (t = inputs + 1, initial state 0). */
export function poseidon(cs: ConstraintSystem, inputs: readonly Lin[]): Lin {
  const t = inputs.length + 1;
  const { C, M } = poseidonConstants();
  const c = C[t - 2];
  const m = M[t - 2];
  const partial = N_ROUNDS_P[t - 2];
  let state = [cs.constant(0n), ...inputs];
  for (let r = 0; r < N_ROUNDS_F + partial; r++) {
    state = state.map((a, i) => a.addConst(c[r * t + i]));
    if (r < N_ROUNDS_F / 2 || r >= N_ROUNDS_F / 2 + partial) state = state.map((a) => pow5(cs, a));
    else state[0] = pow5(cs, state[0]);
    state = m.map((row) => cs.sum(state.map((a, j) => [a, row[j]] as const)));
  }
  return state[0];
}

/** The commitment chain of src/commit/poseidon.ts: h_0 = init, h_(k+1) = Poseidon(h_k, block_k). */
export function poseidonChainLin(cs: ConstraintSystem, init: Lin, chunks: readonly Lin[]): Lin {
  return blocks(chunks).reduce((acc, block) => poseidon(cs, [acc, ...block]), init);
}

import { buildPoseidon } from './circomlib.js';

/**
 * The commitment hash: Poseidon (circomlib's parameters, t <= 17) chained over blocks of at most
 * BLOCK elements, h_0 = init, h_{k+1} = Poseidon(h_k, block_k); an empty list hashes to
 * Poseidon(init). The circuit (emitPoseidonChain) and circomlibjs (poseidonChain) compute the same
 * function; tests compare them on random vectors.
 *
 * Cost in the circuit: circomlib's Poseidon(n) has t = n + 1 and costs 3 non-linear constraints
 * per S-box: 24 t (8 full rounds) + 3 R_P(t) (partial rounds, R_P = 56..68), e.g. 243 for one
 * chunk after the chaining element and 612 for a full block of 15 chunks (up to 15 x 253 packed
 * bits). The packing itself is linear.
 */
export const BLOCK = 15;

type Poseidon = ((inputs: bigint[]) => unknown) & { F: { toObject(x: unknown): bigint } };
let poseidon: Promise<Poseidon> | undefined;

/** circomlibjs' Poseidon (a WASM build, about a second the first time); later calls share it. */
export function hasher(): Promise<Poseidon> {
  poseidon ??= buildPoseidon() as Promise<Poseidon>;
  return poseidon;
}

export function blocks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += BLOCK) out.push(xs.slice(i, i + BLOCK));
  return out.length ? out : [[]];
}

export async function poseidonChain(init: bigint, chunks: readonly bigint[]): Promise<bigint> {
  const h = await hasher();
  let acc = init;
  for (const block of blocks(chunks)) acc = h.F.toObject(h([acc, ...block]));
  return acc;
}

/** circom statements computing the chain under component names `${name}_h<k>`; returns the result's expression. */
export function emitPoseidonChain(name: string, init: string, chunks: readonly string[]): { statements: string[]; output: string } {
  const statements: string[] = [];
  let acc = init;
  blocks(chunks).forEach((block, k) => {
    const c = `${name}_h${k}`;
    statements.push(`component ${c} = Poseidon(${block.length + 1});`, `${c}.inputs[0] <== ${acc};`);
    block.forEach((e, j) => statements.push(`${c}.inputs[${j + 1}] <== ${e};`));
    acc = `${c}.out`;
  });
  return { statements, output: acc };
}

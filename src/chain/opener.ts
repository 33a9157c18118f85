import { poseidonContract } from '../commit/circomlib.js';
import type { ethers } from 'ethers';
import { outputItems } from '../commit/commitments.js';
import { loadBuild } from '../compile/manifest.js';
import { ChainError } from '../errors.js';
import { analyzeBounds } from '../quant/bounds.js';
import type { Chain } from './network.js';
import { deployContract } from './onchain.js';
import { projectContract } from './solidity.js';

/** circomlibjs' Poseidon contracts take 1 to 8 inputs: the salt and up to 7 packed chunks. */
const MAX_CHUNKS = 7;

/** A Poseidon contract's artifact (circomlibjs' generated EVM code) for `nInputs` inputs. */
export function poseidonArtifact(nInputs: number): { contractName: string; abi: unknown[]; bytecode: string } {
  return { contractName: `PoseidonT${nInputs + 1}`, abi: poseidonContract.generateABI(nInputs), bytecode: poseidonContract.createCode(nInputs) };
}

/**
 * What ZkmlOutputOpener needs for a hashed-output build: each output value's window (the same
 * items the circuit packs, from src/commit/commitments.ts) and how many chunks they fill.
 */
export function openerArgs(buildDir: string): { lo: bigint[]; bits: number[]; chunks: number } {
  const { manifest, program } = loadBuild(buildDir);
  if (manifest.visibility.output !== 'hashed') throw new ChainError(`${buildDir} has a public output: there is no commitment to open`);
  const c = outputItems(analyzeBounds(program).get(program.output.name)!);
  if (c.plan.length > MAX_CHUNKS) {
    throw new ChainError(`${buildDir}: its output packs into ${c.plan.length} field elements; on-chain opening supports up to ${MAX_CHUNKS} (Poseidon contracts take at most 8 inputs)`);
  }
  return { lo: c.items.map((i) => i.lo), bits: c.items.map((i) => i.bits), chunks: c.plan.length };
}

/** Deploys the Poseidon contract and the ZkmlOutputOpener of a hashed-output build. */
export async function deployOutputOpener(chain: Chain, buildDir: string): Promise<{ contract: ethers.Contract; address: string; poseidon: string; gasUsed: bigint }> {
  const args = openerArgs(buildDir);
  const poseidon = await deployContract(chain, poseidonArtifact(args.chunks + 1));
  const opener = await deployContract(chain, projectContract('ZkmlOutputOpener'), [args.lo, args.bits, poseidon.address]);
  return { contract: opener.contract, address: opener.address, poseidon: poseidon.address, gasUsed: poseidon.gasUsed + opener.gasUsed };
}

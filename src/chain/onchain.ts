import { ethers } from 'ethers';
import type { Groth16Proof, PublicSignals } from 'snarkjs';
import { solidityArgs } from './solidity_args.js';
import { ChainError } from '../errors.js';
import type { Chain } from './network.js';
import { enforceKeyPolicy } from '../setup/provenance.js';
import { MAX_CODE_SIZE, type VerifierArtifact } from './verifier.js';

export { solidityArgs, type SolidityArgs } from './solidity_args.js';

export interface Deployment {
  address: string;
  gasUsed: bigint;
}

/**
 * Deploys a build's verifier. Keys anyone can forge proofs for (src/setup/provenance.ts) are
 * refused, before anything is sent, except on the embedded EVM or a development node, or with
 * `insecureDevKeys` (then `log` gets a warning).
 */
export async function deployVerifier(chain: Chain, artifact: VerifierArtifact, options: { insecureDevKeys?: boolean; log?: (line: string) => void } = {}): Promise<{ contract: ethers.Contract } & Deployment> {
  if (artifact.build) await enforceKeyPolicy(artifact.build, { insecureDevKeys: options.insecureDevKeys, chain, warn: options.log });
  if (artifact.codeSize > MAX_CODE_SIZE) {
    const type = (artifact.abi as { name?: string; inputs?: { type: string }[] }[]).find((f) => f.name === 'verifyProof')?.inputs?.at(-1)?.type ?? '';
    const signals = /\[(\d+)\]$/.exec(type)?.[1] ?? 'its';
    throw new ChainError(
      `the verifier contract is ${artifact.codeSize.toLocaleString('en-US')} bytes of code, over the EVM's ${MAX_CODE_SIZE.toLocaleString('en-US')}-byte limit (EIP-170): ` +
        `it holds a constant point for each of ${signals} public signals; verify this model off-chain, or give it fewer public signals`,
    );
  }
  return deployContract(chain, artifact);
}

/** Deploys a compiled contract and waits for its receipt. */
export async function deployContract(
  chain: Chain,
  artifact: { contractName: string; abi: unknown[]; bytecode: string },
  args: unknown[] = [],
  value = 0n,
): Promise<{ contract: ethers.Contract } & Deployment> {
  try {
    const factory = new ethers.ContractFactory(artifact.abi as ethers.InterfaceAbi, artifact.bytecode, chain.signer);
    const contract = (await factory.deploy(...args, { value })) as ethers.Contract;
    const receipt = await contract.deploymentTransaction()!.wait();
    return { contract, address: await contract.getAddress(), gasUsed: receipt?.gasUsed ?? 0n };
  } catch (err) {
    throw new ChainError(`deploying ${artifact.contractName} on ${chain.description} failed: ${chainReason(err)}`, { cause: err });
  }
}

export function attachVerifier(chain: Chain, artifact: VerifierArtifact, address: string): ethers.Contract {
  return new ethers.Contract(address, artifact.abi as ethers.InterfaceAbi, chain.signer);
}

export interface OnChainVerification {
  valid: boolean;
  /** Gas a transaction calling verifyProof would use (intrinsic + calldata + execution). */
  gas: bigint;
}

/** Calls verifyProof on the deployed verifier (a view call) and estimates its gas. */
export async function verifyOnChain(contract: ethers.Contract, proof: Groth16Proof, publicSignals: PublicSignals): Promise<OnChainVerification> {
  const args = solidityArgs(proof, publicSignals);
  try {
    const valid = (await contract.verifyProof(...args)) as boolean;
    const gas = await contract.verifyProof.estimateGas(...args);
    return { valid, gas };
  } catch (err) {
    throw new ChainError(`calling verifyProof failed: ${chainReason(err)}`, { cause: err });
  }
}

/** ethers errors carry the node's answer in shortMessage / info; the full message embeds the raw tx. */
export function chainReason(err: unknown): string {
  const e = err as { shortMessage?: string; info?: { error?: { message?: string } }; error?: { message?: string }; message?: string };
  const node = e.info?.error?.message ?? e.error?.message;
  return [e.shortMessage ?? e.message, node].filter(Boolean).join(': ');
}

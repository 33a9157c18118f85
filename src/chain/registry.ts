import { ethers } from 'ethers';
import type { Groth16Proof, PublicSignals } from 'snarkjs';
import type { Manifest } from '../compile/manifest.js';
import { layoutEntry, type SignalGroup } from '../commit/visibility.js';
import { ChainError } from '../errors.js';
import { verifyingKeyHash } from '../hash.js';
import type { Chain } from './network.js';
import { chainReason, deployContract, solidityArgs } from './onchain.js';
import { projectContract } from './solidity.js';
import { poseidonContract } from '../commit/circomlib.js';
import type { BatchItemResult } from '../prove/prover.js';

/** A revert from one of the project's contracts, decoded: `errorName` is the Solidity custom error. */
export class ContractRevertError extends ChainError {
  constructor(
    readonly errorName: string,
    readonly args: unknown[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** InferenceRegistry.Layout, from the build's public signal layout. */
export interface RegistryLayout {
  inputMode: number;
  outputMode: number;
  weightsMode: number;
  publicSignals: number;
  outputOffset: number;
  outputSize: number;
  inputOffset: number;
  inputSize: number;
  weightsIndex: number;
  recipientIndex: number;
  /** Inferences per proof (1 unless batched) and, batched, the count's index (else NONE). */
  batchSize: number;
  countIndex: number;
}

const NONE = 0xffff;

/** What identifies the input among the public signals: its values, its commitment or its nullifier. */
function inputEntry(m: Manifest) {
  const layout = m.circuit.publicLayout;
  return (layoutEntry(layout, 'input') ?? layoutEntry(layout, 'inputCommitment') ?? layoutEntry(layout, 'inputNullifier'))!;
}

export function registryLayout(m: Manifest): RegistryLayout {
  const layout = m.circuit.publicLayout;
  const common = {
    inputMode: ['public', 'private', 'hashed'].indexOf(m.visibility.input),
    outputMode: ['public', 'hashed'].indexOf(m.visibility.output),
    weightsMode: ['fixed', 'hashed'].indexOf(m.visibility.weights),
    publicSignals: m.circuit.publicSignals,
    weightsIndex: layoutEntry(layout, 'weightsCommitment')?.offset ?? NONE,
    recipientIndex: layoutEntry(layout, 'recipient')!.offset,
  };
  if (m.batch) {
    // A batch's output is the root of its items' keys; it has no input signal.
    const root = layoutEntry(layout, 'batchRoot');
    if (!root) throw new ChainError('a batched build with public input and output cannot be registered: the registry records batches by the root of their committed items (compile with --visibility compact)');
    return { ...common, outputOffset: root.offset, outputSize: 1, inputOffset: 0, inputSize: 0, batchSize: m.batch.size, countIndex: layoutEntry(layout, 'count')!.offset };
  }
  const output = layoutEntry(layout, 'output') ?? layoutEntry(layout, 'outputCommitment')!;
  const input = inputEntry(m);
  return { ...common, outputOffset: output.offset, outputSize: output.size, inputOffset: input.offset, inputSize: input.size, batchSize: 1, countIndex: NONE };
}

/**
 * The registry's input key of a proof, computed off-chain as the contract does: keccak256 of the
 * input signals (public input), else the input commitment or nullifier as bytes32.
 */
export function inputKeyOf(m: Manifest, publicSignals: readonly string[]): string {
  if (m.batch) throw new ChainError('a batch proof has one input key per item: read it from the batch file\'s items');
  const e = inputEntry(m);
  const values = publicSignals.slice(e.offset, e.offset + e.size);
  if (m.visibility.input === 'public') return ethers.solidityPackedKeccak256(values.map(() => 'uint256'), values);
  return ethers.toBeHex(BigInt(values[0]), 32);
}

/** The recipient a proof is bound to, as an address. */
export function recipientOf(m: Manifest, publicSignals: readonly string[]): string {
  return ethers.getAddress(ethers.toBeHex(BigInt(publicSignals[layoutEntry(m.circuit.publicLayout, 'recipient')!.offset]), 20));
}

const registryInterface = () => new ethers.Interface(projectContract('InferenceRegistry').abi as ethers.InterfaceAbi);

/** Turns a reverted call into a ContractRevertError naming the registry's custom error, where it is one. */
export function decodeRevert(err: unknown, action: string, iface: ethers.Interface = registryInterface()): ChainError {
  const data = findRevertData(err);
  if (data) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) {
        const args = [...parsed.args].map((a) => (typeof a === 'bigint' ? a.toString() : a));
        return new ContractRevertError(parsed.name, args, `${action} reverted: ${parsed.name}(${args.join(', ')})`, { cause: err });
      }
    } catch {
      // Not one of the contract's errors: fall through to the node's message.
    }
  }
  return new ChainError(`${action} failed: ${chainReason(err)}`, { cause: err });
}

function findRevertData(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (e: unknown): string | undefined => {
    if (!e || typeof e !== 'object' || seen.has(e)) return undefined;
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.data === 'string' && /^0x[0-9a-f]{8}/i.test(o.data)) return o.data;
    for (const k of ['error', 'info', 'cause', 'data']) {
      const found = walk(o[k]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(err);
}

/** Deploys the registry and installs its item-tree hash (circomlibjs' Poseidon(4), checked against its hash by the registry). */
export async function deployRegistry(chain: Chain): Promise<{ contract: ethers.Contract; address: string; gasUsed: bigint }> {
  const d = await deployContract(chain, projectContract('InferenceRegistry'));
  try {
    const receipt = await ((await d.contract.installPoseidon(poseidonContract.createCode(4))) as ethers.ContractTransactionResponse).wait();
    return { ...d, gasUsed: d.gasUsed + (receipt?.gasUsed ?? 0n) };
  } catch (err) {
    throw decodeRevert(err, 'installPoseidon');
  }
}

export function attachRegistry(chain: Chain, address: string): ethers.Contract {
  if (!ethers.isAddress(address)) throw new ChainError(`"${address}" is not an address`);
  return new ethers.Contract(address, projectContract('InferenceRegistry').abi as ethers.InterfaceAbi, chain.signer);
}

export interface Registration {
  verifier: string;
  vkHash: string;
  /** Decimal; "0" for fixed weights. */
  weightsCommitment: string;
  layout: RegistryLayout;
  metadataURI: string;
}

export function registrationFor(manifest: Manifest, vkey: unknown, verifier: string, metadataURI = ''): Registration {
  return { verifier, vkHash: verifyingKeyHash(vkey), weightsCommitment: manifest.weightsCommitment ?? '0', layout: registryLayout(manifest), metadataURI };
}

/**
 * What differs between a registered model and a registration (verifier, key hash, weights
 * commitment, layout), or undefined when it is the same; an unknown model id says so.
 */
export async function registrationMismatch(registry: ethers.Contract, modelId: bigint, r: Registration): Promise<string | undefined> {
  let m: { verifier: string; vkHash: string; weightsCommitment: bigint; layout: Record<string, bigint> };
  try {
    m = await registry.getModel(modelId);
  } catch (err) {
    return decodeRevert(err, 'getModel').message;
  }
  if (m.verifier.toLowerCase() !== r.verifier.toLowerCase()) return `its verifier is ${m.verifier}`;
  if (m.vkHash.toLowerCase() !== r.vkHash.toLowerCase()) return `its verifying key hash is ${m.vkHash}`;
  if (String(m.weightsCommitment) !== r.weightsCommitment) return `its weights commitment is ${m.weightsCommitment}`;
  const differs = (Object.keys(r.layout) as (keyof RegistryLayout)[]).find((k) => Number(m.layout[k]) !== r.layout[k]);
  return differs ? `its layout's ${differs} is ${m.layout[differs]}` : undefined;
}

/**
 * Sends one registry transaction and returns the named event it emitted, with its gas; a revert
 * comes back as ContractRevertError.
 */
async function transact(registry: ethers.Contract, method: string, args: unknown[], event: string): Promise<{ args: ethers.Result; gasUsed: bigint; txHash: string }> {
  try {
    const tx = (await registry.getFunction(method)(...args)) as ethers.ContractTransactionResponse;
    const receipt = (await tx.wait())!;
    const address = (await registry.getAddress()).toLowerCase();
    const log = receipt.logs.filter((l) => l.address.toLowerCase() === address).map((l) => registry.interface.parseLog(l)).find((e) => e?.name === event);
    // A call to an address without the registry's code succeeds and emits nothing.
    if (!log) throw new ChainError(`${method} emitted no ${event} event: is there an InferenceRegistry at ${await registry.getAddress()}?`);
    return { args: log.args, gasUsed: receipt.gasUsed, txHash: receipt.hash };
  } catch (err) {
    if (err instanceof ChainError) throw err;
    throw decodeRevert(err, method);
  }
}

/** Registers a model; the signer becomes its owner. */
export async function registerModel(registry: ethers.Contract, r: Registration): Promise<{ modelId: bigint; gasUsed: bigint; txHash: string }> {
  const t = await transact(registry, 'register', [r.verifier, r.vkHash, r.weightsCommitment, r.layout, r.metadataURI], 'ModelRegistered');
  return { modelId: t.args.modelId as bigint, gasUsed: t.gasUsed, txHash: t.txHash };
}

/** What a result is recorded under: input key, recipient (default: none) and, for a hashed output, its commitment. */
export interface ResultKey {
  inputKey: string;
  recipient?: string;
  /** Hashed output only: its results are keyed by their output commitment too (IInferenceRegistry.resultOfCommitted). */
  outputCommitment?: bigint;
}

export interface Submission extends ResultKey {
  /** The address the proof is bound to, which the result is credited to. */
  recipient: string;
  gasUsed: bigint;
  txHash: string;
}

/** Submits a proof to the registry; reverts come back as ContractRevertError. */
export async function submitProof(registry: ethers.Contract, modelId: bigint | number, proof: Groth16Proof, publicSignals: PublicSignals): Promise<Submission> {
  const [a, b, c, signals] = solidityArgs(proof, publicSignals);
  const t = await transact(registry, 'submit', [modelId, a, b, c, signals], 'InferenceVerified');
  const outputCommitment = t.args.outputCommitment as bigint;
  return { inputKey: t.args.inputKey as string, recipient: t.args.recipient as string, ...(outputCommitment ? { outputCommitment } : {}), gasUsed: t.gasUsed, txHash: t.txHash };
}

export interface RecordedResult {
  exists: boolean;
  submitter: string;
  blockNumber: bigint;
  outputCommitment: bigint;
  output: bigint[];
}

/** The result recorded under a key (a Submission is one); the recipient defaults to none (address 0). */
export async function readResult(registry: ethers.Contract, modelId: bigint | number, key: ResultKey): Promise<RecordedResult> {
  const recipient = key.recipient ?? ethers.ZeroAddress;
  if (key.outputCommitment) {
    const [exists, submitter, blockNumber] = await registry.resultOfCommitted(modelId, key.inputKey, recipient, key.outputCommitment);
    return { exists, submitter, blockNumber, outputCommitment: exists ? key.outputCommitment : 0n, output: [] };
  }
  const [exists, submitter, blockNumber, outputCommitment, output] = await registry.resultOf(modelId, key.inputKey, recipient);
  return { exists, submitter, blockNumber, outputCommitment, output: [...output] };
}

/** ABI-encoded calldata of registry.submit, for sending from any tool (cast, Hardhat, a wallet). */
export function submitCalldata(modelId: bigint | number, proof: Groth16Proof, publicSignals: PublicSignals): string {
  const [a, b, c, signals] = solidityArgs(proof, publicSignals);
  return registryInterface().encodeFunctionData('submit', [modelId, a, b, c, signals]);
}

/** A batch proof's registry key: the root of its items, their count, and its recipient. */
export interface BatchKey {
  root: bigint;
  count: bigint;
  recipient: string;
}

export interface BatchSubmission extends BatchKey {
  gasUsed: bigint;
  txHash: string;
}

/** Submits one proof of a batched build (registry.submitBatch): one record for the whole batch. */
export async function submitBatch(registry: ethers.Contract, modelId: bigint | number, proof: Groth16Proof, publicSignals: PublicSignals): Promise<BatchSubmission> {
  const [a, b, c, signals] = solidityArgs(proof, publicSignals);
  const t = await transact(registry, 'submitBatch', [modelId, a, b, c, signals], 'BatchVerified');
  return { root: t.args.root as bigint, count: t.args.count as bigint, recipient: t.args.recipient as string, gasUsed: t.gasUsed, txHash: t.txHash };
}

/** ABI-encoded calldata of registry.submitBatch. */
export function submitBatchCalldata(modelId: bigint | number, proof: Groth16Proof, publicSignals: PublicSignals): string {
  const [a, b, c, signals] = solidityArgs(proof, publicSignals);
  return registryInterface().encodeFunctionData('submitBatch', [modelId, a, b, c, signals]);
}

/** IInferenceRegistry.BatchItem: what opens one item of a batch. */
export interface BatchItemArg {
  root: bigint;
  count: bigint;
  recipient: string;
  index: bigint;
  inputKey: bigint;
  outputCommitment: bigint;
  path: bigint[];
}

/**
 * Item `index` of a batch proof (a batch file of `zkml prove`, or one item's own result), as the
 * registry takes it: root, count and recipient from the public signals (what the proof attests),
 * keys and path from the item.
 */
export function batchItemArg(m: Manifest, r: { publicSignals: readonly string[]; items: readonly Partial<BatchItemResult>[] }, index: number): BatchItemArg {
  const signal = (g: SignalGroup) => {
    const e = layoutEntry(m.circuit.publicLayout, g);
    return e && r.publicSignals[e.offset];
  };
  const root = signal('batchRoot');
  if (!m.batch || !root) throw new ChainError('not a batch with an item tree: only batched builds with hashed output and hashed or private input go on-chain');
  const item = r.items.find((it) => it.index === index);
  if (!item) throw new ChainError(`the proof file has no item ${index} (it records ${r.items.map((it) => it.index).join(', ') || 'none'})`);
  if (item.inputKey === undefined || item.outputCommitment === undefined || !Array.isArray(item.path)) throw new ChainError(`item ${index} does not record its inputKey, outputCommitment and path`);
  return { root: BigInt(root), count: BigInt(signal('count')!), recipient: ethers.getAddress(ethers.toBeHex(BigInt(signal('recipient')!), 20)), index: BigInt(index), inputKey: BigInt(item.inputKey), outputCommitment: BigInt(item.outputCommitment), path: item.path.map(BigInt) };
}

/** Records one item's result from a recorded batch (registry.openItem); then readResult finds it under its keys. */
export async function openItem(registry: ethers.Contract, modelId: bigint | number, item: BatchItemArg): Promise<Submission> {
  const t = await transact(registry, 'openItem', [modelId, item], 'InferenceVerified');
  return { inputKey: t.args.inputKey as string, recipient: t.args.recipient as string, outputCommitment: t.args.outputCommitment as bigint, gasUsed: t.gasUsed, txHash: t.txHash };
}

/** Whether an item belongs to a verified batch (registry.itemOf, a view). */
export async function readItem(registry: ethers.Contract, modelId: bigint | number, item: BatchItemArg): Promise<{ exists: boolean; submitter: string; blockNumber: bigint }> {
  const [exists, submitter, blockNumber] = await registry.itemOf(modelId, item);
  return { exists, submitter, blockNumber };
}

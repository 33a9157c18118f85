/**
 * zkml: prove that an ONNX model produced an output; verify the proof off-chain and on-chain.
 *
 *   const manifest = await compile('model.onnx', { calibration: 'calibration.json', out: 'build' });
 *   await setup('build');
 *   const result = await prove('build', [5.1, 3.5, 1.4, 0.2]);
 *   const { valid } = await verify('build', result, { insecureDevKeys: true }); // dev keys: see keyProvenance
 */
import './setup/web_worker.js'; // first, for zkml used inside a worker thread: before anything loads ffjavascript
export { compile, type CompileOptions } from './compile/compile.js';
export { loadBuild, type Manifest, type Build } from './compile/manifest.js';
export { readSamples, type SampleSet } from './compile/samples.js';
export type { AccuracyReport } from './compile/accuracy.js';
export { setup, type SetupOptions, type SetupResult } from './setup/setup.js';
export type { SetupProgress } from './setup/fixed_base.js';
export { releaseCurves } from './setup/curve.js';
export { keyProvenance, enforceKeyPolicy, describeProvenance, insecureKeysWarning, type KeyProvenance, type KeyPolicy } from './setup/provenance.js';
export { Prover, type ProofResult, type ProveOptions, type Timings } from './prove/prover.js';
export { InferenceProver, type ProverParts, type Witnesses, type FloatRunner } from './prove/inference.js';
export { startWebServer, type WebServer, type WebOptions, type WebConfig, type ServedModel } from './web/server.js';
export { buildNativeWitness, type WitnessChoice } from './prove/native_witness.js';
export { proveBatch, proveInBatches, ProvingPool, type BatchItem, type BatchGroup, type BatchOptions } from './prove/pool.js';
export { BatchStatement, itemTree, itemPath, rootFromPath, MAX_BATCH, type ItemOpening } from './commit/batch.js';
export { choosePoolLayout, layoutFrom, type PoolLayout } from './prove/layout.js';
export { verify, verifyLoaded, readProofFile, type ProofDocument, type Verification, type VerifyOptions } from './verify/verify.js';
export { verifierArtifact, type VerifierArtifact } from './chain/verifier.js';
export { embeddedChain, rpcChain, providerChain, chainKind, isLoopbackHost, DEVELOPMENT_CHAIN_IDS, type Chain, type ChainKind } from './chain/network.js';
export { deployVerifier, attachVerifier, verifyOnChain, solidityArgs } from './chain/onchain.js';
export { startHardhatNode } from './chain/local_node.js';
export { deployRegistry, attachRegistry, registerModel, registrationFor, registryLayout, inputKeyOf, recipientOf, submitProof, readResult, submitCalldata, submitBatch, submitBatchCalldata, openItem, readItem, batchItemArg, ContractRevertError, type Registration, type RecordedResult, type BatchItemArg, type BatchSubmission } from './chain/registry.js';
export { ensureDeployed, readDeployment, writeDeployment, recordOf, type DeploymentRecord } from './chain/deployment.js';
export { projectContract, compileSolidity, contractsDir } from './chain/solidity.js';
export { exportContracts } from './chain/export.js';
export { deployOutputOpener, openerArgs, poseidonArtifact } from './chain/opener.js';
export { deployContract } from './chain/onchain.js';
export { ceremonyInit, ceremonyContribute, ceremonyBeacon, ceremonyVerify, ceremonyFinalize, readTranscript, type Transcript } from './setup/ceremony.js';
export { parseVisibility, publicLayout, type Visibility, type LayoutEntry } from './commit/visibility.js';
export { PublicStatement, parseSalt, randomSalt, parseRecipient, deriveSalts } from './commit/statement.js';
export { commitWeights, hideWeights } from './commit/commitments.js';
export { poseidonChain } from './commit/poseidon.js';
export { verifyingKeyHash } from './hash.js';
export { loadOnnx } from './onnx/import.js';
export { quantize } from './quant/quantize.js';
export { defaultQuantConfig, type QuantConfig, type QProgram } from './quant/program.js';
export { runReference, referenceOutput } from './quant/reference.js';
export { generateCircuit } from './circuit/codegen.js';
export { FIELD_MODULUS } from './prove/field.js';
export * from './errors.js';

import { Prover, type BatchProofResult, type ProofResult, type ProveOptions } from './prove/prover.js';
export type { BatchProofResult, BatchItemResult, BatchItemProof } from './prove/prover.js';
export { itemProofs } from './prove/prover.js';

/** Proves one input in this process (multi-threaded snarkjs). For many inputs use proveBatch. */
export async function prove(buildDir: string, input: readonly number[], options: ProveOptions = {}): Promise<ProofResult> {
  const prover = await Prover.load(buildDir);
  try {
    return await prover.prove(input, options);
  } finally {
    await prover.close();
  }
}

/**
 * Proves up to N inputs in one proof of a batched build, in this process. `salts`: each input's
 * master salt (default: random). For many inputs on a pool use proveInBatches.
 */
export async function proveItems(buildDir: string, inputs: readonly (readonly number[])[], options: { salts?: readonly bigint[]; recipient?: bigint } = {}): Promise<BatchProofResult> {
  const prover = await Prover.load(buildDir);
  try {
    return await prover.proveBatch(inputs, options);
  } finally {
    await prover.close();
  }
}

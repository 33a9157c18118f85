/**
 * Measures one model in its own process (so that peak memory is the model's own):
 *   node dist/src/bench/measure.js '<MeasureRequest JSON>'
 * and writes a ModelResult to request.out. Scenarios (cold start, 2^16 setup) run here too.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ethers } from 'ethers';
import * as snarkjs from 'snarkjs';
import { MAX_CODE_SIZE } from '../chain/verifier.js';
import { readSamples } from '../compile/samples.js';
import * as z from '../index.js';
import { percentile, timed } from './stats.js';
import type { BenchTarget } from './suite.js';

export interface MeasureRequest {
  kind: 'model' | 'cold-start';
  target: BenchTarget;
  buildRoot: string;
  ptauCache: string;
  /** In-process proofs timed for witness/prove percentiles. */
  proofs: number;
  /** Worker counts for the batch throughput. */
  workers: number[];
  /** Proofs per worker in each throughput run (after one warm-up proof per worker). */
  batchPerWorker: number;
  out: string;
  /** Cold start only: also run `snarkjs powersoftau verify` on the ptau it generated (not timed in totalS). */
  verifyPtau?: boolean;
}

export interface ModelResult {
  model: string;
  constraints: number;
  floor: number;
  wires: number;
  publicSignals: number;
  ptauPower: number;
  byKind: Record<string, number>;
  accuracy: { task: string; decisionAgreement?: number; relativeError: number; samples: number };
  precision: { inputBits: number; weightBits: number; activationBits: number };
  compileS: number;
  setupS: number;
  witnessMs: { p50: number; p95: number };
  proveMs: { p50: number; p95: number };
  verifyMs: number;
  proofBytes: number;
  calldataBytes: number;
  /** null: the verifier exceeds the EVM's code size limit (too many public signals). */
  verifyGas: number | null;
  deployGas: number | null;
  throughput: { workers: number; proofsPerS: number }[];
  peakRssMb: number;
}

export interface ColdStartResult {
  model: string;
  ptauPower: number;
  compileS: number;
  setupS: number;
  proveS: number;
  verifyOnChainS: number;
  totalS: number;
  valid: boolean;
  peakRssMb: number;
  ptauVerify?: { valid: boolean; seconds: number };
}

/** A target compiled into a fresh build folder, timed; a build folder target as it is (its recorded compile time). */
async function compileFresh(t: BenchTarget, dir: string): Promise<[z.Manifest, number, string]> {
  if (t.build) {
    const m = z.loadBuild(t.build).manifest;
    return [m, m.circuit.compileSeconds * 1000, t.build];
  }
  if (!t.onnx || !t.calibration) throw new z.InvalidInputError(`${t.name}: give an ONNX model with its calibration samples, or a build folder`);
  rmSync(dir, { recursive: true, force: true });
  const [m, ms] = await timed(() => z.compile(t.onnx!, { calibration: t.calibration!, test: t.test, out: dir, inputRange: t.inputRange }));
  return [m, ms, dir];
}

/** The inputs a target is proved on. */
function targetSamples(t: BenchTarget): number[][] {
  const file = t.samples ?? t.test ?? t.calibration;
  if (!file) throw new z.InvalidInputError(`${t.name}: a build folder needs --samples (inputs to prove)`);
  return readSamples(file).inputs;
}

async function measureModel(r: MeasureRequest): Promise<ModelResult> {
  const samples = targetSamples(r.target);
  const [m, compileMs, dir] = await compileFresh(r.target, join(r.buildRoot, r.target.name));
  const [s, setupMs] = await timed(() => z.setup(dir, { ptauCache: r.ptauCache }));
  const input = (k: number) => samples[k % samples.length];

  // Throughput first, while this process runs nothing else (no curve threads, no chain).
  await z.releaseCurves();
  const throughput: ModelResult['throughput'] = [];
  for (const w of r.workers) {
    const pool = new z.ProvingPool(dir, w);
    try {
      await pool.warmUp(input(0));
      const batch = Array.from({ length: w * r.batchPerWorker }, (_, k) => input(k));
      const [items, ms] = await timed(() => pool.prove(batch));
      const failed = items.find((i) => !i.outcome.ok);
      if (failed && !failed.outcome.ok) throw new Error(`${r.target.name}: batch proof failed: ${failed.outcome.error.message}`);
      throughput.push({ workers: w, proofsPerS: batch.length / (ms / 1000) });
    } finally {
      await pool.destroy();
    }
  }

  const prover = await z.Prover.load(dir);
  const witness: number[] = [];
  const prove: number[] = [];
  let last: z.ProofResult | undefined;
  try {
    await prover.prove(input(0)); // warm-up: curve threads, JIT
    for (let k = 0; k < r.proofs; k++) {
      last = await prover.prove(input(k));
      witness.push(last.timings.witnessMs);
      prove.push(last.timings.proveMs);
    }
  } finally {
    await prover.close();
  }
  const proof = last!;
  const verifyTimes: number[] = [];
  for (let k = 0; k < 5; k++) {
    // Benchmark builds have dev keys: verify them anyway (insecureDevKeys), as the timing is what counts.
    const [v, ms] = await timed(() => z.verify(dir, proof, { insecureDevKeys: true }));
    if (!v.valid) throw new Error(`${r.target.name}: a fresh proof did not verify`);
    verifyTimes.push(ms);
  }

  const artifact = await z.verifierArtifact(dir);
  const chain = await z.embeddedChain();
  let verifyGas: number | null = null;
  let deployGas: number | null = null;
  try {
    if (artifact.codeSize <= MAX_CODE_SIZE) {
      const d = await z.deployVerifier(chain, artifact);
      const onchain = await z.verifyOnChain(d.contract, proof.proof, proof.publicSignals);
      if (!onchain.valid) throw new Error(`${r.target.name}: the verifier contract rejected a valid proof`);
      verifyGas = Number(onchain.gas);
      deployGas = Number(d.gasUsed);
    }
  } finally {
    await chain.close();
  }
  const calldata = new ethers.Interface(artifact.abi as ethers.InterfaceAbi).encodeFunctionData('verifyProof', z.solidityArgs(proof.proof, proof.publicSignals));

  const byKind: Record<string, number> = {};
  for (const c of m.circuit.costs) byKind[c.kind] = (byKind[c.kind] ?? 0) + c.nonLinear;
  return {
    model: r.target.name,
    constraints: m.circuit.constraints,
    floor: m.circuit.costs.reduce((a, c) => a + c.floor, 0),
    wires: m.circuit.wires,
    publicSignals: m.circuit.publicSignals,
    ptauPower: s.ptau.power,
    byKind,
    accuracy: { task: m.accuracy.task, decisionAgreement: m.accuracy.decisionAgreement, relativeError: m.accuracy.relativeError, samples: m.accuracy.samples },
    precision: { inputBits: m.quant.inputBits, weightBits: m.quant.weightBits, activationBits: m.quant.activationBits },
    compileS: compileMs / 1000,
    setupS: setupMs / 1000,
    witnessMs: { p50: percentile(witness, 50), p95: percentile(witness, 95) },
    proveMs: { p50: percentile(prove, 50), p95: percentile(prove, 95) },
    verifyMs: percentile(verifyTimes, 50),
    proofBytes: JSON.stringify(proof.proof).length,
    calldataBytes: (calldata.length - 2) / 2,
    verifyGas,
    deployGas,
    throughput,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

/** From an empty build folder and an empty ptau cache: model.onnx to a proof verified on-chain. */
async function coldStart(r: MeasureRequest): Promise<ColdStartResult> {
  const dir = join(r.buildRoot, `${r.target.name}_cold`);
  rmSync(r.ptauCache, { recursive: true, force: true });
  const [input] = targetSamples(r.target);
  const started = performance.now();
  const [, compileMs] = await compileFresh(r.target, dir);
  const [s, setupMs] = await timed(() => z.setup(dir, { ptauCache: r.ptauCache }));
  const [proof, proveMs] = await timed(() => z.prove(dir, input));
  const [valid, chainMs] = await timed(async () => {
    const chain = await z.embeddedChain();
    try {
      const d = await z.deployVerifier(chain, await z.verifierArtifact(dir));
      return (await z.verifyOnChain(d.contract, proof.proof, proof.publicSignals)).valid;
    } finally {
      await chain.close();
    }
  });
  const totalS = (performance.now() - started) / 1000;
  let ptauVerify: ColdStartResult['ptauVerify'];
  if (r.verifyPtau) {
    const [ok, ms] = await timed(() => snarkjs.powersOfTau.verify(s.ptau.file));
    ptauVerify = { valid: ok, seconds: ms / 1000 };
  }
  return {
    model: r.target.name,
    ptauPower: s.ptau.power,
    compileS: compileMs / 1000,
    setupS: setupMs / 1000,
    proveS: proveMs / 1000,
    verifyOnChainS: chainMs / 1000,
    totalS,
    valid,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    ...(ptauVerify ? { ptauVerify } : {}),
  };
}

const request = JSON.parse(process.argv[2] ?? '{}') as MeasureRequest;
try {
  const result = request.kind === 'cold-start' ? await coldStart(request) : await measureModel(request);
  writeFileSync(request.out, JSON.stringify(result, null, 2));
} catch (err) {
  console.error(err instanceof z.ZkmlError ? `error: ${err.message}` : err);
  process.exitCode = 1;
} finally {
  await z.releaseCurves();
}

/**
 * One phase of one scaling point in its own process, so that its peak memory is its own:
 *   node dist/src/bench/scaling_child.js '<ScalingPhaseRequest JSON>'
 * writes a PhaseResult to request.out.
 */
import { writeFileSync } from 'node:fs';
import { readSamples } from '../compile/samples.js';
import * as z from '../index.js';
import { timed } from './stats.js';
import type { QuantConfig } from '../quant/program.js';

export interface ScalingPhaseRequest {
  phase: 'compile' | 'setup' | 'prove';
  build: string;
  out: string;
  onnx: string;
  calibration: string;
  test: string;
  quant?: Partial<QuantConfig>;
  inputRange?: string;
  ptauCache: string;
}

export interface PhaseResult {
  seconds: number;
  peakRssMb: number;
  constraints?: number;
  agreement?: number;
  witnessMs?: number;
  proveMs?: number;
  verifyGas?: number;
  onChain?: boolean;
}

async function run(r: ScalingPhaseRequest): Promise<Omit<PhaseResult, 'peakRssMb'>> {
  if (r.phase === 'compile') {
    const [m, ms] = await timed(() =>
      z.compile(r.onnx, { calibration: r.calibration, test: r.test, out: r.build, backend: 'r1cs', visibility: { input: 'hashed', output: 'hashed' }, quant: r.quant, inputRange: r.inputRange }),
    );
    return { seconds: ms / 1000, constraints: m.circuit.constraints, agreement: m.accuracy.decisionAgreement };
  }
  if (r.phase === 'setup') {
    const [, ms] = await timed(() => z.setup(r.build, { ptauCache: r.ptauCache }));
    return { seconds: ms / 1000 };
  }
  // One proof with every core (the curve's threads), after loading the prover (not timed).
  const prover = await z.Prover.load(r.build);
  try {
    const input = readSamples(r.test).inputs[0];
    const [proof, ms] = await timed(() => prover.prove(input));
    const chain = await z.embeddedChain();
    try {
      const d = await z.deployVerifier(chain, await z.verifierArtifact(r.build), { insecureDevKeys: true });
      const check = await z.verifyOnChain(d.contract, proof.proof, proof.publicSignals);
      return { seconds: ms / 1000, witnessMs: proof.timings.witnessMs, proveMs: proof.timings.proveMs, verifyGas: Number(check.gas), onChain: check.valid };
    } finally {
      await chain.close();
    }
  } finally {
    await prover.close();
  }
}

const request = JSON.parse(process.argv[2]) as ScalingPhaseRequest;
const result = await run(request);
writeFileSync(request.out, JSON.stringify({ ...result, peakRssMb: process.resourceUsage().maxRSS / 1024 } satisfies PhaseResult));
await z.releaseCurves();
process.exit(0);

/**
 * The Node prover: an InferenceProver (./inference.ts) whose parts are read from a build folder,
 * with the float model on onnxruntime-node and, where it was built and measured faster, circom's
 * C++ witness generator.
 */
import { readFileSync } from 'node:fs';
import { loadBuild, type Build } from '../compile/manifest.js';
import { FloatModel } from '../onnx/runtime.js';
import { requireFile } from '../paths.js';
import { InferenceProver, type Timings } from './inference.js';
import { ProvingKey } from './groth16.js';
import { nativeWitness, readWitnessChoice } from './native_witness.js';

export {
  CircuitMismatchError,
  itemProofs,
  type BatchItemProof,
  type BatchItemResult,
  type BatchProofResult,
  type ProofResult,
  type ProveOptions,
  type ProveStage,
  type Timings,
} from './inference.js';

/**
 * Everything needed to prove for one build, loaded once from its folder: the float model, the
 * witness calculator and the proving key. One instance serves many inputs (a pool worker keeps one).
 */
export class Prover extends InferenceProver {
  private constructor(
    override readonly build: Build,
    private readonly float: FloatModel,
    parts: ConstructorParameters<typeof InferenceProver>[0],
  ) {
    super(parts);
  }

  static async load(buildDir: string, options: { singleThread?: boolean } = {}): Promise<Prover> {
    const build = loadBuild(buildDir);
    const key = ProvingKey.parse(readFileSync(requireFile(build.paths.zkey, 'no proving key; run `zkml setup <build>` first')));
    const { manifest } = build;
    const float = await FloatModel.load(build.paths.onnx, manifest.model.onnxInputs, manifest.model.onnxOutput);
    const parts = await InferenceProver.partsOf(build.paths.root, build, key, () => readFileSync(build.paths.wasm), { float, singleThread: options.singleThread });
    if (manifest.circuit.backend !== 'r1cs') parts.engine = readWitnessChoice(buildDir)?.engine ?? 'wasm';
    return new Prover(build, float, parts);
  }

  /** Where it was measured faster, circom's C++ generator; any failure of it falls back to the WASM calculator. */
  protected override async witnessOf(signals: Record<string, unknown>): Promise<{ wtns: Uint8Array; engine: Timings['witnessEngine'] }> {
    if (this.parts.engine === 'native') {
      const wtns = await nativeWitness(this.build.paths.root, signals as Record<string, string | string[]>).catch(() => undefined);
      if (wtns) return { wtns, engine: 'native' };
      return { wtns: await this.parts.witness.calculateWTNSBin(signals, true), engine: 'wasm' };
    }
    return super.witnessOf(signals);
  }

  async close(): Promise<void> {
    await this.float.release();
  }
}

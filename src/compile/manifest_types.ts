/**
 * The manifest's shape: what `compile` writes to manifest.json. Types and the version only, with
 * no file access, so that code running in a browser (src/browser) can read a manifest fetched by URL.
 */
import type { OpCost } from '../circuit/codegen.js';
import type { PrecisionTrial } from './precision.js';
import type { Shape, TensorInfo } from '../ir/graph.js';
import type { Approximation, OutputAffine, QProgram, QuantConfig } from '../quant/program.js';
import type { AccuracyReport } from './accuracy.js';
import type { LayoutEntry, Visibility } from '../commit/visibility.js';

/** How a build's R1CS and witnesses are made (CompileOptions.backend). */
export type Backend = 'circom' | 'r1cs';

export const MANIFEST_VERSION = 4;

/** Why a manifest cannot be read by this zkml (written by another version), or undefined. */
export function manifestVersionProblem(m: { version?: unknown }): string | undefined {
  if (m.version === MANIFEST_VERSION) return undefined;
  return `written by an older zkml (manifest version ${m.version}, expected ${MANIFEST_VERSION}); recompile the model`;
}

/** What `compile` writes to manifest.json: everything later stages need to know about a build. */
export interface Manifest {
  version: number;
  createdAt: string;
  model: {
    source: string;
    sha256: string;
    onnxInputs: TensorInfo[];
    onnxOutput: string;
    outputShape: Shape;
  };
  /** The bit budgets of a calibrated build (unused when `prequantized`). */
  quant: QuantConfig;
  /** The model carries its own int8 quantization, proved as it is (src/quant/qdq.ts). */
  prequantized?: boolean;
  /** What the proof reveals of input, output and weights (src/commit/visibility.ts). */
  visibility: Visibility;
  /** Batched builds: inferences per proof and the depth of their item tree (src/commit/batch.ts). Absent: one per proof. */
  batch?: { size: number; depth: number };
  /** Poseidon commitment to the compiled weights (decimal), for hashed-weights builds. */
  weightsCommitment?: string;
  /** The precision planner's trials (src/compile/precision.ts), when it ran. */
  precision?: PrecisionTrial[];
  /** Each model input: its scale and the range the circuit accepts (concatenated in this order). */
  inputs: { name: string; shape: Shape; frac: number; /** The input's step when not 2^-frac (folded into the first layer). */ scale?: number; min: string; max: string; floatMin: number; floatMax: number; featureMin?: number[]; featureMax?: number[] }[];
  /** `affine`: an int8 model's output decoding (value * scale + offset per element, see QTensor). */
  output: { frac: number; size: number; postprocess?: string; affine?: OutputAffine };
  approximations: Approximation[];
  circuit: {
    /** sha256 of model.r1cs: keys are cached against it. */
    sha256: string;
    constraints: number;
    /** circom: circom's R1CS and witness WASM; r1cs: built directly, witnesses computed in JavaScript (src/r1cs). Absent: circom. */
    backend?: Backend;
    wires: number;
    publicSignals: number;
    /** The public signals in order (outputs or their commitment first, then other commitments, then public inputs). */
    publicLayout: LayoutEntry[];
    costs: OpCost[];
    compileSeconds: number;
  };
  accuracy: AccuracyReport;
}

/** A build's manifest and quantized program: all that proving and verifying read besides the keys. */
export interface BuildParts {
  manifest: Manifest;
  program: QProgram;
}

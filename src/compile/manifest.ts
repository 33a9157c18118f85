import { readFileSync } from 'node:fs';
import type { OpCost } from '../circuit/codegen.js';
import type { PrecisionTrial } from './precision.js';
import type { Shape, TensorInfo } from '../ir/graph.js';
import { MissingArtifactError } from '../errors.js';
import { buildPaths, requireFile } from '../paths.js';
import { parseProgram, type Approximation, type QProgram, type QuantConfig } from '../quant/program.js';
import type { AccuracyReport } from './accuracy.js';
import type { LayoutEntry, Visibility } from '../commit/visibility.js';

/** How a build's R1CS and witnesses are made (CompileOptions.backend). */
export type Backend = 'circom' | 'r1cs';

export const MANIFEST_VERSION = 4;

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
  quant: QuantConfig;
  /** What the proof reveals of input, output and weights (src/commit/visibility.ts). */
  visibility: Visibility;
  /** Poseidon commitment to the compiled weights (decimal), for hashed-weights builds. */
  weightsCommitment?: string;
  /** The precision planner's trials (src/compile/precision.ts), when it ran. */
  precision?: PrecisionTrial[];
  /** Each model input: its scale and the range the circuit accepts (concatenated in this order). */
  inputs: { name: string; shape: Shape; frac: number; min: string; max: string; floatMin: number; floatMax: number; featureMin?: number[]; featureMax?: number[] }[];
  output: { frac: number; size: number; postprocess?: string };
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

export interface Build {
  paths: ReturnType<typeof buildPaths>;
  manifest: Manifest;
  program: QProgram;
}

/** Loads a build folder, with a message that says to run `zkml compile` if it is not one. */
export function loadBuild(dir: string): Build {
  const paths = buildPaths(dir);
  const hint = 'not a compiled build folder; run `zkml compile <model.onnx> --out <dir>` first';
  const manifest = JSON.parse(readFileSync(requireFile(paths.manifest, hint), 'utf8')) as Manifest;
  if (manifest.version !== MANIFEST_VERSION) throw new MissingArtifactError(paths.manifest, `written by an older zkml (manifest version ${manifest.version}, expected ${MANIFEST_VERSION}); recompile the model`);
  const program = parseProgram(readFileSync(requireFile(paths.program, hint), 'utf8'));
  for (const f of [paths.r1cs, ...(manifest.circuit.backend === 'r1cs' ? [] : [paths.wasm]), paths.onnx]) requireFile(f, `${hint} (the build is incomplete)`);
  return { paths, manifest, program };
}

import { readFileSync, statSync } from 'node:fs';
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
  /** Batched builds: inferences per proof and the depth of their item tree (src/commit/batch.ts). Absent: one per proof. */
  batch?: { size: number; depth: number };
  /** Poseidon commitment to the compiled weights (decimal), for hashed-weights builds. */
  weightsCommitment?: string;
  /** The precision planner's trials (src/compile/precision.ts), when it ran. */
  precision?: PrecisionTrial[];
  /** Each model input: its scale and the range the circuit accepts (concatenated in this order). */
  inputs: { name: string; shape: Shape; frac: number; /** The input's step when not 2^-frac (folded into the first layer). */ scale?: number; min: string; max: string; floatMin: number; floatMax: number; featureMin?: number[]; featureMax?: number[] }[];
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

/** The last parse of each build folder, reused while its manifest and program are unchanged on disk. */
const parsed = new Map<string, { stamp: string; manifest: Manifest; program: QProgram }>();

function stampOf(...files: string[]): string {
  return files.map((f) => {
    const s = statSync(f);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  }).join('|');
}

/**
 * Loads a build folder, with a message that says to run `zkml compile` if it is not one. The
 * manifest and program are parsed once per process while their files are unchanged (a command
 * may load the same build several times; LeNet-5's program is 5 MB): treat them as read-only.
 */
export function loadBuild(dir: string): Build {
  const paths = buildPaths(dir);
  const hint = 'not a compiled build folder; run `zkml compile <model.onnx> --out <dir>` first';
  const stamp = stampOf(requireFile(paths.manifest, hint), requireFile(paths.program, hint));
  let entry = parsed.get(paths.root);
  if (entry?.stamp !== stamp) {
    const manifest = JSON.parse(readFileSync(paths.manifest, 'utf8')) as Manifest;
    if (manifest.version !== MANIFEST_VERSION) throw new MissingArtifactError(paths.manifest, `written by an older zkml (manifest version ${manifest.version}, expected ${MANIFEST_VERSION}); recompile the model`);
    entry = { stamp, manifest, program: parseProgram(readFileSync(paths.program, 'utf8')) };
    parsed.set(paths.root, entry);
  }
  const { manifest, program } = entry;
  for (const f of [paths.r1cs, ...(manifest.circuit.backend === 'r1cs' ? [] : [paths.wasm]), paths.onnx]) requireFile(f, `${hint} (the build is incomplete)`);
  return { paths, manifest, program };
}

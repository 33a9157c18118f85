import { readFileSync } from 'node:fs';
import type { OpCost } from '../circuit/codegen.js';
import type { Shape } from '../ir/graph.js';
import { buildPaths, requireFile } from '../paths.js';
import { parseProgram, type QProgram, type QuantConfig } from '../quant/program.js';
import type { AccuracyReport } from './accuracy.js';

export const MANIFEST_VERSION = 1;

/** What `compile` writes to manifest.json: everything later stages need to know about a build. */
export interface Manifest {
  version: number;
  createdAt: string;
  model: {
    source: string;
    sha256: string;
    onnxInput: string;
    onnxOutput: string;
    inputShape: Shape;
    outputShape: Shape;
  };
  quant: QuantConfig;
  input: { frac: number; min: string; max: string; floatMin: number; floatMax: number };
  output: { frac: number; size: number };
  circuit: {
    /** sha256 of model.r1cs: keys are cached against it. */
    sha256: string;
    constraints: number;
    wires: number;
    publicSignals: number;
    /** Order of the public signals: outputs first, then inputs (circom's convention). */
    publicLayout: string;
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
  const program = parseProgram(readFileSync(requireFile(paths.program, hint), 'utf8'));
  for (const f of [paths.r1cs, paths.wasm, paths.onnx]) requireFile(f, `${hint} (the build is incomplete)`);
  return { paths, manifest, program };
}

import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { generateCircuit } from '../circuit/codegen.js';
import { commitWeights, hideWeights } from '../commit/commitments.js';
import { parseVisibility, publicLayout, publicSignalCount, type Visibility } from '../commit/visibility.js';
import { CircomError, UnsupportedModelError } from '../errors.js';
import { sha256File } from '../hash.js';
import { size } from '../ir/graph.js';
import { evaluateFloat } from '../ir/float_eval.js';
import { loadOnnx } from '../onnx/import.js';
import { FloatModel } from '../onnx/runtime.js';
import { inputMax } from '../ops/input.js';
import { buildPaths } from '../paths.js';
import { defaultQuantConfig, inputOps, serializeProgram, type QuantConfig } from '../quant/program.js';
import { inputSize } from '../quant/io.js';
import { quantize } from '../quant/quantize.js';
import { floatOutputs, measureAccuracy, type Task } from './accuracy.js';
import { planPrecision, type PrecisionPlan } from './precision.js';
import { readR1csHeader } from './r1cs_header.js';
import { runCircom } from './circom.js';
import { MANIFEST_VERSION, type Manifest } from './manifest.js';
import { readSamples, type SampleSet } from './samples.js';

export interface CompileOptions {
  /** Calibration samples: a file path (see readSamples) or the samples themselves. */
  calibration: string | SampleSet;
  /** Samples for the accuracy report (default: the calibration samples). */
  test?: string | SampleSet;
  out: string;
  /** Bit budgets; those given are pinned, the rest are planned (see precision). */
  quant?: Partial<QuantConfig>;
  /** 'auto' (default): search the cheapest budgets at the defaults' accuracy; 'fixed': use the defaults. */
  precision?: 'auto' | 'fixed';
  /** What the proof reveals (default: public input and output, weights fixed in the circuit). */
  visibility?: Partial<Visibility>;
  /** How to score the accuracy report (default: classification for vector outputs, else regression). */
  task?: Task;
  log?: (line: string) => void;
}

/** Largest disagreement tolerated between the importer's float IR and onnxruntime. */
const IMPORT_TOLERANCE = 1e-3;

/**
 * ONNX model -> quantized program -> circom circuit -> R1CS + witness WASM, with an accuracy report.
 * Everything is written to a temporary folder and moved into place at the end, so an error never
 * leaves a half-written build behind.
 */
export async function compile(onnxFile: string, options: CompileOptions): Promise<Manifest> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const graph = loadOnnx(onnxFile);
  const calibration = typeof options.calibration === 'string' ? readSamples(options.calibration) : options.calibration;
  const test = options.test === undefined ? calibration : typeof options.test === 'string' ? readSamples(options.test) : options.test;
  log(`imported ${onnxFile}: ${graph.nodes.length} ops, input ${graph.inputs.map((i) => `${i.name} [${i.shape}]`).join(', ')}`);

  const float = await FloatModel.load(onnxFile, graph.inputs, graph.onnxOutputName);
  try {
    await checkImport(float, graph, calibration.inputs[0]);
    let config: QuantConfig = { ...defaultQuantConfig, ...options.quant };
    let precision: PrecisionPlan | undefined;
    if (options.precision !== 'fixed') {
      precision = planPrecision(graph, calibration.inputs, await floatOutputs(float, calibration.inputs), options.quant ?? {}, options.task);
      config = precision.config;
      const [first] = precision.trials;
      const chosen = precision.trials.filter((t) => t.accepted).at(-1)!;
      log(`precision: input ${config.inputBits}, weight ${config.weightBits}, activation ${config.activationBits} bits; ${chosen.constraints} constraints by formula (defaults: ${first.constraints}), ${precision.trials.length} trials`);
    }
    const visibility = parseVisibility(options.visibility);
    const quantized = precision?.program ?? quantize(graph, calibration.inputs, config);
    // Hiding the weights changes neither the integer semantics nor accuracy, only the circuit.
    const program = visibility.weights === 'hashed' ? hideWeights(quantized) : quantized;
    const circuit = generateCircuit(program, visibility);
    const weightsCommitment = visibility.weights === 'hashed' ? String(await commitWeights(program)) : undefined;
    const accuracy = await measureAccuracy(float, program, test.inputs, test.labels, options.task);
    log(`quantized: ${accuracy.decisionAgreement !== undefined ? `decision agreement ${(accuracy.decisionAgreement * 100).toFixed(1)}%, ` : ''}relative error ${(accuracy.relativeError * 100).toFixed(2)}% on ${accuracy.samples} samples`);

    const out = resolve(options.out);
    const tmp = `${out}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      const paths = buildPaths(tmp);
      copyFileSync(onnxFile, paths.onnx);
      writeFileSync(paths.program, serializeProgram(program));
      writeFileSync(paths.circom, circuit.source);
      log('compiling circuit with circom');
      const stats = await runCircom(tmp, 'model.circom');
      const layout = publicLayout(visibility, inputSize(program), size(program.output.shape));
      if (publicSignalCount(layout) !== stats.publicInputs + stats.publicOutputs) throw new CircomError(`circom reports ${stats.publicInputs + stats.publicOutputs} public signals, the layout expects ${publicSignalCount(layout)}`);
      // The R1CS header is authoritative: circom's printed count leaves out linear constraints it kept.
      const r1cs = readR1csHeader(paths.r1cs);
      const manifest: Manifest = {
        version: MANIFEST_VERSION,
        createdAt: new Date().toISOString(),
        model: {
          source: onnxFile,
          sha256: sha256File(onnxFile),
          onnxInputs: graph.inputs,
          onnxOutput: graph.onnxOutputName,
          outputShape: graph.output.shape,
        },
        quant: config,
        visibility,
        ...(weightsCommitment ? { weightsCommitment } : {}),
        ...(precision ? { precision: precision.trials } : {}),
        inputs: inputOps(program).map((op, k) => ({
          name: op.source,
          shape: op.shape,
          frac: program.inputs[k].frac,
          min: String(op.lo),
          max: String(inputMax(op)),
          floatMin: Number(op.lo) / 2 ** program.inputs[k].frac,
          floatMax: Number(inputMax(op)) / 2 ** program.inputs[k].frac,
        })),
        output: { frac: program.output.frac, size: size(program.output.shape), postprocess: program.postprocess?.kind },
        approximations: program.approximations,
        circuit: {
          sha256: sha256File(paths.r1cs),
          constraints: r1cs.constraints,
          wires: stats.wires,
          publicSignals: stats.publicInputs + stats.publicOutputs,
          publicLayout: layout,
          costs: circuit.costs,
          compileSeconds: (performance.now() - started) / 1000,
        },
        accuracy,
      };
      writeFileSync(paths.manifest, JSON.stringify(manifest, null, 2));
      carryOverKeys(out, tmp, manifest.circuit.sha256);
      mkdirSync(dirname(out), { recursive: true });
      rmSync(out, { recursive: true, force: true });
      renameSync(tmp, out);
      log(`wrote ${out}: ${manifest.circuit.constraints} constraints, ${manifest.circuit.wires} wires, ${manifest.circuit.publicSignals} public signals (input ${visibility.input}, output ${visibility.output}, weights ${visibility.weights})`);
      return manifest;
    } finally {
      if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
    }
  } finally {
    await float.release();
  }
}

/**
 * Recompiling to the same circuit keeps the keys, verifier, proofs and native witness generator
 * already made for it, so the setup cache survives a recompile; a changed circuit starts from
 * nothing.
 */
function carryOverKeys(oldDir: string, newDir: string, circuitSha256: string): void {
  const old = buildPaths(oldDir);
  if (!existsSync(old.manifest)) return;
  try {
    if ((JSON.parse(readFileSync(old.manifest, 'utf8')) as Manifest).circuit.sha256 !== circuitSha256) return;
  } catch {
    return;
  }
  const fresh = buildPaths(newDir);
  for (const key of ['zkey', 'vkey', 'setup', 'verifierSol', 'verifierArtifact', 'proofs', 'nativeWitness', 'witnessChoice'] as const) {
    if (existsSync(old[key])) renameSync(old[key], fresh[key]);
  }
}

/** Guards the importer: its float IR must agree with onnxruntime on a real sample. */
async function checkImport(float: FloatModel, graph: ReturnType<typeof loadOnnx>, sample: number[]): Promise<void> {
  const expected = await float.run(sample);
  const got = evaluateFloat(graph, sample).get(graph.output.name)!;
  if (graph.nodes.some((n) => n.kind === 'argmax')) return; // indices: a float tie may resolve either way
  const scale = expected.reduce((a, e) => Math.max(a, Math.abs(e)), 1);
  const worst = expected.reduce((a, e, i) => Math.max(a, Math.abs(e - got[i])), 0);
  if (got.length !== expected.length || worst > IMPORT_TOLERANCE * scale) {
    throw new UnsupportedModelError('model', graph.output.name, `the imported graph disagrees with onnxruntime (max difference ${worst}); this is an importer bug`);
  }
}

import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { generateCircuit } from '../circuit/codegen.js';
import { commitWeights, hideWeights } from '../commit/commitments.js';
import { parseVisibility, publicLayout, publicSignalCount, type Visibility } from '../commit/visibility.js';
import { AccuracyError, CircomError, InvalidInputError, UnsupportedModelError } from '../errors.js';
import { sha256File } from '../hash.js';
import { size } from '../ir/graph.js';
import { evaluateFloat } from '../ir/float_eval.js';
import { loadOnnx } from '../onnx/import.js';
import { FloatModel } from '../onnx/runtime.js';
import { inputMax } from '../ops/input.js';
import type { InputOp } from '../ops/types.js';
import { buildPaths } from '../paths.js';
import { defaultQuantConfig, inputOps, serializeProgram, unitOf, type QProgram, type QTensor, type QuantConfig } from '../quant/program.js';
import { inputSize } from '../quant/io.js';
import { quantize } from '../quant/quantize.js';
import { isQuantizedGraph, quantizeQdq } from '../quant/qdq.js';
import { approximationEffects, floatOutputs, scoreAccuracy, type AccuracyReport, type Task } from './accuracy.js';
import { ACCURACY_TARGET, planPrecision, type PrecisionPlan, type PrecisionTrial } from './precision.js';
import { outsideRange, resolveInputRange, type InputRangeSpec } from './input_range.js';
import { readR1csHeader } from './r1cs_header.js';
import { runCircom } from './circom.js';
import { MANIFEST_VERSION, type Backend, type Manifest } from './manifest.js';
import { deriveSalts, NO_RECIPIENT, PublicStatement } from '../commit/statement.js';
import { usesSalt } from '../commit/visibility.js';
import { programCosts } from '../quant/bounds.js';
import { quantizeInput } from '../quant/io.js';
import { writeR1cs } from '../r1cs/files.js';
import { verifierSizeProblem } from '../chain/verifier.js';
import { synthesize } from '../r1cs/synthesize.js';
import { BatchStatement, batchDepth, batchModeProblem, checkBatchSize } from '../commit/batch.js';
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
  /** Known input ranges instead of the calibrated range plus margin (see resolveInputRange). */
  inputRange?: InputRangeSpec;
  /**
   * The least decision agreement with the float model on the test samples (classification,
   * binary), and the largest relative error, below or above which compile fails instead of
   * writing a build. Defaults: ACCURACY_TARGET (99%, 2%).
   */
  minAgreement?: number;
  maxRelativeError?: number;
  /**
   * How the circuit becomes R1CS: 'r1cs' (default) builds the constraints directly from the op
   * definitions (src/r1cs), in time and memory linear in the circuit, and computes witnesses in
   * JavaScript; 'circom' compiles the generated circom source (and writes circom's witness WASM,
   * which `--native-witness` and circom's own tooling need). Both give the same circuit, checked
   * on every conformance case (test/r1cs_backend.test.ts).
   */
  backend?: Backend;
  /**
   * Inferences per proof (default 1): a batched build proves up to this many inputs at once, with
   * the weights once and a constant number of public signals in committed modes
   * (src/commit/batch.ts). Needs the r1cs backend.
   */
  batchSize?: number;
  log?: (line: string) => void;
}

/** Largest disagreement tolerated between the importer's float IR and onnxruntime. */
const IMPORT_TOLERANCE = 1e-3;

/**
 * ONNX model -> quantized program -> R1CS (and, with the circom backend, the witness WASM), with an accuracy report.
 * Everything is written to a temporary folder and moved into place at the end, so an error never
 * leaves a half-written build behind.
 */
export async function compile(onnxFile: string, options: CompileOptions): Promise<Manifest> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const backend = options.backend ?? 'r1cs';
  if (backend !== 'circom' && backend !== 'r1cs') throw new InvalidInputError(`unknown backend ${String(backend)}; choose circom or r1cs`);
  const batchSize = options.batchSize ?? 1;
  checkBatchSize(batchSize);
  const visibility = parseVisibility(options.visibility);
  if (batchSize > 1) {
    const problem = batchModeProblem(visibility);
    if (problem) throw new InvalidInputError(problem);
    if (backend === 'circom') throw new InvalidInputError('a batched build (--batch-size above 1) is built by the r1cs backend; drop --backend circom');
  }
  const graph = loadOnnx(onnxFile);
  const calibration = typeof options.calibration === 'string' ? readSamples(options.calibration) : options.calibration;
  const test = options.test === undefined ? calibration : typeof options.test === 'string' ? readSamples(options.test) : options.test;
  log(`imported ${onnxFile}: ${graph.nodes.length} ops, input ${graph.inputs.map((i) => `${i.name} [${i.shape}]`).join(', ')}`);

  const float = await FloatModel.load(onnxFile, graph.inputs, graph.onnxOutputName);
  // An int8 model brings its own scales: no calibration, no precision search (src/quant/qdq.ts).
  const prequantized = isQuantizedGraph(graph);
  try {
    if (prequantized && options.quant && Object.keys(options.quant).length > 0) throw new InvalidInputError('this model carries its own int8 quantization (QuantizeLinear/DequantizeLinear or QLinear ops): bit budgets (--input-bits, --weight-bits, --activation-bits) do not apply');
    if (prequantized && options.inputRange !== undefined) throw new InvalidInputError('this model carries its own int8 quantization: its QuantizeLinear sets the input range (any float input is accepted and saturates), so --input-range does not apply');
    // The float IR of an int8 model rounds in float64 where onnxruntime rounds in float32; its
    // integer program is compared with onnxruntime element by element in the accuracy report instead.
    if (!prequantized) await checkImport(float, graph, calibration.inputs[0]);
    const pinned: Partial<QuantConfig> = { ...options.quant };
    if (options.inputRange !== undefined) {
      pinned.inputRange = resolveInputRange(options.inputRange, graph.inputs);
      const outside = outsideRange(calibration.inputs, pinned.inputRange);
      if (outside) throw new InvalidInputError(`${outside}: the known range must hold every calibration sample`);
    }
    let config: QuantConfig = { ...defaultQuantConfig, ...pinned };
    let precision: PrecisionPlan | undefined;
    if (prequantized) {
      log('int8 model: proving its own quantization (scales and zero points from the model; no calibration)');
    } else if (options.precision !== 'fixed') {
      precision = planPrecision(graph, calibration.inputs, await floatOutputs(float, calibration.inputs), pinned, options.task);
      config = precision.config;
      const [first] = precision.trials;
      const chosen = precision.trials.filter((t) => t.accepted).at(-1)!;
      if (precision.raised) log(`precision: the default budgets miss the accuracy target (${describeTrial(first)}); raised to ${describeTrial(precision.trials.find((t) => t.accepted)!)}`);
      log(`precision: input ${config.inputBits}, weight ${config.weightBits}, activation ${config.activationBits} bits; ${chosen.constraints} constraints in the ops by formula (defaults: ${first.constraints}; commitments and the recipient binding come on top), ${precision.trials.length} trials`);
    }
    const quantized = prequantized ? quantizeQdq(graph) : (precision?.program ?? quantize(graph, calibration.inputs, config));
    // Hiding the weights changes neither the integer semantics nor accuracy, only the circuit.
    const program = visibility.weights === 'hashed' ? hideWeights(quantized) : quantized;
    const circuit = backend === 'circom' ? generateCircuit(program, visibility) : undefined;
    const weightsCommitment = visibility.weights === 'hashed' ? String(await commitWeights(program)) : undefined;
    const testFloats = await floatOutputs(float, test.inputs);
    const accuracy = scoreAccuracy(program, test.inputs, testFloats, test.labels, options.task);
    const approximations = approximationEffects(program, test.inputs, testFloats, options.task);
    for (const a of approximations) {
      if (a.effect) log(`${a.fn} (${a.op}): max error ${a.maxError.toExponential(2)}; with it exact the model would score ${a.effect.decisionAgreement !== undefined ? `agreement ${(a.effect.decisionAgreement * 100).toFixed(1)}%, ` : ''}relative error ${(a.effect.relativeError * 100).toFixed(2)}%`);
    }
    log(`quantized: ${accuracy.decisionAgreement !== undefined ? `decision agreement ${(accuracy.decisionAgreement * 100).toFixed(1)}%, ` : ''}relative error ${(accuracy.relativeError * 100).toFixed(2)}% on ${accuracy.samples} samples`);
    if (accuracy.int8) log(`int8: ${pct(accuracy.int8.identical)} of output elements identical to onnxruntime's, the rest within ${accuracy.int8.maxSteps.toFixed(accuracy.int8.maxSteps < 10 ? 2 : 0)} output steps`);
    if (accuracy.outOfRange) {
      log(`${accuracy.outOfRange} of ${test.inputs.length} test samples fall outside the accepted input range (${describeRanges(program)}) and cannot be proved; --input-range (known bounds) or --input-margin widens it`);
    }
    // An int8 model is proved as it is: its difference from onnxruntime is onnxruntime's float32
    // rounding at near-ties (one flipped step can move an output by several), not a quantization
    // of ours, so by default only its decisions are gated.
    const defaultRelativeError = prequantized ? Infinity : ACCURACY_TARGET.relativeError;
    checkAccuracy(accuracy, { minAgreement: options.minAgreement ?? ACCURACY_TARGET.agreement, maxRelativeError: options.maxRelativeError ?? defaultRelativeError }, config, precision, calibration.inputs);

    const out = resolve(options.out);
    const tmp = `${out}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      const paths = buildPaths(tmp);
      copyFileSync(onnxFile, paths.onnx);
      writeFileSync(paths.program, serializeProgram(program));
      const layout = publicLayout(visibility, inputSize(program), size(program.output.shape), batchSize);
      let stats: { wires: number; publicSignals: number };
      if (circuit) {
        writeFileSync(paths.circom, circuit.source);
        log('compiling circuit with circom');
        const circom = await runCircom(tmp, 'model.circom');
        stats = { wires: circom.wires, publicSignals: circom.publicInputs + circom.publicOutputs };
      } else {
        log('building the R1CS from the op definitions');
        // Synthesized on a real sample: the witness it computes is checked against every constraint.
        const statement = await PublicStatement.for(program, visibility, layout);
        const sample = firstAccepted(program, calibration.inputs);
        const salts = usesSalt(visibility) ? await deriveSalts(visibility, 1n) : {};
        const signals = batchSize > 1 ? new BatchStatement(statement, batchSize, layout).circuitInputs([{ q: sample, out: [], salts }], NO_RECIPIENT) : statement.circuitInputs(sample, { salts, recipient: NO_RECIPIENT });
        const s = synthesize(program, visibility, signals, true, batchSize);
        writeFileSync(paths.r1cs, writeR1cs({ wires: s.cs.wires, publicOutputs: s.publicOutputs, publicInputs: s.publicInputs, privateInputs: s.privateInputs }, s.cs.constraints));
        stats = { wires: s.cs.wires, publicSignals: s.publicOutputs + s.publicInputs };
      }
      const tooLarge = verifierSizeProblem(stats.publicSignals, visibility.weights === 'hashed');
      if (tooLarge) log(`warning: ${tooLarge}`);
      if (publicSignalCount(layout) !== stats.publicSignals) throw new CircomError(`the circuit has ${stats.publicSignals} public signals, the layout expects ${publicSignalCount(layout)}`);
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
        ...(prequantized ? { prequantized: true } : {}),
        visibility,
        ...(batchSize > 1 ? { batch: { size: batchSize, depth: batchDepth(batchSize) } } : {}),
        ...(weightsCommitment ? { weightsCommitment } : {}),
        ...(precision ? { precision: precision.trials } : {}),
        inputs: inputOps(program).map((op, k) => describeInput(op, program.inputs[k])),
        output: { frac: program.output.frac, size: size(program.output.shape), postprocess: program.postprocess?.kind, ...(program.output.affine ? { affine: program.output.affine } : {}) },
        approximations,
        circuit: {
          sha256: sha256File(paths.r1cs),
          constraints: r1cs.constraints,
          backend,
          wires: stats.wires,
          publicSignals: stats.publicSignals,
          publicLayout: layout,
          costs: circuit?.costs ?? programCosts(program),
          compileSeconds: (performance.now() - started) / 1000,
        },
        accuracy,
      };
      writeFileSync(paths.manifest, JSON.stringify(manifest, null, 2));
      carryOverKeys(out, tmp, manifest.circuit.sha256);
      mkdirSync(dirname(out), { recursive: true });
      rmSync(out, { recursive: true, force: true });
      renameSync(tmp, out);
      if (batchSize > 1) log(`batched: ${batchSize} inferences per proof, ${Math.round(manifest.circuit.constraints / batchSize)} constraints per inference`);
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

/** The first sample the circuit accepts, quantized (the calibration range holds every calibration sample, so the first). */
function firstAccepted(program: QProgram, samples: readonly number[][]): bigint[] {
  for (const x of samples) {
    try {
      return quantizeInput(program, x);
    } catch {
      // outside a pinned input range: try the next
    }
  }
  return quantizeInput(program, samples[0]);
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

/** The manifest's view of an input: its scale, the envelope of its accepted range, and per-feature ranges where they differ. */
function describeInput(op: InputOp, t: QTensor): Manifest['inputs'][number] {
  const his = op.lo.map((_, i) => inputMax(op, i));
  const lo = op.lo.reduce((a, b) => (b < a ? b : a));
  const hi = his.reduce((a, b) => (b > a ? b : a));
  const float = (v: bigint) => Number(v) * unitOf(t);
  const uniform = op.lo.every((l, i) => l === op.lo[0] && his[i] === his[0]);
  return {
    name: op.source,
    shape: op.shape,
    frac: t.frac,
    ...(t.scale !== undefined ? { scale: t.scale } : {}),
    min: String(lo),
    max: String(hi),
    floatMin: float(lo),
    floatMax: float(hi),
    ...(uniform ? {} : { featureMin: op.lo.map(float), featureMax: his.map(float) }),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;

function describeTrial(t: PrecisionTrial): string {
  const c = t.config;
  return `input ${c.inputBits} / weight ${c.weightBits} / activation ${c.activationBits} bits: ${t.decisionAgreement !== undefined ? `agreement ${pct(t.decisionAgreement)}, ` : ''}relative error ${pct(t.relativeError)} on the calibration samples`;
}

function describeRanges(p: QProgram): string {
  return inputOps(p)
    .map((op, k) => {
      const f = (v: bigint) => Number(v) * unitOf(p.inputs[k]);
      const his = op.lo.map((_, i) => inputMax(op, i));
      return `${op.source} in [${f(op.lo.reduce((a, b) => (b < a ? b : a)))}, ${f(his.reduce((a, b) => (b > a ? b : a)))}]`;
    })
    .join(', ');
}

/**
 * Refuses a build that does not compute what the float model computes closely enough, with the
 * numbers and what to do: a proof of a model that disagrees with the model the user trained is
 * worse than no proof.
 */
function checkAccuracy(a: AccuracyReport, limits: { minAgreement: number; maxRelativeError: number }, config: QuantConfig, plan: PrecisionPlan | undefined, samples: readonly number[][]): void {
  const problems: string[] = [];
  if (a.decisionAgreement !== undefined && a.decisionAgreement < limits.minAgreement) problems.push(`decision agreement with the float model ${pct(a.decisionAgreement)} (minimum ${pct(limits.minAgreement)})`);
  if (a.relativeError > limits.maxRelativeError) problems.push(`relative error ${pct(a.relativeError)} (maximum ${pct(limits.maxRelativeError)})`);
  if (problems.length === 0) return;
  const budgets = `input ${config.inputBits} / weight ${config.weightBits} / activation ${config.activationBits} bits`;
  const searched = plan?.exhausted ? ', the most accurate budgets the planner found after raising every free budget to its ceiling' : '';
  // A tensor whose features span orders of magnitude shares one scale: the small ones lose their precision.
  const lo = samples[0].map((_, i) => samples.reduce((m, s) => Math.min(m, s[i]), Infinity));
  const hi = samples[0].map((_, i) => samples.reduce((m, s) => Math.max(m, s[i]), -Infinity));
  const spans = hi.map((h, i) => h - lo[i]).filter((v) => v > 0);
  const ratio = spans.length ? Math.max(...spans) / Math.min(...spans) : 1;
  const why =
    ratio >= 100
      ? ` The input features span very different scales (the widest ${Math.max(...spans).toPrecision(3)}, the narrowest ${Math.min(...spans).toPrecision(3)}: ${Math.round(ratio)}x) and share one fixed-point scale, so the narrow ones lose their precision: normalize the inputs outside the graph (apply the scaler before the model, and prove on scaled inputs), or pin a wider --input-bits.`
      : ' Pin wider budgets (--input-bits, --weight-bits, --activation-bits), or give calibration samples that cover the inputs you will prove.';
  throw new AccuracyError(
    `the quantized model is not accurate enough on ${a.samples} test samples: ${problems.join(' and ')}, at ${budgets}${searched}.${why} To build it anyway, lower --min-agreement or raise --max-relative-error.`,
  );
}

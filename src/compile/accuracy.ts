import type { FloatModel } from '../onnx/runtime.js';
import { FixedPointRangeError } from '../errors.js';
import { decodeOutput, quantizeInput } from '../quant/io.js';
import type { Approximation, QProgram } from '../quant/program.js';
import { exactVariant } from '../ops/pwl.js';
import { referenceOutput } from '../quant/reference.js';

/** What the model's output means: scores per class, one probability, or a value. */
export type Task = 'classification' | 'binary' | 'regression';

export interface AccuracyReport {
  task: Task;
  /** Samples scored: those inside the compiled input range. */
  samples: number;
  /** Samples outside the compiled input range (they cannot be proved), left out of the scores. */
  outOfRange?: number;
  /** Fraction of samples on which quantized and float models decide the same (binary: p > 0.5). */
  decisionAgreement?: number;
  /** Fraction of samples whose quantized argmax equals the float model's (outputs of more than one value). */
  top1Agreement?: number;
  /** Per output element: the largest |quantized - float| over the samples. */
  maxAbsError: number[];
  meanAbsError: number;
  /** Largest |float output|, for scale. */
  maxAbsFloat: number;
  /** max |quantized - float| / max |float|: the regression figure. */
  relativeError: number;
  /** Fraction of samples where the quantized argmax is the true label, when labels are known. */
  labelAccuracy?: number;
  floatLabelAccuracy?: number;
  /**
   * An int8 model (its own quantization): the fraction of output elements identical to
   * onnxruntime's, and the largest difference in output steps (the output's scale).
   */
  int8?: { identical: number; maxSteps: number };
}

export function argmax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Runs the float model (onnxruntime) and the integer reference on the same samples. */
export async function measureAccuracy(model: FloatModel, program: QProgram, inputs: readonly number[][], labels?: readonly number[], task?: Task): Promise<AccuracyReport> {
  return scoreAccuracy(program, inputs, await floatOutputs(model, inputs), labels, task);
}

export async function floatOutputs(model: FloatModel, inputs: readonly number[][]): Promise<number[][]> {
  const out: number[][] = [];
  for (const x of inputs) out.push(await model.run(x));
  return out;
}

/** The integer reference against float outputs already computed. */
export function scoreAccuracy(program: QProgram, inputs: readonly number[][], floats: readonly number[][], labels?: readonly number[], task?: Task): AccuracyReport {
  return compareOutputs(program, inputs, floats, labels, task).report;
}

/**
 * The report, and per sample whether the quantized model makes the float model's decision
 * (undefined for regression, which has no decisions). Samples outside the compiled input range
 * cannot be proved: they are counted in `outOfRange` and left out of every score.
 */
export function compareOutputs(
  program: QProgram,
  inputs: readonly number[][],
  floats: readonly number[][],
  labels?: readonly number[],
  task?: Task,
): { report: AccuracyReport; agrees?: boolean[] } {
  let agree = 0;
  let decisions = 0;
  let correct = 0;
  let floatCorrect = 0;
  let sumErr = 0;
  let count = 0;
  let maxAbsFloat = 0;
  let maxAbsError: number[] = [];
  let classification = false;
  let outOfRange = 0;
  let identical = 0;
  let maxSteps = 0;
  const affine = program.output.affine;
  const agrees: boolean[] = [];
  for (const [k, x] of inputs.entries()) {
    const float = floats[k];
    let q: bigint[];
    try {
      q = quantizeInput(program, x);
    } catch (err) {
      if (!(err instanceof FixedPointRangeError)) throw err;
      outOfRange++;
      continue;
    }
    const quant = decodeOutput(program, referenceOutput(program, q));
    classification = float.length > 1;
    const binaryAgrees = (float[0] > 0.5) === (quant[0] > 0.5);
    if (float.length === 1 && binaryAgrees) decisions++;
    if (maxAbsError.length === 0) maxAbsError = new Array(float.length).fill(0);
    float.forEach((f, i) => {
      const e = Math.abs(f - quant[i]);
      maxAbsError[i] = Math.max(maxAbsError[i], e);
      maxAbsFloat = Math.max(maxAbsFloat, Math.abs(f));
      sumErr += e;
      count++;
      if (affine) {
        if (e === 0) identical++;
        maxSteps = Math.max(maxSteps, e / Math.abs(affine.scale[i]));
      }
    });
    const top1 = argmax(float) === argmax(quant);
    if (top1) agree++;
    agrees.push(float.length === 1 ? binaryAgrees : top1);
    if (labels && classification) {
      if (argmax(quant) === labels[k]) correct++;
      if (argmax(float) === labels[k]) floatCorrect++;
    }
  }
  const scored = inputs.length - outOfRange;
  const n = Math.max(1, scored);
  const worst = maxAbsError.reduce((a, b) => Math.max(a, b), 0);
  const resolved: Task = task ?? (classification ? 'classification' : 'regression');
  const report: AccuracyReport = {
    task: resolved,
    samples: scored,
    ...(outOfRange ? { outOfRange } : {}),
    ...(classification ? { top1Agreement: agree / n } : {}),
    ...(resolved === 'binary' ? { decisionAgreement: decisions / n } : classification ? { decisionAgreement: agree / n } : {}),
    maxAbsError,
    meanAbsError: sumErr / Math.max(1, count),
    maxAbsFloat,
    relativeError: maxAbsFloat > 0 ? worst / maxAbsFloat : worst,
    ...(labels && classification ? { labelAccuracy: correct / n, floatLabelAccuracy: floatCorrect / n } : {}),
    ...(affine ? { int8: { identical: identical / Math.max(1, count), maxSteps } } : {}),
  };
  return { report, ...(resolved === 'regression' ? {} : { agrees }) };
}

/**
 * Each approximated function's effect on the model's output: the report recomputed with that one
 * function exact at every input step of its domain, everything else unchanged.
 */
export function approximationEffects(program: QProgram, inputs: readonly number[][], floats: readonly number[][], task?: Task): Approximation[] {
  return program.approximations.map((a) => {
    const k = program.ops.findIndex((o) => o.output === a.output);
    const op = program.ops[k];
    const exact = op?.kind === 'pwl' ? exactVariant(op) : undefined;
    if (!exact) return a;
    const ops = program.ops.map((o, i) => (i === k ? exact : o));
    let r: AccuracyReport;
    try {
      r = compareOutputs({ ...program, ops }, inputs, floats, undefined, task).report;
    } catch (err) {
      // Informational only: a variant the enforced ranges refuse (a quotient past its headroom) reports nothing.
      if (err instanceof FixedPointRangeError) return a;
      throw err;
    }
    return { ...a, effect: { ...(r.decisionAgreement !== undefined ? { decisionAgreement: r.decisionAgreement } : {}), relativeError: r.relativeError } };
  });
}

import type { FloatModel } from '../onnx/runtime.js';
import { decodeOutput, quantizeInput } from '../quant/io.js';
import type { QProgram } from '../quant/program.js';
import { referenceOutput } from '../quant/reference.js';

/** What the model's output means: scores per class, one probability, or a value. */
export type Task = 'classification' | 'binary' | 'regression';

export interface AccuracyReport {
  task: Task;
  samples: number;
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
  let agree = 0;
  let decisions = 0;
  let correct = 0;
  let floatCorrect = 0;
  let sumErr = 0;
  let count = 0;
  let maxAbsFloat = 0;
  let maxAbsError: number[] = [];
  let classification = false;
  for (const [k, x] of inputs.entries()) {
    const float = floats[k];
    const quant = decodeOutput(program, referenceOutput(program, quantizeInput(program, x)));
    classification = float.length > 1;
    if (float.length === 1 && (float[0] > 0.5) === (quant[0] > 0.5)) decisions++;
    if (maxAbsError.length === 0) maxAbsError = new Array(float.length).fill(0);
    float.forEach((f, i) => {
      const e = Math.abs(f - quant[i]);
      maxAbsError[i] = Math.max(maxAbsError[i], e);
      maxAbsFloat = Math.max(maxAbsFloat, Math.abs(f));
      sumErr += e;
      count++;
    });
    if (argmax(float) === argmax(quant)) agree++;
    if (labels && classification) {
      if (argmax(quant) === labels[k]) correct++;
      if (argmax(float) === labels[k]) floatCorrect++;
    }
  }
  const worst = maxAbsError.reduce((a, b) => Math.max(a, b), 0);
  const resolved: Task = task ?? (classification ? 'classification' : 'regression');
  return {
    task: resolved,
    samples: inputs.length,
    ...(classification ? { top1Agreement: agree / inputs.length } : {}),
    ...(resolved === 'binary' ? { decisionAgreement: decisions / inputs.length } : classification ? { decisionAgreement: agree / inputs.length } : {}),
    maxAbsError,
    meanAbsError: sumErr / Math.max(1, count),
    maxAbsFloat,
    relativeError: maxAbsFloat > 0 ? worst / maxAbsFloat : worst,
    ...(labels && classification ? { labelAccuracy: correct / inputs.length, floatLabelAccuracy: floatCorrect / inputs.length } : {}),
  };
}

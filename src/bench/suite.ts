import { join } from 'node:path';
import { modelsDir } from '../paths.js';

/** The benchmark suite: bundled models, with the published figures each is compared against. */
export interface SuiteModel {
  name: string;
  /** circomlib-ml (keras2circom) non-linear constraints for the same architecture, circom 2.2.3. */
  circomlibMl?: number;
  /** EZKL 21.0.0 (wasm engine) on the same architecture, measured on a 2-core machine. */
  ezkl?: { prove: string; proofBytes: number };
  /** Member of a scaling series: the same architecture at growing width. */
  series?: { name: string; width: number };
}

export const suite: SuiteModel[] = [
  { name: 'iris_mlp', circomlibMl: 9_147, ezkl: { prove: '53 s default, 3.2 s tuned', proofBytes: 3_000 } },
  { name: 'digits_mlp', circomlibMl: 30_084 },
  { name: 'digits28_mlp', circomlibMl: 86_452 },
  { name: 'digits_cnn8', circomlibMl: 115_192 },
  { name: 'digits_pca_mlp', ezkl: { prove: '30-50 s', proofBytes: 3_000 } },
  { name: 'digits_cnn' },
  { name: 'digits_avgpool_cnn' },
  { name: 'digits_residual_mlp' },
  { name: 'digits_tanh_mlp' },
  { name: 'breast_cancer_logreg' },
  { name: 'diabetes_linreg' },
  { name: 'digits_gelu_mlp' },
  { name: 'digits_transformer' },
  { name: 'scaling_conv2', series: { name: 'Conv3x3xC-ReLU-Dense10 on 8x8', width: 2 } },
  { name: 'scaling_conv8', series: { name: 'Conv3x3xC-ReLU-Dense10 on 8x8', width: 8 } },
  { name: 'scaling_conv32', series: { name: 'Conv3x3xC-ReLU-Dense10 on 8x8', width: 32 } },
  { name: 'scaling_conv64', series: { name: 'Conv3x3xC-ReLU-Dense10 on 8x8', width: 64 } },
];

/** The default run leaves out the largest scaling member (a 2^16 setup); `--models all` includes it. */
export const defaultModels = suite.filter((m) => m.name !== 'scaling_conv64').map((m) => m.name);

/**
 * What a benchmark measures: a model to compile (an ONNX file with its calibration samples, or a
 * bundled model of the suite) or a build folder as it is. Researchers bench their own models
 * with the same tables, JSON and charts as the suite (`zkml bench model.onnx -c ...`).
 */
export interface BenchTarget {
  /** The model's name in the tables. */
  name: string;
  onnx?: string;
  calibration?: string;
  test?: string;
  /** compile --input-range. */
  inputRange?: string;
  /** A compiled build folder, measured as it is (keys made if it has none). */
  build?: string;
  /** The inputs to prove: default the test samples, else the calibration samples. */
  samples?: string;
}

/** A bundled model of the suite as a target. */
export function suiteTarget(name: string): BenchTarget {
  const src = join(modelsDir, name);
  return { name, onnx: join(src, 'model.onnx'), calibration: join(src, 'calibration.json'), test: join(src, 'test.json'), samples: join(src, 'test.json') };
}

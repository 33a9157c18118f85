import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Task } from '../../src/compile/accuracy.js';
import { compile } from '../../src/compile/compile.js';
import { readSamples, type SampleSet } from '../../src/compile/samples.js';
import type { Manifest } from '../../src/compile/manifest.js';
import { modelsDir } from '../../src/paths.js';
import { setup } from '../../src/setup/setup.js';
import { parseVisibility, type Visibility } from '../../src/commit/visibility.js';

export const bundledModels = [
  'iris_mlp',
  'digits_mlp',
  'digits_cnn',
  'digits_avgpool_cnn',
  'digits_residual_mlp',
  'digits_tanh_mlp',
  'breast_cancer_logreg',
  'diabetes_linreg',
  'digits_cnn8',
  'digits28_mlp',
  'digits_pca_mlp',
  'digits_gelu_mlp',
] as const;
/**
 * Models for one purpose, not in the sweeps above: wine_mlp takes raw features (0.13 .. 1680 in one
 * tensor), so it needs the precision planner (test/precision.test.ts); default budgets lose it.
 * lenet5 (117k constraints) is quantized and synthesized in tests, but proved only in the benchmark.
 */
export const specialModels = ['wine_mlp', 'lenet5'] as const;
export type BundledModel = (typeof bundledModels)[number] | (typeof specialModels)[number];

export function task(model: BundledModel): Task {
  return (JSON.parse(readFileSync(modelFile(model, 'meta.json'), 'utf8')) as { task: Task }).task;
}

/** Builds survive between test files (same process tree, same tmp dir); keys are cached by circuit hash. */
const root = join(tmpdir(), 'zkml-test-builds');

export function modelFile(model: BundledModel, file: string): string {
  return join(modelsDir, model, file);
}

export function testSamples(model: BundledModel): SampleSet {
  return readSamples(modelFile(model, 'test.json'));
}

export function calibrationSamples(model: BundledModel): SampleSet {
  return readSamples(modelFile(model, 'calibration.json'));
}

/**
 * A bundled model compiled with the default (or the given) visibility, in a folder shared by the
 * test files. With the circom backend: tests read its .sym names and witness WASM, and the R1CS
 * backend (the default) is checked against it in test/r1cs_backend.test.ts.
 */
export async function compiled(model: BundledModel, visibility?: Partial<Visibility>): Promise<{ dir: string; manifest: Manifest }> {
  const v = parseVisibility(visibility);
  const dir = join(root, visibility ? `${model}__${v.input}_${v.output}_${v.weights}` : model);
  const manifest = await compile(modelFile(model, 'model.onnx'), {
    calibration: modelFile(model, 'calibration.json'),
    test: modelFile(model, 'test.json'),
    out: dir,
    task: task(model),
    visibility: v,
    backend: 'circom',
  });
  return { dir, manifest };
}

export async function withKeys(model: BundledModel, visibility?: Partial<Visibility>): Promise<{ dir: string; manifest: Manifest }> {
  const build = await compiled(model, visibility);
  await setup(build.dir);
  return build;
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `zkml-${prefix}-`));
}

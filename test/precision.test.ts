import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compile } from '../src/compile/compile.js';
import { loadBuild } from '../src/compile/manifest.js';
import { AccuracyError, FixedPointRangeError } from '../src/errors.js';
import { quantizeInput } from '../src/quant/io.js';
import { compareOutputs, floatOutputs, scoreAccuracy } from '../src/compile/accuracy.js';
import { planPrecision } from '../src/compile/precision.js';
import { evaluateFloat } from '../src/ir/float_eval.js';
import { loadOnnx } from '../src/onnx/import.js';
import { FloatModel } from '../src/onnx/runtime.js';
import { programCosts } from '../src/quant/bounds.js';
import { defaultQuantConfig, inputOps } from '../src/quant/program.js';
import { quantize } from '../src/quant/quantize.js';
import { calibrationSamples, modelFile, scratchDir, testSamples, type BundledModel } from './helpers/fixtures.js';

async function floats(model: BundledModel, inputs: number[][]): Promise<number[][]> {
  const graph = loadOnnx(modelFile(model, 'model.onnx'));
  const float = await FloatModel.load(modelFile(model, 'model.onnx'), graph.inputs, graph.onnxOutputName);
  try {
    return await floatOutputs(float, inputs);
  } finally {
    await float.release();
  }
}

const formula = (p: ReturnType<typeof quantize>) => programCosts(p).reduce((a, c) => a + c.nonLinear, 0);

describe('constraint minimisation', () => {
  it('pixels on a 1/16 grid are represented exactly: 4 fractional bits, a non-negative range, 5-bit checks', () => {
    const program = quantize(loadOnnx(modelFile('digits_mlp', 'model.onnx')), calibrationSamples('digits_mlp').inputs);
    const [input] = inputOps(program);
    assert.equal(program.inputs[0].frac, 4);
    assert.ok(input.lo.every((lo) => lo === 0n));
    assert.ok(input.bits.every((b) => b === 5));
    // Off-grid measurements (iris, in cm with one decimal) keep the full width budget.
    const iris = quantize(loadOnnx(modelFile('iris_mlp', 'model.onnx')), calibrationSamples('iris_mlp').inputs);
    assert.ok(inputOps(iris)[0].bits.every((b) => b === defaultQuantConfig.inputBits));
  });

  it('the precision planner lowers budgets only while the calibration accuracy holds, and keeps pinned ones', async () => {
    const model = 'digits28_mlp';
    const graph = loadOnnx(modelFile(model, 'model.onnx'));
    const { inputs } = calibrationSamples(model);
    const f = await floats(model, inputs);
    const plan = planPrecision(graph, inputs, f, {});
    const [defaults] = plan.trials;
    const chosen = plan.trials.filter((t) => t.accepted).at(-1)!;
    assert.deepEqual(chosen.config, plan.config);
    assert.ok(chosen.constraints < defaults.constraints / 1.5, `${chosen.constraints} vs ${defaults.constraints}`);
    assert.ok(chosen.decisionAgreement! >= defaults.decisionAgreement!);
    // Not only as many decisions: every sample the defaults decide as the float model does, the chosen budgets do too.
    const kept = compareOutputs(quantize(graph, inputs, defaults.config), inputs, f).agrees!;
    const now = compareOutputs(plan.program, inputs, f).agrees!;
    assert.deepEqual(kept.flatMap((k, i) => (k && !now[i] ? [i] : [])), []);
    assert.ok(chosen.relativeError <= 1.25 * defaults.relativeError + 5e-4);
    // Some cheaper trial was rejected for accuracy: the criterion can fail.
    assert.ok(plan.trials.some((t) => !t.accepted && t.constraints < chosen.constraints));
    // Re-scoring the chosen program reproduces the trial's figures.
    const again = scoreAccuracy(quantize(graph, inputs, plan.config), inputs, f);
    assert.equal(again.relativeError, chosen.relativeError);
    assert.equal(formula(quantize(graph, inputs, plan.config)), chosen.constraints);

    const pinned = planPrecision(graph, inputs, f, { inputBits: 9 });
    assert.equal(pinned.config.inputBits, 9);
  });

  it('MaxPool(Relu(x)) becomes Relu(MaxPool(x)): pooling compares accumulators, one ReLU per window', () => {
    const graph = loadOnnx(modelFile('digits_cnn8', 'model.onnx'));
    const kinds = graph.nodes.map((n) => n.kind);
    assert.deepEqual(kinds, ['linear', 'maxPool', 'relu', 'linear']);
    // The float IR still computes the same function (onnxruntime agreement is checked at compile).
    const program = quantize(graph, calibrationSamples('digits_cnn8').inputs);
    const rescales = program.ops.filter((o) => o.kind === 'rescale');
    assert.equal(rescales.length, 1);
    const sample = calibrationSamples('digits_cnn8').inputs[0];
    assert.equal(evaluateFloat(graph, sample).get(graph.output.name)!.length, 10);
  });
});

describe('accuracy that cannot be lost silently (wine MLP: standardization inside the graph, raw features 0.13 .. 1680)', () => {
  const model = 'wine_mlp';
  const options = (out: string) => ({ calibration: modelFile(model, 'calibration.json'), test: modelFile(model, 'test.json'), out: join(scratchDir('wine'), out) });

  it('the defaults lose decisions; the planner raises the budgets until the float model\'s decisions come back', async () => {
    const m = await compile(modelFile(model, 'model.onnx'), options('auto'));
    assert.ok(m.accuracy.decisionAgreement! >= 0.99, `agreement ${m.accuracy.decisionAgreement}`);
    assert.ok(m.accuracy.relativeError <= 0.02, `relative error ${m.accuracy.relativeError}`);
    const [defaults] = m.precision!;
    assert.ok(defaults.decisionAgreement! < 0.99, 'the default budgets alone are not accurate enough on this model');
    assert.ok(m.quant.inputBits > defaultQuantConfig.inputBits, 'the input budget was raised');
  });

  it('pinned budgets that lose accuracy fail with the numbers and the fix, and leave no build', async () => {
    const o = options('pinned');
    await assert.rejects(compile(modelFile(model, 'model.onnx'), { ...o, quant: { inputBits: 12, weightBits: 10, activationBits: 12 } }), (e: unknown) => {
      assert.ok(e instanceof AccuracyError);
      assert.match(e.message, /decision agreement with the float model \d+\.\d% \(minimum 99\.0%\)/);
      assert.match(e.message, /normalize the inputs outside the graph/);
      assert.match(e.message, /--min-agreement/);
      return true;
    });
    assert.equal(existsSync(o.out), false);
    // Told to, it builds anyway.
    const m = await compile(modelFile(model, 'model.onnx'), { ...o, quant: { inputBits: 12, weightBits: 10, activationBits: 12 }, minAgreement: 0, maxRelativeError: 1 });
    assert.ok(m.accuracy.decisionAgreement! < 0.99);
  });

  it('--input-range: per-feature known bounds give each feature its own window; values outside are refused, naming the option', async () => {
    const range = JSON.parse(readFileSync(modelFile(model, 'input_range.json'), 'utf8')) as { min: number[]; max: number[] };
    const o = options('ranged');
    const m = await compile(modelFile(model, 'model.onnx'), { ...o, inputRange: modelFile(model, 'input_range.json') });
    assert.ok(m.accuracy.decisionAgreement! >= 0.99);
    const [input] = m.inputs;
    assert.equal(input.featureMin!.length, 13);
    range.min.forEach((lo, i) => {
      assert.ok(input.featureMin![i] <= lo && input.featureMin![i] > lo - 2 ** -input.frac, `feature ${i} starts at its known minimum`);
      assert.ok(input.featureMax![i] >= range.max[i], `feature ${i} reaches its known maximum`);
    });
    const { program } = loadBuild(o.out);
    const x = [...testSamples(model).inputs[0]];
    x[12] = range.max[12] * 2; // proline, twice the largest seen
    assert.throws(() => quantizeInput(program, x), (e: unknown) => e instanceof FixedPointRangeError && e.index === 12 && /--input-range/.test(e.message));
    // A known range must hold the calibration samples; a malformed one is named.
    await assert.rejects(compile(modelFile(model, 'model.onnx'), { ...options('bad'), inputRange: '0:1' }), /calibration sample 0, value \d+ = .* is outside its --input-range \[0, 1\]/);
    await assert.rejects(compile(modelFile(model, 'model.onnx'), { ...options('bad'), inputRange: { min: [0, 0], max: [1, 1] } }), /"min" has 2 values; the input has 13/);
    await assert.rejects(compile(modelFile(model, 'model.onnx'), { ...options('bad'), inputRange: 'wide' }), /neither lo:hi/);
  });

  it('test samples outside the accepted range are counted, not scored', async () => {
    const { inputs } = testSamples(model);
    const far = inputs.map((x, k) => (k < 3 ? x.map((v) => v * 10) : x));
    const m = await compile(modelFile(model, 'model.onnx'), { ...options('far'), test: { inputs: far } });
    assert.equal(m.accuracy.outOfRange, 3);
    assert.equal(m.accuracy.samples, inputs.length - 3);
  });
});

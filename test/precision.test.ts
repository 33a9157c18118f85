import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { floatOutputs, scoreAccuracy } from '../src/compile/accuracy.js';
import { planPrecision } from '../src/compile/precision.js';
import { evaluateFloat } from '../src/ir/float_eval.js';
import { loadOnnx } from '../src/onnx/import.js';
import { FloatModel } from '../src/onnx/runtime.js';
import { programCosts } from '../src/quant/bounds.js';
import { defaultQuantConfig, inputOps } from '../src/quant/program.js';
import { quantize } from '../src/quant/quantize.js';
import { calibrationSamples, modelFile, type BundledModel } from './helpers/fixtures.js';

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
    assert.equal(input.lo, 0n);
    assert.equal(input.bits, 5);
    // Off-grid measurements (iris, in cm with one decimal) keep the full width budget.
    const iris = quantize(loadOnnx(modelFile('iris_mlp', 'model.onnx')), calibrationSamples('iris_mlp').inputs);
    assert.equal(inputOps(iris)[0].bits, defaultQuantConfig.inputBits);
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

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureAccuracy } from '../src/compile/accuracy.js';
import { FieldOverflowError, FixedPointRangeError, InvalidInputError, ShapeMismatchError } from '../src/errors.js';
import { loadOnnx } from '../src/onnx/import.js';
import { FloatModel } from '../src/onnx/runtime.js';
import { rescale, rescaleBits, signedBits } from '../src/ops/fixed_point.js';
import { inputMax } from '../src/ops/input.js';
import { analyzeBounds } from '../src/quant/bounds.js';
import { quantizeInput } from '../src/quant/io.js';
import { inputOps, parseProgram, serializeProgram, type QProgram } from '../src/quant/program.js';
import { quantize } from '../src/quant/quantize.js';
import { runReference } from '../src/quant/reference.js';
import { bundledModels, calibrationSamples, modelFile, task, testSamples } from './helpers/fixtures.js';
import { rng } from './helpers/onnx_builder.js';

describe('fixed-point arithmetic', () => {
  it('rescale rounds half up, also for negative values', () => {
    const cases: [bigint, number, bigint][] = [
      [5n, 1, 3n], // 2.5 -> 3
      [-5n, 1, -2n], // -2.5 -> -2
      [-6n, 2, -1n], // -1.5 -> -1
      [-7n, 2, -2n], // -1.75 -> -2
      [7n, 0, 7n],
    ];
    for (const [x, s, y] of cases) assert.equal(rescale(x, s), y, `rescale(${x}, ${s})`);
    for (let x = -64n; x <= 64n; x++) {
      assert.equal(rescale(x, 3), BigInt(Math.floor(Number(x) / 8 + 0.5)));
    }
  });

  it('widths are the smallest that hold the range', () => {
    assert.equal(signedBits({ lo: -128n, hi: 127n }), 8);
    assert.equal(signedBits({ lo: -129n, hi: 127n }), 9);
    assert.equal(signedBits({ lo: 0n, hi: 128n }), 9);
    assert.equal(rescaleBits({ lo: -100n, hi: 100n }, 4), 8); // (-100+8 .. 100+8) fits in 8 bits
    assert.equal(rescaleBits({ lo: 0n, hi: 0n }, 6), 7); // at least shift + 1
  });
});

describe('quantization', () => {
  for (const model of bundledModels) {
    it(`${model}: agrees with onnxruntime on the bundled test samples (>= 99% decisions, <= 1% regression error)`, async () => {
      const graph = loadOnnx(modelFile(model, 'model.onnx'));
      const program = quantize(graph, calibrationSamples(model).inputs);
      const float = await FloatModel.load(modelFile(model, 'model.onnx'), graph.inputs, graph.onnxOutputName);
      const { inputs, labels } = testSamples(model);
      const report = await measureAccuracy(float, program, inputs, labels, task(model));
      await float.release();
      assert.ok(report.samples >= 50);
      if (report.task === 'regression') assert.ok(report.relativeError <= 0.01, `relative error ${report.relativeError}`);
      else assert.ok(report.decisionAgreement! >= 0.99, `agreement ${report.decisionAgreement}`);
      assert.ok(report.relativeError < 0.05, `relative error ${report.relativeError}`);
    });

    it(`${model}: every reference value lies inside the analysed bounds`, () => {
      const program = quantize(loadOnnx(modelFile(model, 'model.onnx')), calibrationSamples(model).inputs);
      const bounds = analyzeBounds(program);
      const op = inputOps(program)[0];
      const r = rng(11);
      const span = (i: number) => Number(inputMax(op, i) - op.lo[i]);
      // Random points of the admitted input box, including its corners.
      const points = [
        ...Array.from({ length: 10 }, () => op.lo.map((lo, i) => lo + BigInt(Math.floor(((r() + 1) / 2) * (span(i) + 1))))),
        [...op.lo],
        op.lo.map((_, i) => inputMax(op, i)),
      ];
      for (const x of points) {
        for (const [name, values] of runReference(program, x)) {
          values.forEach((v, i) => assert.ok(v >= bounds.get(name)![i].lo && v <= bounds.get(name)![i].hi, `${name}[${i}]`));
        }
      }
    });
  }

  it('the program survives JSON serialization', () => {
    const program = quantize(loadOnnx(modelFile('iris_mlp', 'model.onnx')), calibrationSamples('iris_mlp').inputs);
    assert.deepEqual(parseProgram(serializeProgram(program)), program);
  });

  it('bad inputs are rejected with the element named', () => {
    const program = quantize(loadOnnx(modelFile('iris_mlp', 'model.onnx')), calibrationSamples('iris_mlp').inputs);
    assert.throws(() => quantizeInput(program, [1, 2, 3]), (e: unknown) => e instanceof ShapeMismatchError && /expected 4 values/.test(e.message));
    assert.throws(() => quantizeInput(program, [1, NaN, 3, 4]), (e: unknown) => e instanceof InvalidInputError && /input\[1\] is NaN/.test(e.message));
    assert.throws(() => quantizeInput(program, [1, 2, Infinity, 4]), (e: unknown) => e instanceof InvalidInputError && /input\[2\] is Infinity/.test(e.message));
    assert.throws(
      () => quantizeInput(program, [5, 3, 1000, 1]),
      (e: unknown) => e instanceof FixedPointRangeError && e.index === 2 && /outside the range/.test(e.message),
    );
  });

  it('a program whose values cannot fit the field is refused before any circuit exists', () => {
    const program: QProgram = {
      inputs: [{ name: 'x', shape: [1, 2], frac: 0 }],
      output: { name: 'y', shape: [1, 1], frac: 0 },
      approximations: [],
      ops: [
        { kind: 'input', source: 'x', inputs: [], output: 'x', shape: [1, 2], offset: 0, lo: [0n, 0n], bits: [200, 200] },
        { kind: 'linear', source: 'fc', inputs: ['x'], output: 'y', rowStart: [0, 2], src: [0, 0], index: [0, 1], weight: [1n << 60n, 1n], bias: [0n] },
      ],
    };
    assert.throws(() => analyzeBounds(program), (e: unknown) => e instanceof FieldOverflowError && /y \(from fc\)/.test(e.message));
  });
});

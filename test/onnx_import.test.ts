import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { onnx } from '../src/onnx/proto.js';
import { MalformedModelError, ShapeMismatchError, UnsupportedModelError, UnsupportedOpError } from '../src/errors.js';
import { decodeModel, importGraph, loadOnnx } from '../src/onnx/import.js';
import { supportedOps } from '../src/onnx/lower/index.js';
import { quantize } from '../src/quant/quantize.js';
import { bundledModels, modelFile, scratchDir, testSamples } from './helpers/fixtures.js';
import { maxDifference, randomInputs } from './helpers/float_reference.js';
import { GraphBuilder, rng } from './helpers/onnx_builder.js';

describe('ONNX import', () => {
  for (const model of bundledModels) {
    it(`${model}: the float IR matches onnxruntime`, async () => {
      const diff = await maxDifference(modelFile(model, 'model.onnx'), testSamples(model).inputs.slice(0, 20));
      assert.ok(diff < 1e-4, `max difference ${diff}`);
    });
  }

  it('Gemm honours alpha, beta, transA and transB', async () => {
    const dir = scratchDir('gemm');
    const r = rng(1);
    const rand = (n: number) => Array.from({ length: n }, () => r());
    for (const [transA, transB] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
      const g = new GraphBuilder('x', transA ? [3, 1] : [1, 3]);
      const w = g.init(transB ? [2, 3] : [3, 2], rand(6));
      const c = g.init([2], rand(2));
      const y = g.node('Gemm', ['x', w, c], { alpha: { float: 0.7 }, beta: { float: -1.5 }, transA, transB });
      const file = g.save(join(dir, `gemm_${transA}${transB}.onnx`), y, [1, 2]);
      assert.ok((await maxDifference(file, randomInputs(5, 3, 2))) < 1e-5, `transA=${transA} transB=${transB}`);
    }
  });

  it('MatMul + Add, Constant, Reshape, Flatten, Identity and Dropout lower to the same values', async () => {
    const r = rng(3);
    const g = new GraphBuilder('x', [1, 2, 3]);
    const shape = g.constantNode([2], [1, -1], true);
    const flat = g.node('Reshape', ['x', shape]);
    const w = g.init([6, 4], Array.from({ length: 24 }, () => r()));
    const mm = g.node('MatMul', [flat, w]);
    const b = g.constantNode([4], [0.5, -0.25, 1, 0]);
    const added = g.node('Add', [b, mm]);
    const relu = g.node('Relu', [added]);
    const id = g.node('Identity', [relu]);
    const drop = g.node('Dropout', [id]);
    const out = g.node('Flatten', [drop], { axis: 1 });
    const file = g.save(join(scratchDir('ops'), 'ops.onnx'), out, [1, 4]);
    const graph = loadOnnx(file);
    assert.deepEqual(graph.nodes.map((n) => n.kind), ['linear', 'relu', 'gather'], 'Reshape, MatMul and Add fuse into one linear op');
    assert.ok((await maxDifference(file, randomInputs(5, 6, 4))) < 1e-5);
  });

  it('an unsupported op is named with its node and the supported ops', () => {
    const bytes = readFileSync(modelFile('iris_mlp', 'model.onnx'));
    const model = decodeModel(bytes, 'iris');
    model.graph!.node![1].opType = 'Celu';
    assert.throws(
      () => importGraph(model, 'iris'),
      (err: unknown) => {
        assert.ok(err instanceof UnsupportedOpError);
        assert.match(err.message, /unsupported ONNX op Celu \(node "\/1\/Relu"\)/);
        for (const op of supportedOps) assert.ok(err.message.includes(op));
        return true;
      },
    );
  });

  it('a recurrent layer is named, not the helper op an exporter put before it', () => {
    const model = decodeModel(readFileSync(modelFile('iris_mlp', 'model.onnx')), 'iris');
    // As PyTorch exports an LSTM: a helper op on the initial state first, then the LSTM node.
    model.graph!.node![0].opType = 'Tile';
    model.graph!.node![1].opType = 'LSTM';
    model.graph!.node![1].name = '/lstm/LSTM';
    assert.throws(
      () => importGraph(model, 'iris'),
      (err: unknown) => err instanceof UnsupportedOpError && /^unsupported ONNX op LSTM \(node "\/lstm\/LSTM"\); also unsupported here: Tile/.test(err.message),
    );
  });

  it('a float64 model is refused at import, naming the input and the fix', () => {
    const model = decodeModel(readFileSync(modelFile('iris_mlp', 'model.onnx')), 'iris');
    model.graph!.input![0].type!.tensorType!.elemType = onnx.TensorProto.DataType.DOUBLE;
    assert.throws(
      () => importGraph(model, 'iris'),
      (err: unknown) => err instanceof UnsupportedModelError && /input node "input": its element type is DOUBLE; zkml takes float32 model inputs \(and int64\/int32 token ids for an embedding, uint8\/int8 inputs of an int8 model\): export the model in float32/.test(err.message),
    );
  });

  it('a malformed file is a MalformedModelError naming the file', () => {
    const dir = scratchDir('malformed');
    const truncated = join(dir, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(modelFile('iris_mlp', 'model.onnx')).subarray(0, 300));
    assert.throws(() => loadOnnx(truncated), (e: unknown) => e instanceof MalformedModelError && e.message.startsWith(truncated));
    const text = join(dir, 'text.onnx');
    writeFileSync(text, 'this is not a model');
    assert.throws(() => loadOnnx(text), MalformedModelError);
    assert.throws(() => loadOnnx(join(dir, 'missing.onnx')), MalformedModelError);
  });

  it('unsupported attribute values and computed weights are rejected with node, op and reason', () => {
    const dir = scratchDir('unsupported');
    const cases: [string, (g: GraphBuilder) => string, number[], RegExp][] = [
      ['reshape', (g) => g.node('Reshape', ['x', g.node('Relu', ['x'])]), [1, 4], /Reshape node "Reshape_\d+": the target shape must be a constant/],
      ['conv-weight', (g) => g.node('Conv', ['x', g.node('Relu', ['x'])]), [1, 1, 2, 2], /Conv node "Conv_\d+": the weight W must be a constant/],
      ['auto-pad', (g) => g.node('Conv', ['x', g.init([1, 1, 1, 1], [1])], { auto_pad: 'SAME_MIDDLE' }), [1, 1, 2, 2], /Conv node "Conv_\d+": auto_pad "SAME_MIDDLE" is not one of NOTSET/],
      ['pad-mode', (g) => g.node('Pad', ['x', g.shapeInit([0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'reflect' }), [1, 1, 4, 4], /Pad node "Pad_\d+": mode "reflect" is not supported/],
      ['argmax-inside', (g) => g.node('Relu', [g.node('ArgMax', ['x'], { axis: 1 })]), [1, 1, 2, 2], /ArgMax is supported only as the model output/],
    ];
    for (const [name, build, shape, pattern] of cases) {
      const g = new GraphBuilder('x', name === 'reshape' ? [1, 4] : [1, 1, 2, 2]);
      const y = build(g);
      const file = g.save(join(dir, `${name}.onnx`), y, shape);
      assert.throws(
        () => {
          const graph = loadOnnx(file);
          quantize(graph, [new Array(graph.inputs[0].shape.reduce((a, b) => a * b)).fill(0.5)]);
        },
        (e: unknown) => e instanceof UnsupportedModelError && pattern.test(e.message),
        name,
      );
    }
  });

  it('a Gemm whose weights do not fit the input is a shape error', () => {
    const g = new GraphBuilder('x', [1, 3]);
    const w = g.init([4, 2], new Array(8).fill(0.1));
    const y = g.node('Gemm', ['x', w]);
    const file = g.save(join(scratchDir('gemmshape'), 'g.onnx'), y, [1, 2]);
    assert.throws(() => loadOnnx(file), ShapeMismatchError);
  });

  it('overlapping 2-D max pooling becomes a row pass and a column pass: the same values, fewer comparisons, a circuit equal to the reference', async () => {
    // Conv -> Relu -> MaxPool 3x3 stride 2 pad 1 (a ResNet stem's pooling) on 1x2x9x9.
    const g = new GraphBuilder('x', [1, 1, 9, 9]);
    const r = rng(21);
    const w = g.init([2, 1, 3, 3], Array.from({ length: 18 }, () => r()));
    const conv = g.node('Conv', ['x', w], { pads: [1, 1, 1, 1] });
    const pool = g.node('MaxPool', [g.node('Relu', [conv])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    const file = g.save(join(scratchDir('sepool'), 'p.onnx'), pool, [1, 2, 5, 5]);
    const graph = loadOnnx(file);
    const pools = graph.nodes.filter((n) => n.kind === 'maxPool');
    assert.equal(pools.length, 2, 'a row pass and a column pass');
    // One pass: per plane 4 corner windows of 4 taps, 12 edge windows of 6, 9 inner of 9 taps:
    // 12 + 60 + 72 = 144 comparisons. Two passes: 9 rows x (1 + 2 + 2 + 2 + 1) + 5 columns x 8 = 112.
    const comparisons = pools.reduce((n, p) => n + (p as { windows: Int32Array[] }).windows.reduce((a, w) => a + w.length - 1, 0), 0);
    assert.equal(comparisons, 2 * 112);
    assert.ok((await maxDifference(file, randomInputs(5, 81, 3))) < 1e-5);
    // The integer program (row pass on accumulators, ReLU, column pass) and its R1CS agree.
    const program = quantize(graph, randomInputs(8, 81, 4));
    const { synthesize } = await import('../src/r1cs/synthesize.js');
    const { referenceOutput } = await import('../src/quant/reference.js');
    const { quantizeInput } = await import('../src/quant/io.js');
    const { fromField } = await import('../src/prove/field.js');
    for (const x of randomInputs(3, 81, 5)) {
      const q = quantizeInput(program, x);
      const want = referenceOutput(program, q);
      const { cs } = synthesize(program, { input: 'public', output: 'public', weights: 'fixed' }, { in: q.map(String), recipient: '0' }, false);
      assert.deepEqual(cs.values.slice(1, 1 + want.length).map(fromField), want);
    }
  });

  it('non-overlapping 2x2 pooling stays one pass (the passes would not save a comparison)', () => {
    const g = new GraphBuilder('x', [1, 1, 8, 8]);
    const pool = g.node('MaxPool', ['x'], { kernel_shape: [2, 2], strides: [2, 2] });
    const graph = loadOnnx(g.save(join(scratchDir('pool2'), 'p.onnx'), pool, [1, 1, 4, 4]));
    assert.equal(graph.nodes.filter((n) => n.kind === 'maxPool').length, 1);
  });
});

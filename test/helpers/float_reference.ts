import assert from 'node:assert/strict';
import { evaluateFloat } from '../../src/ir/float_eval.js';
import { loadOnnx } from '../../src/onnx/import.js';
import { FloatModel } from '../../src/onnx/runtime.js';
import { rng } from './onnx_builder.js';

/** The largest |float IR - onnxruntime| over the inputs: the importer against the float reference. */
export async function maxDifference(file: string, inputs: number[][]): Promise<number> {
  const graph = loadOnnx(file);
  const ort = await FloatModel.load(file, graph.inputs, graph.onnxOutputName);
  let worst = 0;
  try {
    for (const x of inputs) {
      const expected = await ort.run(x);
      const got = evaluateFloat(graph, x).get(graph.output.name)!;
      assert.equal(got.length, expected.length);
      expected.forEach((e, i) => (worst = Math.max(worst, Math.abs(e - got[i]))));
    }
  } finally {
    await ort.release();
  }
  return worst;
}

/** n deterministic samples of `size` values uniform in [lo, hi). */
export function randomInputs(n: number, size: number, seed: number, [lo, hi] = [-1, 1]): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: size }, () => lo + ((r() + 1) / 2) * (hi - lo)));
}

/**
 * How closely the proved integer program of an int8 model follows onnxruntime: every quantized
 * tensor (each QuantizeLinear or QLinear* output: the int8 activations) and the model's output,
 * element by element, with onnxruntime at a given graph optimisation level ('disabled' runs the
 * QDQ graph literally in float32; 'all' fuses it to integer kernels with float32 requantization).
 * The circuit computes the ONNX operators over the rationals, so a difference is onnxruntime's
 * float32 rounding landing on the other side of a .5 (see README, "Int8 models").
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { size } from '../ir/graph.js';
import { decodeModel, importGraph } from '../onnx/import.js';
import { onnx } from '../onnx/proto.js';
import { decodeOutput, quantizeInput } from '../quant/io.js';
import { quantizeQdq, type QuantizedTrace } from '../quant/qdq.js';
import { runReference } from '../quant/reference.js';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface ElementAgreement {
  identical: number;
  total: number;
  /** Largest difference, in steps of the tensor's integers (activations) or of the output's scale. */
  maxSteps: number;
}

export interface Fidelity {
  level: OptimizationLevel;
  samples: number;
  outputs: ElementAgreement;
  activations: ElementAgreement & { tensors: number };
  /** Samples whose argmax equals onnxruntime's. */
  top1: number;
  /** Differing activations per quantized tensor (those with any). */
  differingByTensor: Record<string, number>;
  /** The first differing activations: which tensor, and the two values. */
  differences: { tensor: string; sample: number; element: number; proved: number; onnxruntime: number }[];
}

/** The quantized tensors' ONNX names: outputs of QuantizeLinear and of the QLinear* / QGemm ops. */
const QUANTIZING_OPS = new Set(['QuantizeLinear', 'QLinearConv', 'QLinearMatMul', 'QGemm', 'QLinearAdd', 'QLinearAveragePool', 'QLinearGlobalAveragePool']);

/** The model fused by onnxruntime into its QOperator form (QLinearConv, com.microsoft.QGemm ...), written to `dst`. */
export async function fuseWithOnnxruntime(src: string, dst: string): Promise<string> {
  const session = await ort.InferenceSession.create(src, { graphOptimizationLevel: 'extended', optimizedModelFilePath: dst, intraOpNumThreads: 1, interOpNumThreads: 1 });
  await session.release();
  return dst;
}

export async function int8Fidelity(file: string, samples: readonly number[][], level: OptimizationLevel): Promise<Fidelity> {
  const model = decodeModel(readFileSync(file), file);
  // Imported first: the extra graph outputs below are for onnxruntime only.
  const graph = importGraph(model, file);
  const trace: QuantizedTrace = new Map();
  const program = quantizeQdq(graph, trace);
  const quantized = (model.graph!.node ?? []).filter((n) => QUANTIZING_OPS.has(n.opType ?? '')).map((n) => n.output![0]).filter((t) => trace.has(t));
  // Every quantized tensor becomes a graph output, so that onnxruntime reports it.
  model.graph!.output = [...model.graph!.output!, ...quantized.map((name) => ({ name }))];
  const dir = mkdtempSync(join(tmpdir(), 'zkml-fidelity-'));
  const exposed = join(dir, 'model.onnx');
  writeFileSync(exposed, onnx.ModelProto.encode(model).finish());
  const session = await ort.InferenceSession.create(exposed, { graphOptimizationLevel: level, intraOpNumThreads: 1, interOpNumThreads: 1 });
  const result: Fidelity = { level, samples: samples.length, outputs: { identical: 0, total: 0, maxSteps: 0 }, activations: { identical: 0, total: 0, maxSteps: 0, tensors: quantized.length }, top1: 0, differingByTensor: {}, differences: [] };
  try {
    const input = graph.inputs[0];
    for (const [k, x] of samples.entries()) {
      const fed = input.quantized === 'int8' ? new ort.Tensor('int8', Int8Array.from(x), [...input.shape]) : input.quantized ? new ort.Tensor('uint8', Uint8Array.from(x), [...input.shape]) : new ort.Tensor('float32', Float32Array.from(x), [...input.shape]);
      const out = await session.run({ [input.name]: fed });
      const values = runReference(program, quantizeInput(program, x));
      for (const name of quantized) {
        const { tensor, zero } = trace.get(name)!;
        const theirs = Array.from(out[name].data as ArrayLike<number>, Number);
        values.get(tensor)!.forEach((c, j) => {
          const ours = Number(c) + zero[j];
          result.activations.total++;
          if (ours === theirs[j]) result.activations.identical++;
          else {
            result.activations.maxSteps = Math.max(result.activations.maxSteps, Math.abs(ours - theirs[j]));
            result.differingByTensor[name] = (result.differingByTensor[name] ?? 0) + 1;
            if (result.differences.length < 20) result.differences.push({ tensor: name, sample: k, element: j, proved: ours, onnxruntime: theirs[j] });
          }
        });
      }
      const theirs = Array.from(out[graph.onnxOutputName].data as ArrayLike<number>, Number);
      const ours = decodeOutput(program, values.get(program.output.name)!);
      const scale = program.output.affine?.scale;
      ours.forEach((v, j) => {
        result.outputs.total++;
        if (v === theirs[j]) result.outputs.identical++;
        else result.outputs.maxSteps = Math.max(result.outputs.maxSteps, Math.abs(v - theirs[j]) / Math.abs(scale?.[j] ?? 1));
      });
      if (size(graph.output.shape) === 1 || argmax(ours) === argmax(theirs)) result.top1++;
    }
  } finally {
    await session.release();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

function argmax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

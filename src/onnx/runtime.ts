import * as ort from 'onnxruntime-node';
import type { TensorInfo } from '../ir/graph.js';
import { FloatSession, type OrtApi, type OrtSession } from './float_session.js';

/** The float reference: the ONNX model run by onnxruntime-node; inputs are given concatenated. */
export class FloatModel extends FloatSession {
  /** `optimization`: onnxruntime's graph optimisation level (default 'all'; 'disabled' runs a QDQ model's graph literally). */
  static async load(file: string, inputs: TensorInfo[], outputName: string, optimization: 'disabled' | 'basic' | 'extended' | 'all' = 'all'): Promise<FloatModel> {
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: optimization });
    return new FloatModel(ort as unknown as OrtApi, session as unknown as OrtSession, inputs, outputName);
  }
}

/**
 * The float reference in a browser: onnxruntime-web's wasm backend, single-threaded (threads need
 * a cross-origin isolated page, and the models are small). Loaded on first use, as its own chunk.
 */
import type { TensorInfo } from '../ir/graph.js';
import { FloatSession, type OrtApi, type OrtSession } from '../onnx/float_session.js';

export async function loadFloatModel(model: Uint8Array, inputs: readonly TensorInfo[], outputName: string, wasmUrl: string): Promise<FloatSession> {
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = { wasm: wasmUrl };
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  return new FloatSession(ort as unknown as OrtApi, session as unknown as OrtSession, inputs, outputName);
}

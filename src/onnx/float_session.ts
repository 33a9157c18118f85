/**
 * The float reference on an onnxruntime session: the same feeds and output whether the session is
 * onnxruntime-node's (./runtime.ts) or onnxruntime-web's (src/browser/float.ts). Inputs are given
 * concatenated, in the order of the model's inputs.
 */
import { InvalidInputError } from '../errors.js';
import { size, type TensorInfo } from '../ir/graph.js';

/** The part of onnxruntime's API (common to its Node and web packages) that the float reference uses. */
export interface OrtApi {
  Tensor: new (type: 'float32' | 'int32' | 'int64' | 'uint8' | 'int8', data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array, dims: readonly number[]) => unknown;
}

export interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
  release(): Promise<void>;
}

export class FloatSession {
  constructor(
    private readonly ort: OrtApi,
    private readonly session: OrtSession,
    private readonly inputs: readonly TensorInfo[],
    private readonly outputName: string,
  ) {}

  async run(values: readonly number[]): Promise<number[]> {
    if (values.some((v) => !Number.isFinite(v))) throw new InvalidInputError('input values must be finite numbers');
    const feeds: Record<string, unknown> = {};
    let offset = 0;
    for (const t of this.inputs) {
      const n = size(t.shape);
      const part = values.slice(offset, offset + n);
      if (t.integer?.type === 'int64') feeds[t.name] = new this.ort.Tensor('int64', BigInt64Array.from(part, (v) => BigInt(Math.round(v))), [...t.shape]);
      else if (t.integer) feeds[t.name] = new this.ort.Tensor('int32', Int32Array.from(part, Math.round), [...t.shape]);
      else if (t.quantized === 'uint8') feeds[t.name] = new this.ort.Tensor('uint8', Uint8Array.from(part), [...t.shape]);
      else if (t.quantized === 'int8') feeds[t.name] = new this.ort.Tensor('int8', Int8Array.from(part), [...t.shape]);
      else feeds[t.name] = new this.ort.Tensor('float32', Float32Array.from(part), [...t.shape]);
      offset += n;
    }
    const result = await this.session.run(feeds);
    return Array.from(result[this.outputName].data as ArrayLike<number | bigint>, Number);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

import * as ort from 'onnxruntime-node';
import { InvalidInputError } from '../errors.js';
import { size, type TensorInfo } from '../ir/graph.js';

/** The float reference: the ONNX model run by onnxruntime; inputs are given concatenated. */
export class FloatModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputs: TensorInfo[],
    private readonly outputName: string,
  ) {}

  static async load(file: string, inputs: TensorInfo[], outputName: string): Promise<FloatModel> {
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return new FloatModel(session, inputs, outputName);
  }

  async run(values: readonly number[]): Promise<number[]> {
    if (values.some((v) => !Number.isFinite(v))) throw new InvalidInputError('input values must be finite numbers');
    const feeds: Record<string, ort.Tensor> = {};
    let offset = 0;
    for (const t of this.inputs) {
      const n = size(t.shape);
      const part = values.slice(offset, offset + n);
      if (t.integer?.type === 'int64') feeds[t.name] = new ort.Tensor('int64', BigInt64Array.from(part, (v) => BigInt(Math.round(v))), [...t.shape]);
      else if (t.integer) feeds[t.name] = new ort.Tensor('int32', Int32Array.from(part, Math.round), [...t.shape]);
      else feeds[t.name] = new ort.Tensor('float32', Float32Array.from(part), [...t.shape]);
      offset += n;
    }
    const result = await this.session.run(feeds);
    return Array.from(result[this.outputName].data as ArrayLike<number | bigint>, Number);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

import * as ort from 'onnxruntime-node';
import { InvalidInputError } from '../errors.js';
import type { Shape } from '../ir/graph.js';

/** The float reference: the ONNX model run by onnxruntime, batch 1. */
export class FloatModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly shape: Shape,
  ) {}

  static async load(file: string, inputName: string, outputName: string, shape: Shape): Promise<FloatModel> {
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return new FloatModel(session, inputName, outputName, shape);
  }

  async run(values: readonly number[]): Promise<number[]> {
    if (values.some((v) => !Number.isFinite(v))) throw new InvalidInputError('input values must be finite numbers');
    const tensor = new ort.Tensor('float32', Float32Array.from(values), [...this.shape]);
    const result = await this.session.run({ [this.inputName]: tensor });
    return Array.from(result[this.outputName].data as Float32Array);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

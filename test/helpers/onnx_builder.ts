import { writeFileSync } from 'node:fs';
import { onnx, type NodeProto, type TensorProto } from '../../src/onnx/proto.js';

const AttrType = onnx.AttributeProto.AttributeType;

export type Attr = number | number[] | string | { float: number };

/** A tiny ONNX graph builder for synthetic test models (float32, batch 1). */
export class GraphBuilder {
  private nodes: NodeProto[] = [];
  private inits: TensorProto[] = [];
  private count = 0;

  /** The graph input's element type (1: FLOAT; 7: INT64 token ids). */
  inputType = 1;

  constructor(readonly inputName: string, readonly inputShape: number[]) {}

  init(dims: number[], values: number[]): string {
    const name = `c${this.count++}`;
    this.inits.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: values });
    return name;
  }

  /** An integer initializer of another element type (2: UINT8, 3: INT8, 5: INT16, 6: INT32). */
  intInit(dims: number[], values: number[], dataType: number): string {
    const name = `c${this.count++}`;
    this.inits.push({ name, dims, dataType, int32Data: values });
    return name;
  }

  shapeInit(values: number[]): string {
    const name = `shape${this.count++}`;
    this.inits.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
    return name;
  }

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1): string {
    const out = Array.from({ length: outputs }, () => `t${this.count++}`);
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
      if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
      if (typeof v === 'object') return { name, type: AttrType.FLOAT, f: v.float };
      return { name, type: AttrType.INT, i: v };
    });
    this.nodes.push({ opType: op, name: `${op}_${this.count}`, input: inputs, output: out, attribute });
    return out[0];
  }

  constantNode(dims: number[], values: number[], int64 = false): string {
    const out = `k${this.count++}`;
    const t = int64 ? { dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: values } : { dims, dataType: 1, floatData: values };
    this.nodes.push({ opType: 'Constant', name: `Constant_${this.count}`, input: [], output: [out], attribute: [{ name: 'value', type: AttrType.TENSOR, t }] });
    return out;
  }

  /** The graph output's element type (1: FLOAT, 2: UINT8). */
  outputType = 1;

  bytes(output: string, outputShape: number[]): Uint8Array {
    const vi = (name: string, shape: number[], elemType = 1) => ({
      name,
      type: { tensorType: { elemType, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'zkml-test',
      graph: { name: 'g', node: this.nodes, initializer: this.inits, input: [vi(this.inputName, this.inputShape, this.inputType)], output: [vi(output, outputShape, this.outputType)] },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  save(file: string, output: string, outputShape: number[]): string {
    writeFileSync(file, this.bytes(output, outputShape));
    return file;
  }
}

/** Deterministic pseudo-random numbers in [-1, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

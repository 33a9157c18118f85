import { onnx, toNumber, type NodeProto } from './proto.js';
import type { ConstTensor } from './tensor.js';
import { readTensor } from './tensor.js';

const AttrType = onnx.AttributeProto.AttributeType;

/** Typed access to a node's attributes, with ONNX's defaults. */
export class Attributes {
  constructor(private readonly node: NodeProto) {}

  private find(name: string) {
    return (this.node.attribute ?? []).find((a) => a.name === name);
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  int(name: string, fallback: number): number {
    const a = this.find(name);
    return a ? toNumber(a.i) : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.find(name);
    return a ? (a.f ?? fallback) : fallback;
  }

  string(name: string, fallback: string): string {
    const a = this.find(name);
    return a?.s ? new TextDecoder().decode(a.s) : fallback;
  }

  ints(name: string): number[] | undefined {
    const a = this.find(name);
    return a ? (a.ints ?? []).map(toNumber) : undefined;
  }

  /** The value of a Constant node, whichever of its value_* attributes is set. */
  constantValue(where: string): ConstTensor | undefined {
    for (const a of this.node.attribute ?? []) {
      if (a.type === AttrType.TENSOR && a.t) return readTensor(a.t, where);
      if (a.name === 'value_float') return { dims: [], data: Float64Array.of(a.f ?? 0) };
      if (a.name === 'value_floats') return { dims: [a.floats!.length], data: Float64Array.from(a.floats!) };
      if (a.name === 'value_int') return { dims: [], data: Float64Array.of(toNumber(a.i)), integer: true };
      if (a.name === 'value_ints') return { dims: [a.ints!.length], data: Float64Array.from(a.ints!.map(toNumber)), integer: true };
    }
    return undefined;
  }
}

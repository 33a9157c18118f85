import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

/** The protobuf classes generated from onnx.proto (onnx-proto ships them as CommonJS). */
export const onnx = onnxProto.onnx;
export type ModelProto = OnnxTypes.ModelProto;
export type GraphProto = OnnxTypes.IGraphProto;
export type NodeProto = OnnxTypes.INodeProto;
export type TensorProto = OnnxTypes.ITensorProto;
export type AttributeProto = OnnxTypes.IAttributeProto;

/** protobufjs decodes int64 as Long objects or plain numbers depending on what is installed. */
export function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
export type ValueInfoProto = OnnxTypes.IValueInfoProto;

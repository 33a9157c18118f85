import { UnsupportedModelError } from '../errors.js';
import type { QuantType } from '../ir/graph.js';
import { onnx, toNumber, type TensorProto } from './proto.js';

export interface ConstTensor {
  dims: number[];
  data: Float64Array;
  /**
   * An integer element type (INT64 shapes and indices): folded arithmetic on it is integer
   * arithmetic (Div truncates), as onnxruntime computes it. 24 / 3 * 2 + ... chains of Shape
   * values depend on it.
   */
  integer?: boolean;
  /** UINT8 or INT8 (a zero point's type decides QuantizeLinear's output type). */
  quantType?: QuantType;
}

const DataType = onnx.TensorProto.DataType;

/** Reads an initializer or Constant value as float64, whatever its stored element type. */
export function readTensor(t: TensorProto, where: string): ConstTensor {
  const dims = (t.dims ?? []).map(toNumber);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const data = new Float64Array(count);
  const fill = (get: (i: number) => number, available: number) => {
    if (available !== count) {
      throw new UnsupportedModelError('tensor', where, `tensor ${t.name} has ${available} values for shape [${dims}]`);
    }
    for (let i = 0; i < count; i++) data[i] = get(i);
  };
  switch (t.dataType) {
    case DataType.FLOAT:
      if (view) fill((i) => view.getFloat32(i * 4, true), raw!.length / 4);
      else fill((i) => t.floatData![i], t.floatData?.length ?? 0);
      break;
    case DataType.DOUBLE:
      if (view) fill((i) => view.getFloat64(i * 8, true), raw!.length / 8);
      else fill((i) => t.doubleData![i], t.doubleData?.length ?? 0);
      break;
    case DataType.INT64:
      if (view) fill((i) => Number(view.getBigInt64(i * 8, true)), raw!.length / 8);
      else fill((i) => toNumber(t.int64Data![i]), t.int64Data?.length ?? 0);
      break;
    case DataType.INT32:
      if (view) fill((i) => view.getInt32(i * 4, true), raw!.length / 4);
      else fill((i) => t.int32Data![i], t.int32Data?.length ?? 0);
      break;
    case DataType.BOOL:
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.UINT16:
    case DataType.INT16:
    case DataType.UINT32:
    case DataType.UINT64: {
      // Masks and small integer constants: stored in int32_data (or uint64_data), or raw.
      const bytes = { [DataType.BOOL]: 1, [DataType.UINT8]: 1, [DataType.INT8]: 1, [DataType.UINT16]: 2, [DataType.INT16]: 2, [DataType.UINT32]: 4, [DataType.UINT64]: 8 }[t.dataType]!;
      const get = (v: DataView, i: number): number => {
        switch (t.dataType) {
          case DataType.INT8: return v.getInt8(i);
          case DataType.UINT16: return v.getUint16(i * 2, true);
          case DataType.INT16: return v.getInt16(i * 2, true);
          case DataType.UINT32: return v.getUint32(i * 4, true);
          case DataType.UINT64: return Number(v.getBigUint64(i * 8, true));
          default: return v.getUint8(i);
        }
      };
      if (view) fill((i) => get(view, i), raw!.length / bytes);
      else if (t.dataType === DataType.UINT64) fill((i) => toNumber(t.uint64Data![i]), t.uint64Data?.length ?? 0);
      else fill((i) => t.int32Data![i], t.int32Data?.length ?? 0);
      break;
    }
    default:
      throw new UnsupportedModelError(
        'tensor',
        where,
        `tensor ${t.name} has element type ${DataType[t.dataType ?? 0] ?? t.dataType}; supported: FLOAT, DOUBLE and the integer and BOOL types`,
      );
  }
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new UnsupportedModelError('tensor', where, `tensor ${t.name} is stored in an external file`);
  }
  const integer = t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE;
  const quantType = t.dataType === DataType.UINT8 ? 'uint8' : t.dataType === DataType.INT8 ? 'int8' : undefined;
  return integer ? { dims, data, integer, ...(quantType ? { quantType } : {}) } : { dims, data };
}

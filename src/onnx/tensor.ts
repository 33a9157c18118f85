import { UnsupportedModelError } from '../errors.js';
import { onnx, toNumber, type TensorProto } from './proto.js';

export interface ConstTensor {
  dims: number[];
  data: Float64Array;
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
    default:
      throw new UnsupportedModelError(
        'tensor',
        where,
        `tensor ${t.name} has element type ${DataType[t.dataType ?? 0] ?? t.dataType}; supported: FLOAT, DOUBLE, INT32, INT64`,
      );
  }
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new UnsupportedModelError('tensor', where, `tensor ${t.name} is stored in an external file`);
  }
  return { dims, data };
}

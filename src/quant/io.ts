import { FixedPointRangeError, InvalidInputError, ShapeMismatchError } from '../errors.js';
import { formatShape, size } from '../ir/graph.js';
import { inputMax } from '../ops/input.js';
import { inputOp, type QProgram } from './program.js';

/**
 * Float input -> the integers the circuit takes: checks count, finiteness and the planned range,
 * each with a message naming the element.
 */
export function quantizeInput(p: QProgram, values: readonly number[]): bigint[] {
  const expected = size(p.input.shape);
  if (values.length !== expected) {
    throw new ShapeMismatchError('input', `${expected} values (shape ${formatShape(p.input.shape)})`, `${values.length}`);
  }
  const op = inputOp(p);
  const scale = 2 ** p.input.frac;
  const max = inputMax(op);
  return values.map((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidInputError(`input[${i}] is ${String(v)}: every input value must be a finite number`);
    const q = BigInt(Math.round(v * scale));
    if (q < op.lo || q > max) {
      const lo = Number(op.lo) / scale;
      const hi = Number(max) / scale;
      throw new FixedPointRangeError('input', i, q, op.lo, max, `the value ${v} is outside the range [${lo}, ${hi}] the circuit was compiled for (calibration range plus margin); recompile with wider calibration or --input-margin`);
    }
    return q;
  });
}

export function dequantize(values: readonly bigint[], frac: number): number[] {
  const scale = 2 ** -frac;
  return values.map((v) => Number(v) * scale);
}

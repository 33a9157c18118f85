import { FixedPointRangeError, InvalidInputError, ShapeMismatchError } from '../errors.js';
import { formatShape, size } from '../ir/graph.js';
import { inputMax } from '../ops/input.js';
import { quantizeValue } from '../ir/float_eval.js';
import { inputOps, unitOf, type InputQuantizer, type OutputAffine, type QProgram } from './program.js';

/** Number of values the model takes: its inputs flattened and concatenated. */
export function inputSize(p: QProgram): number {
  return p.inputs.reduce((a, t) => a + size(t.shape), 0);
}

/**
 * Float input -> the integers the circuit takes: checks count, finiteness and the planned range,
 * each with a message naming the element.
 */
export function quantizeInput(p: QProgram, values: readonly number[]): bigint[] {
  const expected = inputSize(p);
  if (values.length !== expected) {
    const shapes = p.inputs.map((t) => formatShape(t.shape)).join(' + ');
    throw new ShapeMismatchError('input', `${expected} values (shape ${shapes})`, `${values.length}`);
  }
  const out: bigint[] = [];
  inputOps(p).forEach((op, k) => {
    const quantizer = p.inputs[k].quantizer;
    if (quantizer) {
      for (let j = 0; j < size(op.shape); j++) out.push(quantizeElement(quantizer, j, values[op.offset + j], op.offset + j));
      return;
    }
    const unit = unitOf(p.inputs[k]);
    for (let j = 0; j < size(op.shape); j++) {
      const i = op.offset + j;
      const v = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidInputError(`input[${i}] is ${String(v)}: every input value must be a finite number`);
      if (op.tokenIds && (!Number.isInteger(v) || v < 0 || v > Number(op.tokenIds.max))) {
        throw new InvalidInputError(`input[${i}] is ${v}: a token id of "${op.source}" must be an integer in [0, ${op.tokenIds.max}] (a row of its embedding table)`);
      }
      const q = BigInt(Math.round(v / unit));
      const [lo, max] = [op.lo[j], inputMax(op, j)];
      if (q < lo || q > max) {
        throw new FixedPointRangeError(
          'input',
          i,
          q,
          lo,
          max,
          `the value ${v} is outside the range [${Number(lo) * unit}, ${Number(max) * unit}] the circuit was compiled for; ` +
            'recompile with --input-range (the known bounds of each input, e.g. 0:255 for pixels or a scaler\'s range per feature), --input-margin, or calibration samples that cover it',
        );
      }
      out.push(q);
    }
  });
  return out;
}

/**
 * An int8 model's input element, centred: QuantizeLinear's q minus the zero point (any finite
 * float is accepted: QuantizeLinear saturates), or a uint8/int8 input's own value.
 */
function quantizeElement(qz: InputQuantizer, j: number, v: number, i: number): bigint {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidInputError(`input[${i}] is ${String(v)}: every input value must be a finite number`);
  if (qz.integer && (!Number.isInteger(v) || v < qz.qmin || v > qz.qmax)) throw new InvalidInputError(`input[${i}] is ${v}: this model input is quantized, an integer in [${qz.qmin}, ${qz.qmax}]`);
  const q = qz.integer ? v : quantizeValue(v, qz.scale[j], qz.zeroPoint[j], qz.type);
  return BigInt(q - qz.zeroPoint[j]);
}

/** Integers at 2^-frac, or at `scale` (an input's folded step) when given -> floats. */
export function dequantize(values: readonly bigint[], frac: number, scale = 2 ** -frac): number[] {
  return values.map((v) => Number(v) * scale);
}

/** The model's output from the proven values: dequantized, then any public post-processing (Softmax). */
export function decodeOutput(p: QProgram, values: readonly bigint[]): number[] {
  const affine = p.output.affine;
  const y = affine ? values.map((v, j) => decodeAffine(affine, j, v)) : dequantize(values, p.output.frac);
  if (p.postprocess?.kind !== 'softmax') return y;
  const out = [...y];
  for (const g of p.postprocess.groups) {
    const m = g.reduce((acc, i) => Math.max(acc, y[i]), -Infinity);
    const sum = g.reduce((s, i) => s + Math.exp(y[i] - m), 0);
    for (const i of g) out[i] = Math.exp(y[i] - m) / sum;
  }
  return out;
}

/** An int8 model's output element: its dequantized value (as DequantizeLinear computes it in float32). */
function decodeAffine(a: OutputAffine, j: number, v: bigint): number {
  const y = Number(v) * a.scale[j] + a.offset[j];
  return a.float32 ? Math.fround(y) : y;
}

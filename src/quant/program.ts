import type { Shape } from '../ir/graph.js';
import type { InputOp, QOp } from '../ops/types.js';

/** Quantization settings: bit budgets that the calibration turns into power-of-two scales. */
export interface QuantConfig {
  /** Bits for the input's calibrated magnitude (sets the input scale). */
  inputBits: number;
  /** Bits for each layer's largest weight magnitude (sets that layer's weight scale). */
  weightBits: number;
  /** Bits for each hidden activation's calibrated magnitude (sets the rescale after it). */
  activationBits: number;
  /** The accepted input range is the calibrated [min, max] widened by this fraction of its span. */
  inputMargin: number;
}

export const defaultQuantConfig: QuantConfig = { inputBits: 10, weightBits: 10, activationBits: 12, inputMargin: 0.25 };

export interface QTensor {
  name: string;
  shape: Shape;
  /** Fractional bits: the integer q stands for q * 2^-frac. */
  frac: number;
}

/** A quantized model: integer ops in topological order, the first being the input. */
export interface QProgram {
  ops: QOp[];
  input: QTensor;
  output: QTensor;
}

export function inputOp(p: QProgram): InputOp {
  const op = p.ops[0];
  if (op.kind !== 'input') throw new Error('program does not start with its input');
  return op;
}

/** JSON with bigints as decimal strings, marked so that parse restores them. */
export function serializeProgram(p: QProgram): string {
  return JSON.stringify(p, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

export function parseProgram(text: string): QProgram {
  return JSON.parse(text, (_k, v) => (typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v));
}

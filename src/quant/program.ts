import type { QuantType, Shape } from '../ir/graph.js';
import type { InputOp, QOp } from '../ops/types.js';

/** Quantization settings: bit budgets that the calibration turns into power-of-two scales. */
export interface QuantConfig {
  /** Width of each input's accepted range in bits: its range check's cost (sets the input scale). */
  inputBits: number;
  /** Bits for each layer's largest weight magnitude (sets that layer's weight scale). */
  weightBits: number;
  /** Bits for each hidden activation's calibrated magnitude (sets the rescale after it). */
  activationBits: number;
  /** The accepted input range is the calibrated [min, max] widened by this fraction of its span. */
  inputMargin: number;
  /**
   * Known input ranges (`--input-range`), per value of the flattened, concatenated inputs: each
   * accepts exactly [min[i], max[i]] instead of the calibrated range plus margin.
   */
  inputRange?: { min: number[]; max: number[] };
}

export const defaultQuantConfig: QuantConfig = { inputBits: 12, weightBits: 10, activationBits: 12, inputMargin: 0.25 };

export interface QTensor {
  name: string;
  shape: Shape;
  /** Fractional bits: the integer q stands for q * 2^-frac. */
  frac: number;
  /**
   * An input's step when it is not a power of two (frac is then 0): q stands for q * scale. Only
   * inputs read by affine ops alone have one; those ops fold it into their weights.
   */
  scale?: number;
  /**
   * An int8 model's quantized input (src/quant/qdq.ts): the circuit takes c = q - zeroPoint of
   * q = saturate(round_half_even(x / scale) + zeroPoint) to [qmin, qmax], computed on the host as
   * QuantizeLinear computes it; `integer`: the model input is already uint8/int8 (q = x).
   */
  quantizer?: InputQuantizer;
  /** An int8 model's output: element j is decoded as value_j * scale[j] + offset[j] (rounded to float32 when `float32`). */
  affine?: OutputAffine;
}

export interface InputQuantizer {
  type: QuantType;
  scale: number[];
  zeroPoint: number[];
  qmin: number;
  qmax: number;
  integer?: boolean;
}

export interface OutputAffine {
  scale: number[];
  offset: number[];
  float32: boolean;
}

/** The float value of one integer unit of a tensor. */
export function unitOf(t: QTensor): number {
  return t.scale ?? 2 ** -t.frac;
}

/** An approximated non-linearity and its worst error against the exact function, measured at compile time. */
export interface Approximation {
  op: string;
  fn: string;
  /** Worst |approximation - f| over `range` (float input values), measured at compile time. */
  maxError: number;
  range?: [number, number];
  /** The pwl op's output tensor. */
  output?: string;
  /**
   * The approximation's effect on the model's output: the accuracy report recomputed with this
   * function exact at every input step of its domain (same scales, same saturation outside).
   */
  effect?: { decisionAgreement?: number; relativeError: number };
}

/** A quantized model: integer ops in topological order, starting with its inputs. */
export interface QProgram {
  ops: QOp[];
  inputs: QTensor[];
  output: QTensor;
  /** Applied to the proven output outside the circuit (Softmax over these groups). */
  postprocess?: { kind: 'softmax'; groups: number[][] };
  approximations: Approximation[];
}

export function inputOps(p: QProgram): InputOp[] {
  return p.ops.filter((o): o is InputOp => o.kind === 'input');
}

/** JSON with bigints as decimal strings, marked so that parse restores them. */
export function serializeProgram(p: QProgram): string {
  return JSON.stringify(p, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

export function parseProgram(text: string): QProgram {
  return restoreBigInts(JSON.parse(text)) as QProgram;
}

/** Replaces "123n" strings by bigints in place: a walk is several times faster than a JSON.parse reviver. */
function restoreBigInts(v: unknown): unknown {
  if (typeof v === 'string') return v.length > 1 && v.charCodeAt(v.length - 1) === 110 /* n */ && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'object' || typeof x === 'string') v[i] = restoreBigInts(x);
    }
  } else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = restoreBigInts(o[k]);
  }
  return v;
}

/**
 * The quantized program's op set. Each op has exactly one definition (an OpDef in this folder)
 * holding its integer semantics, its value bounds, its circuit emission and its constraint cost;
 * the integer reference evaluator and the circuit generator both read those definitions.
 * Tensors are flat row-major vectors of integers; an op reads one or more earlier tensors.
 */
import type { Shape } from '../ir/graph.js';
import type { ConstraintSystem, Lin } from '../r1cs/system.js';
import type { PwlFn } from './pwl.js';

/** Closed integer interval, inclusive at both ends. */
export interface Interval {
  lo: bigint;
  hi: bigint;
}

interface Base {
  /** ONNX node(s) this op came from, for messages. */
  source: string;
  inputs: string[];
  output: string;
}

/** A model input: integers in [lo, lo + 2^bits - 1], range-checked; `offset` is its place in the circuit's `in`. */
/** A model input: element i is accepted in [lo[i], lo[i] + 2^bits[i]) (per feature; often all equal). */
export interface InputOp extends Base {
  kind: 'input';
  shape: Shape;
  offset: number;
  lo: bigint[];
  bits: number[];
  /** Token ids (an integer model input): accepted as integers in [0, max] (the lookup's rows). */
  tokenIds?: { max: bigint };
}

/** y[j] = bias[j] + sum of weight[t] * inputs[src[t]][index[t]] over the terms t of row j. */
export interface LinearOp extends Base {
  kind: 'linear';
  rowStart: number[];
  src: number[];
  index: number[];
  weight: bigint[];
  bias: bigint[];
  /** Set when weights are private witness values (hashed weights) instead of circuit constants. */
  hidden?: HiddenParams;
}

/**
 * Where a linear op's parameters sit in the circuit's private weight vector `w`: its weights at
 * offset .. offset + terms - 1, then its biases. Each is range-checked to its two's-complement
 * window, and the bounds hold for every value in the windows, not only the compiled ones.
 */
export interface HiddenParams {
  offset: number;
  weightLo: bigint;
  weightBits: number;
  biasLo: bigint;
  biasBits: number;
}

/** y[j] = inputs[src[j]][index[j]], or constant[j] where src[j] < 0: re-indexing only. */
export interface GatherOp extends Base {
  kind: 'gather';
  src: number[];
  index: number[];
  constant: bigint[];
}

/** y = floor((x + 2^(shift-1)) / 2^shift) (round half up), then max(y, 0) if relu. */
export interface RescaleOp extends Base {
  kind: 'rescale';
  shift: number;
  relu: boolean;
}

/**
 * Requantization (an int8 model's own scales, src/quant): y_j = clamp(roundShift(M_j x_j + C_j,
 * shift, even), lo, hi): the accumulator times a fixed-point multiplier, divided by 2^shift with
 * round-half-to-even (`even`) or half-up, then saturated to the output type's range. M_j > 0.
 */
export interface RequantOp extends Base {
  kind: 'requant';
  multiplier: bigint[];
  offset: bigint[];
  shift: number;
  even: boolean;
  /**
   * Per element, an exact divisor d_j (absent or 1: none). Where d_j > 1 (a denominator that is not
   * a power of two, with a reachable tie), y_j = clamp(round_half_even((M_j x_j + C_j) / d_j)) by
   * RoundDiv, and `shift` and `even` do not apply to it; elsewhere RoundShift as above.
   */
  divisor?: bigint[];
  lo: bigint;
  hi: bigint;
}

/** y = rescale(x * m, shift + alphaFrac) with m = 2^alphaFrac if x >= 0, else alpha[j] (LeakyRelu, PRelu). */
export interface LeakyOp extends Base {
  kind: 'leaky';
  shift: number;
  alphaFrac: number;
  alpha: bigint[];
}

/** y = min(max(x, lo), hi); a null bound is absent. */
export interface ClampOp extends Base {
  kind: 'clamp';
  lo: bigint | null;
  hi: bigint | null;
}

/**
 * Piecewise-linear approximation (sigmoid, tanh, erf, exp, log, softplus) on 2^segmentsLog2
 * segments of [c - 2^domainBits, c + 2^domainBits) with c = center (0 when absent):
 * u = x - c + 2^domainBits, idx = u >> w, t = u mod 2^w with w = domainBits + 1 - segmentsLog2;
 * V = a[idx] * 2^w + b[idx] * t inside the domain, below[/above] outside; y = rescale(V, w).
 */
export interface PwlOp extends Base {
  kind: 'pwl';
  fn: PwlFn;
  center?: bigint;
  /** The input's and output's fractional bits (for reports; the tables already encode them). */
  inFrac?: number;
  outFrac?: number;
  domainBits: number;
  segmentsLog2: number;
  a: bigint[];
  b: bigint[];
  below: bigint;
  above: bigint;
}

/** y[j] = max over windows[j] of x. */
export interface MaxOp extends Base {
  kind: 'max';
  windows: number[][];
}

/** y[j] = sum over pairs p of row j: a[left[p]] * b[right[p]]. */
export interface MulOp extends Base {
  kind: 'mul';
  rowStart: number[];
  left: number[];
  right: number[];
}

/** y[j] = position of the maximum of x over groups[j]; the first (or last) on ties. */
export interface ArgMaxOp extends Base {
  kind: 'argmax';
  groups: number[][];
  selectLast: boolean;
}

/**
 * y[j] = round(a[left[j]] * 2^shift / b[right[j]]), rounding half up: the integer q with
 * 2*a*2^shift + b = 2*b*q + r and 0 <= r < 2b. The divisor must be at least 1; the constraints
 * enforce it (softmax sums, LayerNorm deviations).
 */
export interface DivOp extends Base {
  kind: 'div';
  left: number[];
  right: number[];
  shift: number;
  /**
   * A range the quotient is known to lie in, enforced by its decomposition: q in
   * [-2^(quotientBits-1), 2^(quotientBits-1)). The quantizer sets it where the model's structure
   * bounds the ratio (softmax: 0 <= q <= 2^shift; LayerNorm: |q| <= 2 sqrt(n) 2^shift units),
   * which interval arithmetic cannot see. The circuit enforces it, so the bounds stay sound; an
   * input that broke it would have no witness (the reference refuses it first).
   */
  quotientBits?: number;
}

/** y = floor(sqrt(x)): the integer with y^2 <= x < (y + 1)^2; x >= 0 is enforced. */
export interface SqrtOp extends Base {
  kind: 'sqrt';
}

/** Embedding lookup: y[t * cols + d] = table[ids[t] * cols + d]; ids outside [0, rows) have no witness. */
export interface LookupOp extends Base {
  kind: 'lookup';
  rows: number;
  cols: number;
  table: bigint[];
}

export type QOp = InputOp | LinearOp | GatherOp | RescaleOp | RequantOp | LeakyOp | ClampOp | PwlOp | MaxOp | MulOp | ArgMaxOp | DivOp | SqrtOp | LookupOp;
export type QOpKind = QOp['kind'];

/** Circom text an op contributes: top-level declarations, statements in the main template, and
 *  a circom expression for each output element. */
export interface Emission {
  declarations: string[];
  statements: string[];
  outputs: string[];
}

export interface EmitContext {
  /** A unique identifier for this op instance, usable as a circom name. */
  id: string;
  /** circom expressions of the input elements, per input tensor. */
  inputs: string[][];
  /** Bounds of the input elements, per input tensor. */
  bounds: Interval[][];
}

/** Non-linear and linear constraints an op adds before circom's --O2 simplification. */
export interface Cost {
  nonLinear: number;
  linear: number;
  /**
   * The part of nonLinear that no encoding of this op at these bounds avoids: the bits that must be
   * decomposed to range-check its values (plus any true products). The rest (selections, ReLU
   * products, one-hot decoders) is the template's overhead; `zkml inspect` shows the gap.
   */
  floor: number;
}

/** What an op's R1CS synthesis reads: its input elements as linear combinations, with their bounds. */
export interface SynthContext {
  cs: ConstraintSystem;
  inputs: Lin[][];
  bounds: Interval[][];
  /** The circuit's input signals: `in` (the model input) and `w` (hidden weights). */
  signals: { in: Lin[]; w: Lin[] };
}

export interface OpDef<O extends QOp> {
  /** Integer semantics: the reference evaluator runs exactly this. */
  evaluate(op: O, x: readonly bigint[][]): bigint[];
  /** Output bounds from input bounds; sound for every input the circuit admits. */
  bounds(op: O, x: readonly Interval[][]): Interval[];
  emit(op: O, ctx: EmitContext): Emission;
  /** The same constraints as emit's circom, built directly (src/r1cs): one Lin per output element. */
  synthesize(op: O, ctx: SynthContext): Lin[];
  cost(op: O, x: readonly Interval[][]): Cost;
}

export type OpDefs = { [K in QOpKind]: OpDef<Extract<QOp, { kind: K }>> };

/**
 * The quantized program's op set. Each op has exactly one definition (an OpDef in this folder)
 * holding its integer semantics, its value bounds, its circuit emission and its constraint cost;
 * the integer reference evaluator and the circuit generator both read those definitions.
 */
import type { Shape } from '../ir/graph.js';

/** Closed integer interval, inclusive at both ends. */
export interface Interval {
  lo: bigint;
  hi: bigint;
}

interface Base {
  /** ONNX node(s) this op came from, for messages. */
  source: string;
  output: string;
}

/** The model input: integers in [lo, lo + 2^bits - 1], range-checked in the circuit. */
export interface InputOp extends Base {
  kind: 'input';
  shape: Shape;
  lo: bigint;
  bits: number;
}

/** y = W x + b with constant integer W (row-major [nOut][nIn]) and b. */
export interface DenseOp extends Base {
  kind: 'dense';
  input: string;
  nIn: number;
  nOut: number;
  weight: bigint[];
  bias: bigint[];
}

/** y = x + c, elementwise, constant c. */
export interface AddConstOp extends Base {
  kind: 'addConst';
  input: string;
  constant: bigint[];
}

/** y = floor((x + 2^(shift-1)) / 2^shift) (round half up), then max(y, 0) if relu. */
export interface RescaleOp extends Base {
  kind: 'rescale';
  input: string;
  shift: number;
  relu: boolean;
}

/** Same values, new shape: re-indexing only. */
export interface ReshapeOp extends Base {
  kind: 'reshape';
  input: string;
  shape: Shape;
}

export type QOp = InputOp | DenseOp | AddConstOp | RescaleOp | ReshapeOp;
export type QOpKind = QOp['kind'];

/** Circom text an op contributes: top-level declarations and statements in the main template. */
export interface Emission {
  declarations: string[];
  statements: string[];
  /** circom expression naming the output array (an input signal array for pure re-indexing). */
  signal: string;
}

export interface EmitContext {
  /** A unique identifier for this op instance, usable in circom names. */
  id: string;
  /** circom expression naming the input array ('' for the input op). */
  input: string;
  /** Bounds of the input elements (for the input op: empty). */
  inputBounds: Interval[];
}

/** Non-linear and linear constraints an op adds before circom's simplification. */
export interface Cost {
  nonLinear: number;
  linear: number;
}

export interface OpDef<O extends QOp> {
  /** Output shape from the input shape. */
  shape(op: O, input: Shape): Shape;
  /** Integer semantics: the reference evaluator runs exactly this. */
  evaluate(op: O, x: readonly bigint[]): bigint[];
  /** Output bounds from input bounds; sound for every input the circuit accepts. */
  bounds(op: O, x: readonly Interval[]): Interval[];
  emit(op: O, ctx: EmitContext): Emission;
  cost(op: O, x: readonly Interval[]): Cost;
}

export type OpDefs = { [K in QOpKind]: OpDef<Extract<QOp, { kind: K }>> };

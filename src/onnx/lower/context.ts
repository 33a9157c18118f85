import { size, type FloatNode, type QuantType, type Shape } from '../../ir/graph.js';
import type { Attributes } from '../attributes.js';
import type { NodeProto } from '../proto.js';
import type { ConstTensor } from '../tensor.js';

/** What a lowering sees: the tensors known so far, and where to put what it produces. */
export interface LoweringContext {
  readonly node: NodeProto;
  readonly name: string;
  readonly op: string;
  readonly attrs: Attributes;
  /** Opset version of the default ONNX domain (some ops changed meaning across versions). */
  readonly opset: number;
  /** Whether input i is given (present and not the empty name). */
  has(i: number): boolean;
  /** A constant (initializer, Constant or folded) input, or undefined if it is computed. */
  constant(i: number): ConstTensor | undefined;
  /** The shape of an input, constant or computed. */
  shape(i: number): Shape;
  /** Whether input i is an integer tensor computed from the model input (token ids). */
  isInteger(i: number): boolean;
  /** The type of input i if it is a quantized (uint8/int8) computed tensor: a QuantizeLinear output or a uint8/int8 model input. */
  quantType(i: number): QuantType | undefined;
  /** The computed tensor behind an input; fails if it is a constant. */
  tensor(i: number): string;
  /** The name of output i. */
  output(i?: number): string;
  emit(node: FloatNode, shape: Shape): void;
  alias(output: string, input: string): void;
  defineConstant(output: string, value: ConstTensor): void;
  fail(reason: string): never;
}

export type Lowering = (ctx: LoweringContext) => void;

/** A required constant input, with a message naming what it is. */
export function requireConstant(ctx: LoweringContext, i: number, what: string): ConstTensor {
  const c = ctx.constant(i);
  if (!c) ctx.fail(`${what} must be a constant (an initializer or Constant), not computed at run time`);
  return c;
}

/** Integer values of a constant input (shapes, axes, pads). */
export function constInts(ctx: LoweringContext, i: number, what: string): number[] {
  return Array.from(requireConstant(ctx, i, what).data, (v) => Math.trunc(v));
}

/** Normalizes a possibly negative axis against a rank. */
export function axis(ctx: LoweringContext, a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  return r;
}

export function sameSize(ctx: LoweringContext, a: Shape, b: Shape): void {
  if (size(a) !== size(b)) ctx.fail(`cannot reshape [${a}] (${size(a)} elements) to [${b}] (${size(b)} elements)`);
}

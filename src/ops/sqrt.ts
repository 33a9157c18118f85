import { FieldOverflowError, FixedPointRangeError } from '../errors.js';
import { componentArray } from './circom_literals.js';
import { floorSqrt, MAX_DECOMPOSITION_BITS, unsignedBits } from './fixed_point.js';
import { isqrt } from '../r1cs/gadgets.js';
import type { Interval, OpDef, SqrtOp } from './types.js';

/** The input's range as the constraints enforce it: not negative. */
const clamped = (r: Interval): Interval => ({ lo: r.lo < 0n ? 0n : r.lo, hi: r.hi < 0n ? 0n : r.hi });

/** [yBits, xBits] of each element's ISqrt. */
function widths(op: SqrtOp, x: readonly Interval[]): [number, number][] {
  return x.map((r0) => {
    const r = clamped(r0);
    const root = floorSqrt(r.hi);
    const xBits = unsignedBits(r.hi > 2n * root + 1n ? r.hi : 2n * root + 1n);
    if (xBits > MAX_DECOMPOSITION_BITS - 2) throw new FieldOverflowError(op.output, xBits);
    return [unsignedBits(root), xBits];
  });
}

/** Integer square root, floor (circuits/isqrt.circom): LayerNorm's standard deviation. */
export const sqrtDef: OpDef<SqrtOp> = {
  evaluate: (op, [x]) =>
    x.map((v, j) => {
      if (v < 0n) throw new FixedPointRangeError(op.output, j, v, 0n, v, `the square root in ${op.source} needs a value that is not negative`);
      return floorSqrt(v);
    }),
  bounds: (op, [x]) => x.map((r0) => {
    const r = clamped(r0);
    return { lo: floorSqrt(r.lo), hi: floorSqrt(r.hi) };
  }),
  emit(op, ctx) {
    const w = widths(op, ctx.bounds[0]);
    const c = componentArray(ctx.id, 'ISqrt', [['y', w.map(([y]) => y)], ['x', w.map(([, x]) => x)]], []);
    return {
      declarations: c.declarations,
      statements: [...c.statements, ...ctx.inputs[0].map((e, j) => `${ctx.id}[${j}].in <== ${e};`)],
      outputs: w.map((_, j) => `${ctx.id}[${j}].out`),
    };
  },
  synthesize(op, { cs, inputs, bounds }) {
    const w = widths(op, bounds[0]);
    return inputs[0].map((x, j) => isqrt(cs, x, w[j][0], w[j][1]));
  },
  // ISqrt(yBits, xBits): yBits + 2 xBits booleanity + 1 product; 3 linear.
  cost(op, [x]) {
    const w = widths(op, x);
    const bits = w.reduce((acc, [y, b]) => acc + y + 2 * b, 0);
    return { nonLinear: bits + w.length, linear: 3 * w.length, floor: bits };
  },
};

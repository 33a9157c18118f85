import { FieldOverflowError } from '../errors.js';
import { MAX_DECOMPOSITION_BITS, hull, rescale, rescaleBits, scale, signedBits } from './fixed_point.js';
import { rescaleLeaky } from '../r1cs/gadgets.js';
import type { Interval, LeakyOp, OpDef } from './types.js';

function multiplier(op: LeakyOp, j: number, v: bigint): bigint {
  return v >= 0n ? 1n << BigInt(op.alphaFrac) : op.alpha[j];
}

/** Range of z = x * multiplier over x in r. */
function scaledRange(op: LeakyOp, j: number, r: Interval): Interval {
  const parts: Interval[] = [];
  if (r.hi >= 0n) parts.push(scale({ lo: r.lo > 0n ? r.lo : 0n, hi: r.hi }, 1n << BigInt(op.alphaFrac)));
  if (r.lo < 0n) parts.push(scale({ lo: r.lo, hi: r.hi < -1n ? r.hi : -1n }, op.alpha[j]));
  return hull(parts);
}

function widths(op: LeakyOp, x: readonly Interval[]) {
  return x.map((r, j) => {
    const sign = signedBits(r);
    const z = rescaleBits(scaledRange(op, j, r), op.shift + op.alphaFrac);
    if (Math.max(sign, z) > MAX_DECOMPOSITION_BITS) throw new FieldOverflowError(op.output, Math.max(sign, z));
    return [sign, z] as const;
  });
}

/** LeakyRelu / PRelu fused with the rescale before it (circuits/rescale_leaky.circom). */
export const leakyDef: OpDef<LeakyOp> = {
  evaluate: (op, [x]) => x.map((v, j) => rescale(v * multiplier(op, j, v), op.shift + op.alphaFrac)),
  bounds: (op, [x]) =>
    x.map((r, j) => {
      const z = scaledRange(op, j, r);
      return { lo: rescale(z.lo, op.shift + op.alphaFrac), hi: rescale(z.hi, op.shift + op.alphaFrac) };
    }),
  emit(op, ctx) {
    const w = widths(op, ctx.bounds[0]);
    return {
      declarations: [],
      statements: [
        `component ${ctx.id}[${w.length}];`,
        ...w.map(([sign, z], j) => `${ctx.id}[${j}] = RescaleLeaky(${sign}, ${z}, ${op.shift}, ${op.alpha[j]}, ${op.alphaFrac}); ${ctx.id}[${j}].in <== ${ctx.inputs[0][j]};`),
      ],
      outputs: w.map((_, j) => `${ctx.id}[${j}].out`),
    };
  },
  synthesize(op, { cs, inputs, bounds }) {
    const w = widths(op, bounds[0]);
    return inputs[0].map((x, j) => rescaleLeaky(cs, x, w[j][0], w[j][1], op.shift, op.alpha[j], op.alphaFrac));
  },
  // RescaleLeaky(signBits, bits, ...): signBits + 1 (sign * x) + bits non-linear.
  cost: (op, [x]) => {
    const w = widths(op, x);
    return { nonLinear: w.reduce((a, [s, z]) => a + s + 1 + z, 0), linear: x.length * 3, floor: w.reduce((a, [s, z]) => a + s + z, 0) };
  },
};

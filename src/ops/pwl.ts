import { FieldOverflowError } from '../errors.js';
import { constArrayFunction } from './circom_literals.js';
import { MAX_DECOMPOSITION_BITS, hull, rescale, rescaleBits, signedBits } from './fixed_point.js';
import { piecewiseLinear } from '../r1cs/gadgets.js';
import type { Interval, OpDef, PwlOp } from './types.js';

export const activations = {
  sigmoid: { f: (x: number) => 1 / (1 + Math.exp(-x)), domainLog2: 3 },
  tanh: { f: Math.tanh, domainLog2: 2 },
} as const;

/** Segments of the approximation: 2^6 over [-8, 8) for sigmoid and [-4, 4) for tanh. */
export const SEGMENTS_LOG2 = 6;

/**
 * Tables of the piecewise-linear approximation for an input with `inFrac` fractional bits and an
 * output with `outFrac`: on each segment the value at its left end and its rise, both rounded at
 * the output scale, so that the circuit interpolates exactly what the reference does.
 */
export function pwlTables(fn: PwlOp['fn'], inFrac: number, outFrac: number): Omit<PwlOp, 'kind' | 'source' | 'inputs' | 'output'> {
  const { f, domainLog2 } = activations[fn];
  const domainBits = domainLog2 + inFrac;
  if (domainBits < 0) throw new FieldOverflowError(`${fn} input scale 2^-${inFrac}`, 0);
  const segmentsLog2 = Math.min(SEGMENTS_LOG2, domainBits + 1);
  const w = domainBits + 1 - segmentsLog2;
  const R = 2 ** domainLog2;
  const step = (2 * R) / 2 ** segmentsLog2;
  const q = (v: number) => BigInt(Math.round(v * 2 ** outFrac));
  const a: bigint[] = [];
  const b: bigint[] = [];
  for (let j = 0; j < 2 ** segmentsLog2; j++) {
    const left = q(f(-R + j * step));
    a.push(left);
    b.push(q(f(-R + (j + 1) * step)) - left);
  }
  const pow = 1n << BigInt(w);
  return { fn, domainBits, segmentsLog2, a, b, below: q(f(-R)) * pow, above: q(f(R)) * pow };
}

function offsetBits(op: PwlOp): number {
  return op.domainBits + 1 - op.segmentsLog2;
}

/** V before the final rescale: the integer the circuit interpolates. */
function interpolate(op: PwlOp, x: bigint): bigint {
  const R = 1n << BigInt(op.domainBits);
  if (x >= R) return op.above;
  if (x < -R) return op.below;
  const w = BigInt(offsetBits(op));
  const u = x + R;
  const idx = Number(u >> w);
  return (op.a[idx] << w) + op.b[idx] * (u & ((1n << w) - 1n));
}

function valueRange(op: PwlOp): Interval {
  const top = (1n << BigInt(offsetBits(op))) - 1n;
  return hull([{ lo: op.below, hi: op.above }, ...op.a.map((a, j) => {
    const v0 = a << BigInt(offsetBits(op));
    const v1 = v0 + op.b[j] * top;
    return v0 < v1 ? { lo: v0, hi: v1 } : { lo: v1, hi: v0 };
  })]);
}

function widths(op: PwlOp, x: readonly Interval[]) {
  const vBits = rescaleBits(valueRange(op), offsetBits(op));
  return x.map((r) => {
    const bits = Math.max(signedBits(r), op.domainBits + 1);
    if (bits > MAX_DECOMPOSITION_BITS) throw new FieldOverflowError(op.output, bits);
    return [bits, vBits] as const;
  });
}

/**
 * Sigmoid and tanh: saturating piecewise-linear interpolation selected by the input's own bits
 * (circuits/piecewise_linear.circom). The approximation error is measured at compile time.
 */
export const pwlDef: OpDef<PwlOp> = {
  evaluate: (op, [x]) => x.map((v) => rescale(interpolate(op, v), offsetBits(op))),
  bounds(op, [x]) {
    // The same for every element: the range of the tables after the final rescale.
    const v = valueRange(op);
    const out = { lo: rescale(v.lo, offsetBits(op)), hi: rescale(v.hi, offsetBits(op)) };
    return x.map(() => ({ ...out }));
  },
  emit(op, ctx) {
    const w = widths(op, ctx.bounds[0]);
    return {
      declarations: [constArrayFunction(`${ctx.id}_a`, op.a), constArrayFunction(`${ctx.id}_b`, op.b)],
      statements: [
        `component ${ctx.id}[${w.length}];`,
        ...w.map(
          ([bits, vBits], j) =>
            `${ctx.id}[${j}] = PiecewiseLinear(${bits}, ${op.domainBits}, ${op.segmentsLog2}, ${ctx.id}_a(), ${ctx.id}_b(), ${op.below}, ${op.above}, ${vBits}); ${ctx.id}[${j}].in <== ${ctx.inputs[0][j]};`,
        ),
      ],
      outputs: w.map((_, j) => `${ctx.id}[${j}].out`),
    };
  },
  synthesize(op, { cs, inputs, bounds }) {
    const w = widths(op, bounds[0]);
    return inputs[0].map((x, j) => piecewiseLinear(cs, x, w[j][0], op.domainBits, op.segmentsLog2, op.a, op.b, op.below, op.above, w[j][1]));
  },
  // PiecewiseLinear: bits (decomposition) + 3 (range test, when bits > domainBits + 1)
  // + 2^segmentsLog2 (one-hot decoder) + 2 (slope product, saturation select) + vBits (final rescale).
  cost(op, [x]) {
    const w = widths(op, x);
    const nonLinear = w.reduce((acc, [bits, vBits]) => acc + bits + (bits - 1 > op.domainBits ? 3 : 0) + 2 ** op.segmentsLog2 + 2 + vBits, 0);
    return { nonLinear, linear: x.length * 4, floor: w.reduce((acc, [bits, vBits]) => acc + bits + vBits, 0) };
  },
};

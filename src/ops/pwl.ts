import { FieldOverflowError } from '../errors.js';
import { constArrayFunction } from './circom_literals.js';
import { MAX_DECOMPOSITION_BITS, hull, rescale, rescaleBits, signedBits } from './fixed_point.js';
import { piecewiseLinear } from '../r1cs/gadgets.js';
import { exactFns } from '../ir/float_eval.js';
import type { Interval, OpDef, PwlOp } from './types.js';

/** The functions a pwl op approximates: the exact function (float64) names the op's meaning. */
export const pwlFunctions = exactFns;
export type PwlFn = keyof typeof exactFns;

/** Fixed domains of the bounded functions: outside them each is within 3.4e-4 of its limit. */
export const fixedDomains: Partial<Record<PwlFn, readonly [number, number]>> = {
  sigmoid: [-8, 8],
  tanh: [-4, 4],
  erf: [-4, 4],
};

/** Segments of the approximation by default: 2^6 (over [-8, 8) for sigmoid, [-4, 4) for tanh and erf). */
export const SEGMENTS_LOG2 = 6;

/**
 * Tables of the piecewise-linear approximation of `fn` on the float domain [lo, hi] (widened to a
 * power-of-two number of input steps) for an input with `inFrac` fractional bits and an output
 * with `outFrac`: on each segment the value at its left end and its rise, both rounded at the
 * output scale, so that the circuit interpolates exactly what the reference does. Outside the
 * domain the output saturates at the value of its nearer end.
 */
export function pwlTables(fn: PwlFn, inFrac: number, outFrac: number, domain: readonly [number, number] = fixedDomains[fn]!, segmentsLog2Max = SEGMENTS_LOG2): Omit<PwlOp, 'kind' | 'source' | 'inputs' | 'output'> {
  const f = pwlFunctions[fn];
  const start = Math.floor(domain[0] * 2 ** inFrac);
  const width = Math.ceil(domain[1] * 2 ** inFrac) - start;
  const domainBits = Math.max(0, Math.ceil(Math.log2(Math.max(width, 1))) - 1);
  if (!Number.isFinite(start) || domainBits + 1 > MAX_DECOMPOSITION_BITS - 8) throw new FieldOverflowError(`${fn} domain at input scale 2^-${inFrac}`, domainBits + 1);
  const segmentsLog2 = Math.min(segmentsLog2Max, domainBits + 1);
  const w = domainBits + 1 - segmentsLog2;
  const center = BigInt(start) + (1n << BigInt(domainBits));
  const at = (u: number) => f((start + u) * 2 ** -inFrac);
  const q = (v: number) => BigInt(Math.round(v * 2 ** outFrac));
  const a: bigint[] = [];
  const b: bigint[] = [];
  for (let j = 0; j < 2 ** segmentsLog2; j++) {
    const left = q(at(j * 2 ** w));
    a.push(left);
    b.push(q(at((j + 1) * 2 ** w)) - left);
  }
  const pow = 1n << BigInt(w);
  return { fn, domainBits, segmentsLog2, center, a, b, below: q(at(0)) * pow, above: q(at(2 ** (domainBits + 1))) * pow, inFrac, outFrac };
}

function offsetBits(op: PwlOp): number {
  return op.domainBits + 1 - op.segmentsLog2;
}

/** V before the final rescale: the integer the circuit interpolates. */
function interpolate(op: PwlOp, input: bigint): bigint {
  const x = input - (op.center ?? 0n);
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
  const c = op.center ?? 0n;
  return x.map((r) => {
    const bits = Math.max(signedBits({ lo: r.lo - c, hi: r.hi - c }), op.domainBits + 1);
    if (bits > MAX_DECOMPOSITION_BITS) throw new FieldOverflowError(op.output, bits);
    return [bits, vBits] as const;
  });
}

/** The template's input: the op's input less the domain's centre (a constant: free). */
function centered(expr: string, center: bigint | undefined): string {
  return center ? `${expr} - (${center})` : expr;
}

/**
 * Sigmoid, tanh, erf, exp, log, softplus: saturating piecewise-linear interpolation selected by the input's own bits
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
            `${ctx.id}[${j}] = PiecewiseLinear(${bits}, ${op.domainBits}, ${op.segmentsLog2}, ${ctx.id}_a(), ${ctx.id}_b(), ${op.below}, ${op.above}, ${vBits}); ${ctx.id}[${j}].in <== ${centered(ctx.inputs[0][j], op.center)};`,
        ),
      ],
      outputs: w.map((_, j) => `${ctx.id}[${j}].out`),
    };
  },
  synthesize(op, { cs, inputs, bounds }) {
    const w = widths(op, bounds[0]);
    return inputs[0].map((x, j) => piecewiseLinear(cs, x.addConst(-(op.center ?? 0n)), w[j][0], op.domainBits, op.segmentsLog2, op.a, op.b, op.below, op.above, w[j][1]));
  },
  // PiecewiseLinear: bits (decomposition) + 3 (range test, when bits > domainBits + 1)
  // + 2^segmentsLog2 (one-hot decoder) + 2 (slope product, saturation select) + vBits (final rescale).
  cost(op, [x]) {
    const w = widths(op, x);
    const nonLinear = w.reduce((acc, [bits, vBits]) => acc + bits + (bits - 1 > op.domainBits ? 3 : 0) + 2 ** op.segmentsLog2 + 2 + vBits, 0);
    return { nonLinear, linear: x.length * 4, floor: w.reduce((acc, [bits, vBits]) => acc + bits + vBits, 0) };
  },
};

/** Largest table the exact variant uses (one segment per input step up to this). */
const EXACT_SEGMENTS_LOG2 = 16;

/**
 * The same op with a segment per input step over its domain: the function itself, rounded at the
 * output scale, at every input (same saturation outside). What the accuracy report compares the
 * approximation against.
 */
export function exactVariant(op: PwlOp): PwlOp | undefined {
  if (op.inFrac === undefined || op.outFrac === undefined) return undefined;
  const c = Number(op.center ?? 0n);
  const half = 2 ** op.domainBits;
  const domain: [number, number] = [(c - half) * 2 ** -op.inFrac, (c + half) * 2 ** -op.inFrac];
  return { ...op, ...pwlTables(op.fn, op.inFrac, op.outFrac, domain, Math.min(EXACT_SEGMENTS_LOG2, op.domainBits + 1)) };
}

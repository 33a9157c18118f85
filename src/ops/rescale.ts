import { FieldOverflowError } from '../errors.js';
import { circomArray } from './circom_literals.js';
import { MAX_DECOMPOSITION_BITS, relu, rescale, rescaleBits } from './fixed_point.js';
import type { Interval, OpDef, RescaleOp } from './types.js';

function apply(op: RescaleOp, v: bigint): bigint {
  const y = rescale(v, op.shift);
  return op.relu ? relu(y) : y;
}

/** Decomposition width of each element, from its bounds: the smallest that is sound. */
export function rescaleWidths(op: RescaleOp, x: readonly Interval[]): number[] {
  return x.map((r) => {
    const bits = rescaleBits(r, op.shift);
    if (bits > MAX_DECOMPOSITION_BITS) throw new FieldOverflowError(op.output, bits);
    return bits;
  });
}

/**
 * Rescale by 2^-shift with round-half-up, fused with ReLU: one range decomposition per element
 * yields the quotient and the sign together (circuits/rescale_relu.circom).
 */
export const rescaleDef: OpDef<RescaleOp> = {
  shape: (_op, input) => input,
  evaluate: (op, x) => x.map((v) => apply(op, v)),
  bounds: (op, x) => x.map((r) => ({ lo: apply(op, r.lo), hi: apply(op, r.hi) })),
  emit(op, ctx) {
    const widths = rescaleWidths(op, ctx.inputBounds);
    const n = widths.length;
    return {
      declarations: [`function ${ctx.id}_bits() {\n    var b[${n}] = ${circomArray(widths)};\n    return b;\n}`],
      statements: [
        `component ${ctx.id}[${n}];`,
        `signal ${ctx.id}_out[${n}];`,
        `var ${ctx.id}_width[${n}] = ${ctx.id}_bits();`,
        `for (var i = 0; i < ${n}; i++) {`,
        `    ${ctx.id}[i] = RescaleRelu(${ctx.id}_width[i], ${op.shift}, ${op.relu ? 1 : 0});`,
        `    ${ctx.id}[i].in <== ${ctx.input}[i];`,
        `    ${ctx.id}_out[i] <== ${ctx.id}[i].out;`,
        `}`,
      ],
      signal: `${ctx.id}_out`,
    };
  },
  // RescaleRelu(bits, shift, relu): bits booleanity, + 1 for the ReLU product unless the quotient
  // magnitude has no bits (bits == shift + 1: the ReLU output is the constant 0); 1 linear recomposition.
  cost(op, x) {
    const widths = rescaleWidths(op, x);
    const products = op.relu ? widths.filter((b) => b - 1 > op.shift).length : 0;
    const nonLinear = widths.reduce((a, b) => a + b, 0) + products;
    return { nonLinear, linear: widths.length * (op.relu ? 2 : 3) };
  },
};

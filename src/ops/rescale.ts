import { FieldOverflowError } from '../errors.js';
import { constArrayFunction } from './circom_literals.js';
import { MAX_DECOMPOSITION_BITS, relu, rescale, rescaleBits } from './fixed_point.js';
import { rescaleRelu } from '../r1cs/gadgets.js';
import type { Interval, OpDef, RescaleOp } from './types.js';

function apply(op: RescaleOp, v: bigint): bigint {
  const y = rescale(v, op.shift);
  return op.relu ? relu(y) : y;
}

/** Decomposition width of each element, from its bounds: the smallest that is sound. */
export function decompositionWidths(output: string, shift: number, x: readonly Interval[]): number[] {
  return x.map((r) => {
    const bits = rescaleBits(r, shift);
    if (bits > MAX_DECOMPOSITION_BITS) throw new FieldOverflowError(output, bits);
    return bits;
  });
}

/**
 * Rescale by 2^-shift with round-half-up, fused with ReLU: one range decomposition per element
 * yields the quotient and the sign together (circuits/rescale_relu.circom).
 */
export const rescaleDef: OpDef<RescaleOp> = {
  evaluate: (op, [x]) => x.map((v) => apply(op, v)),
  bounds: (op, [x]) => x.map((r) => ({ lo: apply(op, r.lo), hi: apply(op, r.hi) })),
  emit(op, ctx) {
    const widths = decompositionWidths(op.output, op.shift, ctx.bounds[0]);
    const n = widths.length;
    return {
      declarations: [constArrayFunction(`${ctx.id}_bits`, widths)],
      statements: [
        `component ${ctx.id}[${n}];`,
        `var ${ctx.id}_width[${n}] = ${ctx.id}_bits();`,
        `for (var i = 0; i < ${n}; i++) ${ctx.id}[i] = RescaleRelu(${ctx.id}_width[i], ${op.shift}, ${op.relu ? 1 : 0});`,
        ...ctx.inputs[0].map((e, i) => `${ctx.id}[${i}].in <== ${e};`),
      ],
      outputs: widths.map((_, i) => `${ctx.id}[${i}].out`),
    };
  },
  synthesize(op, { cs, inputs, bounds }) {
    const widths = decompositionWidths(op.output, op.shift, bounds[0]);
    return inputs[0].map((x, i) => rescaleRelu(cs, x, widths[i], op.shift, op.relu));
  },
  // RescaleRelu(bits, shift, relu): bits booleanity, + 1 for the ReLU product unless the quotient
  // magnitude has no bits (bits == shift + 1: the ReLU output is the constant 0); 1 linear recomposition.
  cost(op, [x]) {
    const widths = decompositionWidths(op.output, op.shift, x);
    const products = op.relu ? widths.filter((b) => b - 1 > op.shift).length : 0;
    const bits = widths.reduce((a, b) => a + b, 0);
    return { nonLinear: bits + products, linear: widths.length * (op.relu ? 1 : 2), floor: bits };
  },
};

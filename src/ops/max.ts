import { compareBits, hull } from './fixed_point.js';
import { max2 } from '../r1cs/gadgets.js';
import type { Interval, MaxOp, OpDef } from './types.js';

/** Widths of the Max2 chain over one window: running max vs the next element. */
function chain(window: number[], x: readonly Interval[]): number[] {
  const widths: number[] = [];
  let running = x[window[0]];
  for (const i of window.slice(1)) {
    widths.push(compareBits(x[i], running));
    running = hull([running, x[i]]);
  }
  return widths;
}

/** Max pooling: a chain of Max2 comparisons over each window (circuits/max2.circom). */
export const maxDef: OpDef<MaxOp> = {
  evaluate: (op, [x]) => op.windows.map((w) => w.reduce((m, i) => (x[i] > m ? x[i] : m), x[w[0]])),
  bounds: (op, [x]) => op.windows.map((w) => w.map((i) => x[i]).reduce((a, b) => ({ lo: a.lo > b.lo ? a.lo : b.lo, hi: a.hi > b.hi ? a.hi : b.hi }))),
  emit(op, ctx) {
    const statements: string[] = [];
    const outputs = op.windows.map((w, j) => {
      const widths = chain(w, ctx.bounds[0]);
      let expr = ctx.inputs[0][w[0]];
      widths.forEach((bits, k) => {
        const c = `${ctx.id}_${j}_${k}`;
        statements.push(`component ${c} = Max2(${bits}); ${c}.a <== ${ctx.inputs[0][w[k + 1]]}; ${c}.b <== ${expr};`);
        expr = `${c}.out`;
      });
      return expr;
    });
    return { declarations: [], statements, outputs };
  },
  synthesize(op, { cs, inputs, bounds }) {
    return op.windows.map((w) => chain(w, bounds[0]).reduce((running, bits, k) => max2(cs, inputs[0][w[k + 1]], running, bits), inputs[0][w[0]]));
  },
  // Max2(bits) per comparison: bits + 1 non-linear; a window of n elements needs n - 1.
  cost: (op, [x]) => {
    const widths = op.windows.flatMap((w) => chain(w, x));
    const bits = widths.reduce((a, b) => a + b, 0);
    return { nonLinear: bits + widths.length, linear: widths.length, floor: bits };
  },
};

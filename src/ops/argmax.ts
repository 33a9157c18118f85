import { hull, signedBits } from './fixed_point.js';
import { argMax } from '../r1cs/gadgets.js';
import type { ArgMaxOp, Interval, OpDef } from './types.js';

/** Width of the comparisons in one group: x_i - best (- 1 for strict) over every pair. */
function width(op: ArgMaxOp, group: number[], x: readonly Interval[]): number {
  const r = hull(group.map((i) => x[i]));
  return signedBits({ lo: r.lo - r.hi - 1n, hi: r.hi - r.lo });
}

/** ArgMax at the output: a chain of comparisons that carries the best value and its position (circuits/argmax.circom). */
export const argmaxDef: OpDef<ArgMaxOp> = {
  evaluate: (op, [x]) =>
    op.groups.map((g) => {
      let best = 0;
      g.forEach((i, k) => {
        if (op.selectLast ? x[i] >= x[g[best]] : x[i] > x[g[best]]) best = k;
      });
      return BigInt(best);
    }),
  bounds: (op) => op.groups.map((g) => ({ lo: 0n, hi: BigInt(g.length - 1) })),
  emit(op, ctx) {
    const statements: string[] = [];
    const outputs = op.groups.map((g, j) => {
      if (g.length === 1) return '0';
      const c = `${ctx.id}_${j}`;
      statements.push(`component ${c} = ArgMax(${g.length}, ${width(op, g, ctx.bounds[0])}, ${op.selectLast ? 1 : 0}); ${g.map((i, k) => `${c}.in[${k}] <== ${ctx.inputs[0][i]};`).join(' ')}`);
      return `${c}.out`;
    });
    return { declarations: [], statements, outputs };
  },
  synthesize(op, { cs, inputs, bounds }) {
    return op.groups.map((g) => (g.length === 1 ? cs.constant(0n) : argMax(cs, g.map((i) => inputs[0][i]), width(op, g, bounds[0]), op.selectLast)));
  },
  // ArgMax(n, bits): (n - 1) * (bits + 2) - 1 non-linear (the first position update is linear).
  cost: (op, [x]) => ({
    nonLinear: op.groups.reduce((a, g) => a + (g.length > 1 ? (g.length - 1) * (width(op, g, x) + 2) - 1 : 0), 0),
    linear: op.groups.length,
    floor: op.groups.reduce((a, g) => a + (g.length - 1) * width(op, g, x), 0),
  }),
};

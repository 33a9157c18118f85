import { compareBits } from './fixed_point.js';
import type { ClampOp, Interval, OpDef } from './types.js';

function apply(op: ClampOp, v: bigint): bigint {
  let y = v;
  if (op.lo !== null && y < op.lo) y = op.lo;
  if (op.hi !== null && y > op.hi) y = op.hi;
  return y;
}

/** Which bounds can bind for an input range (a bound outside the range costs nothing). */
function active(op: ClampOp, r: Interval) {
  return { lo: op.lo !== null && r.lo < op.lo, hi: op.hi !== null && r.hi > op.hi };
}

/** Clip: max(x, lo) and min(., hi), each a Max2 comparison (circuits/max2.circom) when it can bind. */
export const clampDef: OpDef<ClampOp> = {
  evaluate: (op, [x]) => x.map((v) => apply(op, v)),
  bounds: (op, [x]) => x.map((r) => ({ lo: apply(op, r.lo), hi: apply(op, r.hi) })),
  emit(op, ctx) {
    const statements: string[] = [];
    const outputs = ctx.inputs[0].map((e, j) => {
      const r = ctx.bounds[0][j];
      const a = active(op, r);
      let expr = e;
      let range = r;
      if (a.lo) {
        const bits = compareBits(range, { lo: op.lo!, hi: op.lo! });
        statements.push(`component ${ctx.id}_lo${j} = Max2(${bits}); ${ctx.id}_lo${j}.a <== ${expr}; ${ctx.id}_lo${j}.b <== ${op.lo};`);
        expr = `${ctx.id}_lo${j}.out`;
        range = { lo: op.lo!, hi: range.hi > op.lo! ? range.hi : op.lo! };
      }
      if (a.hi) {
        // min(y, hi) = -max(-y, -hi)
        const bits = compareBits({ lo: -range.hi, hi: -range.lo }, { lo: -op.hi!, hi: -op.hi! });
        statements.push(`component ${ctx.id}_hi${j} = Max2(${bits}); ${ctx.id}_hi${j}.a <== -(${expr}); ${ctx.id}_hi${j}.b <== ${-op.hi!};`);
        expr = `(-${ctx.id}_hi${j}.out)`;
      }
      return expr;
    });
    return { declarations: [], statements, outputs };
  },
  // Max2(bits): bits booleanity + 1 product per active bound.
  cost(op, [x]) {
    let nonLinear = 0;
    let comparisons = 0;
    for (const r of x) {
      const a = active(op, r);
      let range = r;
      if (a.lo) {
        nonLinear += compareBits(range, { lo: op.lo!, hi: op.lo! }) + 1;
        comparisons++;
        range = { lo: op.lo!, hi: range.hi > op.lo! ? range.hi : op.lo! };
      }
      if (a.hi) {
        nonLinear += compareBits({ lo: -range.hi, hi: -range.lo }, { lo: -op.hi!, hi: -op.hi! }) + 1;
        comparisons++;
      }
    }
    return { nonLinear, linear: nonLinear > 0 ? x.length : 0, floor: nonLinear - comparisons };
  },
};

import { compareBits } from './fixed_point.js';
import { max2 } from '../r1cs/gadgets.js';
import type { ConstraintSystem, Lin } from '../r1cs/system.js';
import type { ClampOp, Cost, Interval, OpDef } from './types.js';

/** What clamping needs of an op: its bounds (null: none). */
type Bounds = Pick<ClampOp, 'lo' | 'hi'>;

export function clampValue(op: Bounds, v: bigint): bigint {
  let y = v;
  if (op.lo !== null && y < op.lo) y = op.lo;
  if (op.hi !== null && y > op.hi) y = op.hi;
  return y;
}

/** Which bounds can bind for an input range (a bound outside the range costs nothing). */
function active(op: Bounds, r: Interval) {
  return { lo: op.lo !== null && r.lo < op.lo, hi: op.hi !== null && r.hi > op.hi };
}

/** The comparisons one element needs, in order, with their widths: max(x, lo), then min(., hi) as -max(-y, -hi). */
export function clampSteps(op: Bounds, r: Interval): { bound: 'lo' | 'hi'; bits: number }[] {
  const a = active(op, r);
  const out: { bound: 'lo' | 'hi'; bits: number }[] = [];
  let range = r;
  if (a.lo) {
    out.push({ bound: 'lo', bits: compareBits(range, { lo: op.lo!, hi: op.lo! }) });
    range = { lo: op.lo!, hi: range.hi > op.lo! ? range.hi : op.lo! };
  }
  if (a.hi) out.push({ bound: 'hi', bits: compareBits({ lo: -range.hi, hi: -range.lo }, { lo: -op.hi!, hi: -op.hi! }) });
  return out;
}

/** circom for clamping one element `expr` (in `range`): Max2 components named prefix + bound + j; returns the output expression. */
export function emitClamp(op: Bounds, prefix: string, j: number, expr: string, range: Interval, statements: string[]): string {
  return clampSteps(op, range).reduce((e, { bound, bits }) => {
    const c = `${prefix}${bound}${j}`;
    if (bound === 'lo') {
      statements.push(`component ${c} = Max2(${bits}); ${c}.a <== ${e}; ${c}.b <== ${op.lo};`);
      return `${c}.out`;
    }
    statements.push(`component ${c} = Max2(${bits}); ${c}.a <== -(${e}); ${c}.b <== ${-op.hi!};`);
    return `(-${c}.out)`;
  }, expr);
}

/** The same clamping as R1CS. */
export function synthesizeClamp(cs: ConstraintSystem, op: Bounds, x: Lin, range: Interval): Lin {
  return clampSteps(op, range).reduce((y, { bound, bits }) => (bound === 'lo' ? max2(cs, y, cs.constant(op.lo!), bits) : max2(cs, y.scale(-1n), cs.constant(-op.hi!), bits).scale(-1n)), x);
}

/** Clamp cost: Max2(bits) is bits booleanity + 1 product per active bound. */
export function clampCost(op: Bounds, x: readonly Interval[]): Cost {
  const all = x.flatMap((r) => clampSteps(op, r));
  const nonLinear = all.reduce((acc, s) => acc + s.bits + 1, 0);
  return { nonLinear, linear: nonLinear > 0 ? x.length : 0, floor: nonLinear - all.length };
}

/** Clip: max(x, lo) and min(., hi), each a Max2 comparison (circuits/max2.circom) when it can bind. */
export const clampDef: OpDef<ClampOp> = {
  evaluate: (op, [x]) => x.map((v) => clampValue(op, v)),
  bounds: (op, [x]) => x.map((r) => ({ lo: clampValue(op, r.lo), hi: clampValue(op, r.hi) })),
  emit(op, ctx) {
    const statements: string[] = [];
    const outputs = ctx.inputs[0].map((e, j) => emitClamp(op, `${ctx.id}_`, j, e, ctx.bounds[0][j], statements));
    return { declarations: [], statements, outputs };
  },
  synthesize(op, { cs, inputs, bounds }) {
    return inputs[0].map((x, j) => synthesizeClamp(cs, op, x, bounds[0][j]));
  },
  cost: (op, [x]) => clampCost(op, x),
};

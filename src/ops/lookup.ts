import { FixedPointRangeError } from '../errors.js';
import { unsignedBits } from './fixed_point.js';
import { oneHot } from '../r1cs/gadgets.js';
import type { Interval, LookupOp, OpDef } from './types.js';

/** Each column's range over the table's rows. */
function columnRanges(op: LookupOp): Interval[] {
  return Array.from({ length: op.cols }, (_, d) => {
    let lo = op.table[d];
    let hi = lo;
    for (let k = 1; k < op.rows; k++) {
      const v = op.table[k * op.cols + d];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return { lo, hi };
  });
}

/** sum over rows k of table[k][d] * h[k], skipping zero entries. */
function rowTerms(op: LookupOp, d: number): [number, bigint][] {
  const terms: [number, bigint][] = [];
  for (let k = 0; k < op.rows; k++) if (op.table[k * op.cols + d] !== 0n) terms.push([k, op.table[k * op.cols + d]]);
  return terms;
}

/**
 * Embedding lookup by token id (circuits/one_hot.circom): a one-hot selector per id (rows
 * constraints), then each output is a constant-coefficient sum of the selector: no product.
 */
export const lookupDef: OpDef<LookupOp> = {
  evaluate(op, [ids]) {
    const out: bigint[] = [];
    ids.forEach((id, t) => {
      if (id < 0n || id >= BigInt(op.rows)) throw new FixedPointRangeError(op.source, t, id, 0n, BigInt(op.rows - 1), `token id ${id} is not a row of the ${op.rows}-row table`);
      for (let d = 0; d < op.cols; d++) out.push(op.table[Number(id) * op.cols + d]);
    });
    return out;
  },
  bounds(op, [ids]) {
    const cols = columnRanges(op);
    return ids.flatMap(() => cols.map((r) => ({ ...r })));
  },
  emit(op, ctx) {
    const statements: string[] = [`signal ${ctx.id}[${ctx.inputs[0].length * op.cols}];`];
    const terms = Array.from({ length: op.cols }, (_, d) => rowTerms(op, d));
    ctx.inputs[0].forEach((id, t) => {
      const h = `${ctx.id}_h${t}`;
      statements.push(`component ${h} = OneHot(${op.rows}); ${h}.in <== ${id};`);
      terms.forEach((row, d) => statements.push(`${ctx.id}[${t * op.cols + d}] <== ${row.length ? row.map(([k, w]) => `${w} * ${h}.out[${k}]`).join(' + ') : '0'};`));
    });
    return { declarations: [], statements, outputs: Array.from({ length: ctx.inputs[0].length * op.cols }, (_, j) => `${ctx.id}[${j}]`) };
  },
  synthesize(op, { cs, inputs: [ids] }) {
    const terms = Array.from({ length: op.cols }, (_, d) => rowTerms(op, d));
    return ids.flatMap((id) => {
      const h = oneHot(cs, id, op.rows);
      return terms.map((row) => cs.sum(row.map(([k, w]) => [h[k], w] as const)));
    });
  },
  // OneHot(rows) per id: rows non-linear, 1 linear. Floor: the id's bits, which any lookup must fix.
  cost: (op, [ids]) => ({ nonLinear: ids.length * op.rows, linear: ids.length, floor: ids.length * unsignedBits(BigInt(op.rows - 1)) }),
};

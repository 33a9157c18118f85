import { balancedSum, term } from './circom_literals.js';
import { hull } from './fixed_point.js';
import { inputRange } from '../r1cs/gadgets.js';
import type { Lin } from '../r1cs/system.js';
import type { HiddenParams, Interval, LinearOp, OpDef } from './types.js';

function rows<T>(op: LinearOp, f: (j: number, terms: [number, number, bigint, number][]) => T): T[] {
  return op.bias.map((_, j) => {
    const terms: [number, number, bigint, number][] = [];
    for (let t = op.rowStart[j]; t < op.rowStart[j + 1]; t++) terms.push([op.src[t], op.index[t], op.weight[t], t]);
    return f(j, terms);
  });
}

const window = (lo: bigint, bits: number): Interval => ({ lo, hi: lo + (1n << BigInt(bits)) - 1n });

function product(a: Interval, b: Interval): Interval {
  return hull([a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi].map((v) => ({ lo: v, hi: v })));
}

/** Interval of each weight and bias: the value itself when constant, its whole window when hidden. */
function weightRange(h: HiddenParams | undefined, w: bigint): Interval {
  return h ? window(h.weightLo, h.weightBits) : { lo: w, hi: w };
}

function biasRange(h: HiddenParams | undefined, b: bigint): Interval {
  return h ? window(h.biasLo, h.biasBits) : { lo: b, hi: b };
}

/** An op's weights and biases as doubles (null when one is too wide for that), computed once per op. */
const numeric = new WeakMap<LinearOp, { weight: Float64Array; bias: Float64Array } | null>();

/** Below 2^52 every partial sum of integer products is exact in a double (with room for the bound's own rounding). */
const EXACT = 2 ** 52;

/**
 * The integer semantics computed in doubles, when that is exact: every |partial sum| is at most
 * sum |w| * max|x| + |b|, so if that stays below 2^52 for every row, each product and sum is an
 * integer a double holds exactly. About 20x faster than BigInt on convolutions; null otherwise.
 */
function evaluateExactInDoubles(op: LinearOp, x: readonly bigint[][]): bigint[] | null {
  let n = numeric.get(op);
  if (n === undefined) {
    const fits = (v: bigint) => v < BigInt(EXACT) && v > -BigInt(EXACT);
    n = op.weight.every(fits) && op.bias.every(fits) ? { weight: Float64Array.from(op.weight, Number), bias: Float64Array.from(op.bias, Number) } : null;
    numeric.set(op, n);
  }
  if (!n) return null;
  const xs = x.map((v) => Float64Array.from(v, Number));
  const maxAbs = xs.map((v) => v.reduce((m, e) => Math.max(m, Math.abs(e)), 0));
  if (maxAbs.some((m) => !(m < EXACT))) return null;
  const { weight, bias } = n;
  const out = new Array<bigint>(bias.length);
  for (let j = 0; j < bias.length; j++) {
    let acc = bias[j];
    let bound = Math.abs(bias[j]);
    for (let t = op.rowStart[j]; t < op.rowStart[j + 1]; t++) {
      const w = weight[t];
      acc += w * xs[op.src[t]][op.index[t]];
      bound += Math.abs(w) * maxAbs[op.src[t]];
    }
    if (!(bound < EXACT)) return null;
    out[j] = BigInt(acc);
  }
  return out;
}

/**
 * Affine map (Gemm, MatMul, Conv, average pooling, BatchNorm, Add/Sub). With constant weights each
 * output is a linear combination and costs no multiplication constraint. With hidden weights
 * (hashed-weights builds) each term is a product of two signals, and each parameter is
 * range-checked (circuits/input_range.circom) so that the bounds hold for any committed weights.
 */
export const linearDef: OpDef<LinearOp> = {
  evaluate: (op, x) => evaluateExactInDoubles(op, x) ?? rows(op, (j, terms) => terms.reduce((acc, [s, i, w]) => acc + w * x[s][i], op.bias[j])),
  bounds: (op, x) =>
    rows(op, (j, terms) =>
      terms.reduce<Interval>(
        (acc, [s, i, w]) => {
          const r = product(x[s][i], weightRange(op.hidden, w));
          return { lo: acc.lo + r.lo, hi: acc.hi + r.hi };
        },
        biasRange(op.hidden, op.bias[j]),
      ),
    ),
  emit(op, ctx) {
    const n = op.bias.length;
    const statements = [`signal ${ctx.id}[${n}];`];
    const h = op.hidden;
    if (!h) {
      rows(op, (j, terms) => {
        const parts = terms.map(([s, i, w]) => term(w, ctx.inputs[s][i]));
        if (op.bias[j] !== 0n || parts.length === 0) parts.push(String(op.bias[j]));
        statements.push(`${ctx.id}[${j}] <== ${balancedSum(parts)};`);
      });
    } else {
      const terms = op.weight.length;
      const w = (k: number) => `w[${h.offset + k}]`;
      statements.push(`component ${ctx.id}_range[${terms + n}];`, `signal ${ctx.id}_p[${terms}];`);
      for (let k = 0; k < terms + n; k++) {
        const [lo, bits] = k < terms ? [h.weightLo, h.weightBits] : [h.biasLo, h.biasBits];
        statements.push(`${ctx.id}_range[${k}] = InputRange(${lo}, ${bits}); ${ctx.id}_range[${k}].in <== ${w(k)};`);
      }
      rows(op, (j, row) => {
        for (const [s, i, , t] of row) statements.push(`${ctx.id}_p[${t}] <== ${w(t)} * ${ctx.inputs[s][i]};`);
        statements.push(`${ctx.id}[${j}] <== ${balancedSum([...row.map(([, , , t]) => `${ctx.id}_p[${t}]`), w(terms + j)])};`);
      });
    }
    return { declarations: [], statements, outputs: Array.from({ length: n }, (_, j) => `${ctx.id}[${j}]`) };
  },
  synthesize(op, { cs, inputs, signals }) {
    const h = op.hidden;
    if (!h) return rows(op, (j, terms) => cs.sum(terms.map(([s, i, w]) => [inputs[s][i], w] as const), op.bias[j]));
    const terms = op.weight.length;
    const w = (k: number) => signals.w[h.offset + k];
    for (let k = 0; k < terms + op.bias.length; k++) {
      const [lo, bits] = k < terms ? [h.weightLo, h.weightBits] : [h.biasLo, h.biasBits];
      inputRange(cs, w(k), lo, bits);
    }
    return rows(op, (j, row) => {
      const products: (readonly [Lin, bigint])[] = row.map(([s, i, , t]) => [cs.mul(w(t), inputs[s][i], 'hidden weight product'), 1n]);
      return cs.sum([...products, [w(terms + j), 1n]]);
    });
  },
  // Constant weights: one linear constraint per output, which circom --O2 substitutes away.
  // Hidden: one product per term, and a range check (bits + 1 linear) per weight and bias.
  cost: (op) => {
    const h = op.hidden;
    if (!h) return { nonLinear: 0, linear: op.bias.length, floor: 0 };
    const terms = op.weight.length;
    const n = op.bias.length;
    const nonLinear = terms + terms * h.weightBits + n * h.biasBits;
    return { nonLinear, linear: n + terms + n, floor: nonLinear };
  },
};

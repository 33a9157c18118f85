import { InvalidInputError } from '../errors.js';
import { balancedSum } from '../ops/circom_literals.js';

/**
 * Packing small integers into field elements before hashing: k values of b bits each become one
 * element sum (v_i - lo_i) * 2^(offset_i). Hashing ~250/b times fewer elements is what keeps a
 * commitment cheap. The packing is injective, and so binding, only because every value is known
 * to lie in [lo, lo + 2^bits): the caller guarantees that with a range check (inputs, weights) or
 * with the sound bound analysis (outputs), and a chunk never exceeds CHUNK_BITS < log2(p).
 */
export interface PackItem {
  lo: bigint;
  bits: number;
}

/** Bits per field element: 2^253 < p (BN254 scalar field, ~2^253.6), so a chunk never wraps. */
export const CHUNK_BITS = 253;

/** Each chunk lists its items as [item index, bit offset]. */
export type PackPlan = [number, number][][];

/** Greedy, order-preserving: items fill a chunk until the next one would not fit. */
export function planPacking(items: readonly PackItem[]): PackPlan {
  const plan: PackPlan = [];
  let chunk: [number, number][] = [];
  let used = 0;
  items.forEach((item, i) => {
    if (item.bits < 1 || item.bits > CHUNK_BITS) throw new RangeError(`cannot pack a ${item.bits}-bit value`);
    if (used + item.bits > CHUNK_BITS) {
      plan.push(chunk);
      chunk = [];
      used = 0;
    }
    chunk.push([i, used]);
    used += item.bits;
  });
  if (chunk.length) plan.push(chunk);
  return plan;
}

/** The chunks' values: the specification of packExpressions. Rejects a value outside its window. */
export function packValues(items: readonly PackItem[], plan: PackPlan, values: readonly bigint[], what: string): bigint[] {
  if (values.length !== items.length) throw new InvalidInputError(`${what}: expected ${items.length} values to pack, got ${values.length}`);
  return plan.map((chunk) =>
    chunk.reduce((acc, [i, offset]) => {
      const { lo, bits } = items[i];
      const v = values[i] - lo;
      if (v < 0n || v >= 1n << BigInt(bits)) {
        throw new InvalidInputError(`${what}[${i}] = ${values[i]} is outside [${lo}, ${lo + (1n << BigInt(bits)) - 1n}]: it cannot be packed (and the circuit would reject it)`);
      }
      return acc + (v << BigInt(offset));
    }, 0n),
  );
}

/** The same chunks as circom linear expressions over the items' expressions (no constraint). */
export function packExpressions(items: readonly PackItem[], plan: PackPlan, exprs: readonly string[]): string[] {
  return plan.map((chunk) =>
    balancedSum(
      chunk.map(([i, offset]) => {
        const shifted = items[i].lo === 0n ? exprs[i] : `(${exprs[i]} - (${items[i].lo}))`;
        return offset === 0 ? shifted : `${1n << BigInt(offset)}*${shifted}`;
      }),
    ),
  );
}

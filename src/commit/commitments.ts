import { UnsupportedModelError } from '../errors.js';
import { signedBits, unsignedBits } from '../ops/fixed_point.js';
import type { HiddenParams, Interval, LinearOp, QOp } from '../ops/types.js';
import { inputOps, type QProgram } from '../quant/program.js';
import { planPacking, packValues, type PackItem, type PackPlan } from './packing.js';
import { poseidonChain } from './poseidon.js';

/**
 * What each commitment hashes, derived from the program alone so that the circuit generator and
 * the off-circuit hash (circomlibjs) read one definition:
 *  - input:   the quantized input values, each in its range-checked window; init = the salt;
 *  - output:  the output values, each in the window the sound bound analysis gives; init = the salt;
 *  - weights: every linear op's weights, then its biases, in op order; init = 0.
 */
export interface Committed {
  items: PackItem[];
  plan: PackPlan;
}

function committed(items: PackItem[]): Committed {
  return { items, plan: planPacking(items) };
}

export function inputItems(p: QProgram): Committed {
  return committed(inputOps(p).flatMap((op) => op.lo.map((lo, i) => ({ lo, bits: op.bits[i] }))));
}

export function outputItems(bounds: readonly Interval[]): Committed {
  return committed(bounds.map((r) => ({ lo: r.lo, bits: unsignedBits(r.hi - r.lo) })));
}

const hiddenOps = (p: QProgram) => p.ops.filter((o): o is LinearOp & { hidden: HiddenParams } => o.kind === 'linear' && o.hidden !== undefined);

export function weightItems(p: QProgram): Committed {
  return committed(
    hiddenOps(p).flatMap((op) => [
      ...op.weight.map(() => ({ lo: op.hidden.weightLo, bits: op.hidden.weightBits })),
      ...op.bias.map(() => ({ lo: op.hidden.biasLo, bits: op.hidden.biasBits })),
    ]),
  );
}

/** The private weight vector `w` of a hashed-weights circuit, in the order weightItems packs it. */
export function weightValues(p: QProgram): bigint[] {
  return hiddenOps(p).flatMap((op) => [...op.weight, ...op.bias]);
}

/** Two's-complement window [-2^(b-1), 2^(b-1)) holding every value (the format a hidden parameter must have). */
function twosWindow(values: readonly bigint[]): { lo: bigint; bits: number } {
  const r = values.reduce((acc, v) => ({ lo: v < acc.lo ? v : acc.lo, hi: v > acc.hi ? v : acc.hi }), { lo: 0n, hi: 0n });
  const bits = signedBits(r);
  return { lo: -(1n << BigInt(bits - 1)), bits };
}

/**
 * Marks every linear op's weights and biases as private witness values (hashed weights). Each op's
 * window is the two's-complement width of its compiled values: any weights of that format, and
 * only those, satisfy the circuit.
 */
export function hideWeights(p: QProgram): QProgram {
  let offset = 0;
  const ops = p.ops.map((op): QOp => {
    if (op.kind === 'lookup') throw new UnsupportedModelError('Gather', op.source, 'an embedding table cannot be hidden (weights=hashed) yet: it would be a circuit constant, visible in the verifying key');
    if (op.kind !== 'linear') return op;
    const w = twosWindow(op.weight);
    const b = twosWindow(op.bias);
    const hidden: HiddenParams = { offset, weightLo: w.lo, weightBits: w.bits, biasLo: b.lo, biasBits: b.bits };
    offset += op.weight.length + op.bias.length;
    return { ...op, hidden };
  });
  return { ...p, ops };
}

export async function commit(c: Committed, values: readonly bigint[], init: bigint, what: string): Promise<bigint> {
  return poseidonChain(init, packValues(c.items, c.plan, values, what));
}

export async function commitWeights(p: QProgram): Promise<bigint> {
  return commit(weightItems(p), weightValues(p), 0n, 'weight');
}

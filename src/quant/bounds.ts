import { FieldOverflowError } from '../errors.js';
import { defOf, type Cost, type Interval, type QOpKind } from '../ops/index.js';
import { maxAbs, MAX_DECOMPOSITION_BITS } from '../ops/fixed_point.js';
import type { QProgram } from './program.js';

/**
 * Bounds of every tensor element over all inputs the circuit admits, propagated op by op from the
 * range-checked inputs. They size each decomposition and prove that no value wraps the field.
 */
export function analyzeBounds(p: QProgram): Map<string, Interval[]> {
  const bounds = new Map<string, Interval[]>();
  for (const op of p.ops) {
    const y = defOf(op).bounds(op, op.inputs.map((i) => bounds.get(i)!));
    for (const r of y) {
      const bits = maxAbs(r).toString(2).length + 1;
      if (bits > MAX_DECOMPOSITION_BITS) throw new FieldOverflowError(`${op.output} (from ${op.source})`, bits);
    }
    bounds.set(op.output, y);
  }
  return bounds;
}

export interface OpCost extends Cost {
  kind: QOpKind;
  output: string;
  source: string;
}

/** Every op's constraint cost by its own formula (src/ops), from the bound analysis. */
export function programCosts(p: QProgram, bounds = analyzeBounds(p)): OpCost[] {
  return p.ops.map((op) => ({ kind: op.kind, output: op.output, source: op.source, ...defOf(op).cost(op, op.inputs.map((i) => bounds.get(i)!)) }));
}

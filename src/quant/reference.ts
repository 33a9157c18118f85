import { defOf } from '../ops/index.js';
import type { QProgram } from './program.js';

/** The integer reference: runs each op's integer semantics. The circuit must match it bit for bit. */
export function runReference(p: QProgram, input: readonly bigint[]): Map<string, bigint[]> {
  const values = new Map<string, bigint[]>();
  for (const op of p.ops) {
    if (op.kind === 'input') {
      const n = op.shape.reduce((a, b) => a * b, 1);
      values.set(op.output, defOf(op).evaluate(op, [input.slice(op.offset, op.offset + n)]));
      continue;
    }
    values.set(op.output, defOf(op).evaluate(op, op.inputs.map((i) => values.get(i)!)));
  }
  return values;
}

export function referenceOutput(p: QProgram, input: readonly bigint[]): bigint[] {
  return runReference(p, input).get(p.output.name)!;
}


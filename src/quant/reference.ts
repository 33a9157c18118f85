import { defOf } from '../ops/index.js';
import type { QProgram } from './program.js';

/** The integer reference: runs each op's integer semantics. The circuit must match it bit for bit. */
export function runReference(p: QProgram, input: readonly bigint[]): Map<string, bigint[]> {
  const values = new Map<string, bigint[]>();
  for (const op of p.ops) {
    const x = op.kind === 'input' ? input : values.get(op.input)!;
    values.set(op.output, defOf(op).evaluate(op, x));
  }
  return values;
}

export function referenceOutput(p: QProgram, input: readonly bigint[]): bigint[] {
  return runReference(p, input).get(p.output.name)!;
}

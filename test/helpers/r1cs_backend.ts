import type { Visibility } from '../../src/commit/visibility.js';
import type { QProgram } from '../../src/quant/program.js';
import { synthesize, type CircuitSignals } from '../../src/r1cs/synthesize.js';
import type { Terms } from '../../src/r1cs/system.js';
import { R1cs } from './r1cs.js';

/** Constraints with a product of two non-constant sides (the rest are linear: A or B is a constant). */
export function nonLinear(constraints: readonly [Terms, Terms, Terms][]): number {
  const constant = (t: Terms) => [...t.keys()].every((w) => w === 0);
  return constraints.filter(([a, b]) => !constant(a) && !constant(b)).length;
}

/**
 * The r1cs backend against circom on one circuit: the same public signals as circom's witness,
 * exactly circom's non-linear constraints in number, as linear constraints only the binding of
 * each public output wire (which circom --O2 substitutes away; it may also keep a few linear
 * constraints it cannot eliminate), and a witness that satisfies every recorded constraint.
 * Returns what differs.
 */
export function crossCheck(program: QProgram, visibility: Visibility, signals: CircuitSignals, circomNonLinear: number, circomWitness: readonly bigint[]): string | undefined {
  const s = synthesize(program, visibility, signals, true);
  const circom = circomNonLinear;
  const ours = nonLinear(s.cs.constraints);
  if (ours !== circom || s.cs.count - ours !== s.publicOutputs) return `r1cs backend: ${ours} non-linear constraints (circom: ${circom}) and ${s.cs.count - ours} linear (expected ${s.publicOutputs} output bindings)`;
  const n = s.publicOutputs + s.publicInputs;
  for (let i = 1; i <= n; i++) if (s.cs.values[i] !== circomWitness[i]) return `r1cs backend: public signal ${i - 1} is ${s.cs.values[i]}, circom's ${circomWitness[i]}`;
  const bad = R1cs.of(s.cs.constraints).violations(s.cs.values);
  if (bad.length) return `r1cs backend: the witness violates ${bad.length} constraint(s), first #${bad[0]}`;
  const proving = synthesize(program, visibility, signals, false);
  if (proving.cs.values.length !== s.cs.values.length || proving.cs.values.some((v, i) => v !== s.cs.values[i])) return 'r1cs backend: the proving-time witness differs from the compile-time one';
  return undefined;
}

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WitnessCalculatorBuilder, type WitnessCalculator } from 'circom_runtime';
import { runCircom, type CircomStats } from '../../src/compile/circom.js';
import { FIELD_MODULUS } from '../../src/prove/field.js';
import { R1cs, readSymbols } from './r1cs.js';
import { scratchDir } from './fixtures.js';

export interface TestCircuit {
  stats: CircomStats;
  witness: WitnessCalculator;
  r1cs: R1cs;
  symbols: Map<string, number>;
}

/** Compiles a circom source (which may include the templates in circuits/) in a scratch folder. */
export async function compileSource(name: string, source: string): Promise<TestCircuit> {
  const dir = scratchDir(name);
  writeFileSync(join(dir, 'model.circom'), source);
  const stats = await runCircom(dir, 'model.circom');
  return loadCircuit(dir, stats);
}

export async function loadCircuit(dir: string, stats?: CircomStats): Promise<TestCircuit> {
  return {
    stats: stats ?? ({} as CircomStats),
    witness: await WitnessCalculatorBuilder(readFileSync(join(dir, 'model_js', 'model.wasm'))),
    r1cs: await R1cs.load(join(dir, 'model.r1cs')),
    symbols: readSymbols(join(dir, 'model.sym')),
  };
}

/** Index of a signal in the witness; fails the test if circom removed it. */
export function wire(c: TestCircuit, name: string): number {
  const w = c.symbols.get(name);
  if (w === undefined) throw new Error(`signal ${name} is not in the witness`);
  return w;
}

/** Fails the test unless changing each named signal alone (by one) breaks a constraint of the circuit. */
export function assertEachChangeBreaks(c: TestCircuit, witness: readonly bigint[], names: readonly string[]): void {
  for (const name of names) {
    const bad = [...witness];
    const i = wire(c, name);
    bad[i] = (bad[i] + 1n) % FIELD_MODULUS;
    assert.ok(c.r1cs.violations(bad).length > 0, `changing ${name} alone must break a constraint`);
  }
}

/** circom --O2 substitutes a signal fixed by a linear constraint (a bit, by the output): set the others. */
export function setIfPresent(c: TestCircuit, w: bigint[], name: string, v: bigint): void {
  const i = c.symbols.get(name);
  if (i !== undefined && i >= 0) w[i] = v;
}

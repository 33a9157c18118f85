import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WitnessCalculatorBuilder, type WitnessCalculator } from 'circom_runtime';
import { runCircom, type CircomStats } from '../../src/compile/circom.js';
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

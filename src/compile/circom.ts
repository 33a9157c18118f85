import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CircomError } from '../errors.js';
import { circuitsDir } from '../paths.js';

const require = createRequire(import.meta.url);
const circomCli = require.resolve('circom2/cli.js');
const circomlibCircuits = join(dirname(require.resolve('circomlib/package.json')), 'circuits');

export interface CircomStats {
  nonLinear: number;
  linear: number;
  wires: number;
  publicInputs: number;
  privateInputs: number;
  publicOutputs: number;
}

/**
 * Runs the circom compiler (circom2: circom 2.2.x as WASM) in a child process: its WASI sandbox
 * exits the process when done, and resolves paths relative to the working directory.
 * Returns the compiler's own counts (after --O2 simplification).
 */
export async function runCircom(dir: string, file: string, outputs = ['--r1cs', '--wasm', '--sym']): Promise<CircomStats> {
  // The templates are copied next to the generated circuit: the build folder then records exactly
  // what was compiled, and the sandbox needs no path outside it.
  cpSync(circuitsDir, join(dir, 'circuits'), { recursive: true });
  // circomlib's Poseidon, for commitments (src/commit/poseidon.ts).
  for (const f of ['poseidon.circom', 'poseidon_constants.circom']) cpSync(join(circomlibCircuits, f), join(dir, 'circuits', f));
  const args = [circomCli, file, ...outputs, '--O2', '-l', 'circuits', '-o', '.'];
  const output = await new Promise<string>((resolveRun, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && !/error\[/i.test(text) ? resolveRun(text) : reject(new CircomError(strip(text)))));
  });
  const plain = strip(output);
  const num = (label: string) => Number(new RegExp(`${label}:\\s*(\\d+)`).exec(plain)?.[1] ?? NaN);
  return {
    nonLinear: num('non-linear constraints'),
    linear: num('linear constraints'),
    wires: num('wires'),
    publicInputs: num('public inputs'),
    privateInputs: num('private inputs'),
    publicOutputs: num('public outputs'),
  };
}

function strip(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

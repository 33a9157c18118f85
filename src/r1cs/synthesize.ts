import { inputItems, outputItems, weightItems, type Committed } from '../commit/commitments.js';
import { saltsOf, type Visibility } from '../commit/visibility.js';
import { InvalidInputError } from '../errors.js';
import { size } from '../ir/graph.js';
import { defOf } from '../ops/index.js';
import { analyzeBounds } from '../quant/bounds.js';
import { inputSize } from '../quant/io.js';
import type { QProgram } from '../quant/program.js';
import { poseidonChainLin } from './poseidon.js';
import { ConstraintSystem, type Lin } from './system.js';

/** The circuit's input signals by name, as circom's witness calculators take them (decimal strings). */
export type CircuitSignals = Record<string, string | string[]>;

/** A synthesized circuit: its constraints (when recorded), its witness, and the circom-style wire layout. */
export interface Synthesis {
  cs: ConstraintSystem;
  publicOutputs: number;
  publicInputs: number;
  privateInputs: number;
}

function packLins(cs: ConstraintSystem, c: Committed, xs: readonly Lin[]): Lin[] {
  return c.plan.map((chunk) => cs.sum(chunk.map(([i, offset]) => [xs[i], 1n << BigInt(offset)] as const), -chunk.reduce((a, [i, offset]) => a + (c.items[i].lo << BigInt(offset)), 0n)));
}

function values(signals: CircuitSignals, name: string, n: number): bigint[] {
  const v = signals[name];
  if (v === undefined) throw new InvalidInputError(`circuit signal ${name} is missing`);
  const list = n === 1 && !Array.isArray(v) ? [v] : v;
  if (!Array.isArray(list) || list.length !== n) throw new InvalidInputError(`circuit signal ${name}: expected ${n} value(s)`);
  return list.map((x, i) => {
    if (typeof x !== 'string' || !/^-?\d+$/.test(x)) throw new InvalidInputError(`circuit signal ${name}[${i}] = ${JSON.stringify(x)} is not an integer in decimal`);
    return BigInt(x);
  });
}

/**
 * Builds the circuit of generateCircuit (src/circuit/codegen.ts) as R1CS, op by op from the same
 * definitions, with the same public interface and wire order as circom gives it: the constant 1,
 * public outputs, public inputs (recipient, then `in` when public), private inputs (`in`, saltIn,
 * saltOut, w, as declared), then internal wires. Each public output costs one linear constraint
 * tying its wire to its value (circom --O2 substitutes it into the constraint that computes it).
 */
export function synthesize(p: QProgram, visibility: Visibility, signals: CircuitSignals, recording: boolean): Synthesis {
  const salts = saltsOf(visibility);
  const expected = new Set(['recipient', 'in', ...(salts.input ? ['saltIn'] : []), ...(salts.output ? ['saltOut'] : []), ...(visibility.weights === 'hashed' ? ['w'] : [])]);
  const unknown = Object.keys(signals).filter((k) => !expected.has(k));
  if (unknown.length) throw new InvalidInputError(`unknown circuit signal(s) ${unknown.join(', ')}; this circuit takes ${[...expected].join(', ')}`);
  const cs = new ConstraintSystem(recording);
  const nIn = inputSize(p);
  const nOut = size(p.output.shape);
  const weights = weightItems(p);
  const out = (n: number) => Array.from({ length: n }, () => cs.reserve());
  const outs = out(visibility.output === 'public' ? nOut : 1);
  const inHash = visibility.input === 'hashed' ? out(1)[0] : undefined;
  const nullifier = visibility.input === 'private' ? out(1)[0] : undefined;
  const wHash = visibility.weights === 'hashed' ? out(1)[0] : undefined;
  const publicOutputs = cs.wires - 1;

  const recipient = cs.alloc(values(signals, 'recipient', 1)[0]);
  const inputs = () => values(signals, 'in', nIn).map((v) => cs.alloc(v));
  const inPublic = visibility.input === 'public' ? inputs() : [];
  const publicInputs = cs.wires - 1 - publicOutputs;
  const input = visibility.input === 'public' ? inPublic : inputs();
  const saltIn = salts.input ? cs.alloc(values(signals, 'saltIn', 1)[0]) : undefined;
  const saltOut = salts.output ? cs.alloc(values(signals, 'saltOut', 1)[0]) : undefined;
  const w = visibility.weights === 'hashed' ? values(signals, 'w', weights.items.length).map((v) => cs.alloc(v)) : [];
  const privateInputs = cs.wires - 1 - publicOutputs - publicInputs;
  cs.mul(recipient, recipient, 'recipient binding');

  const bounds = analyzeBounds(p);
  const tensors = new Map<string, Lin[]>();
  for (const op of p.ops) {
    const result = defOf(op).synthesize(op, { cs, inputs: op.inputs.map((i) => tensors.get(i)!), bounds: op.inputs.map((i) => bounds.get(i)!), signals: { in: input, w } });
    tensors.set(op.output, result);
  }
  const result = tensors.get(p.output.name)!;
  if (result.length !== nOut) throw new RangeError(`the program's output has ${result.length} elements, its shape ${nOut}`);

  if (visibility.output === 'public') result.forEach((v, i) => cs.bind(outs[i], v, 'output'));
  else cs.bind(outs[0], poseidonChainLin(cs, saltOut!, packLins(cs, outputItems(bounds.get(p.output.name)!), result)), 'output commitment');
  if (inHash !== undefined) cs.bind(inHash, poseidonChainLin(cs, saltIn!, packLins(cs, inputItems(p), input)), 'input commitment');
  if (nullifier !== undefined) cs.bind(nullifier, poseidonChainLin(cs, saltIn!, []), 'input nullifier');
  if (wHash !== undefined) cs.bind(wHash, poseidonChainLin(cs, cs.constant(0n), packLins(cs, weights, w)), 'weights commitment');
  return { cs, publicOutputs, publicInputs, privateInputs };
}

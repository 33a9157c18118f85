import { inputItems, outputItems, weightItems, type Committed } from '../commit/commitments.js';
import { saltsOf, type Visibility } from '../commit/visibility.js';
import { InvalidInputError } from '../errors.js';
import { size } from '../ir/graph.js';
import { defOf } from '../ops/index.js';
import { analyzeBounds } from '../quant/bounds.js';
import { inputSize } from '../quant/io.js';
import type { QProgram } from '../quant/program.js';
import { poseidon, poseidonChainLin } from './poseidon.js';
import { batchDepth, TREE_ARITY } from '../commit/batch.js';
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

/** The commitment of src/commit/commitments.ts: the Poseidon chain from `init` over `xs` packed as `c` says. */
function commitLin(cs: ConstraintSystem, init: Lin, c: Committed, xs: readonly Lin[]): Lin {
  return poseidonChainLin(cs, init, packLins(cs, c, xs));
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

/** The circuit's input signals are `in`, `recipient` (and `count`, batched), the salts and `w` its visibility needs: nothing else. */
function checkSignalNames(signals: CircuitSignals, visibility: Visibility, batched: boolean): void {
  const salts = saltsOf(visibility);
  const names = ['recipient', ...(batched ? ['count'] : []), 'in', ...(salts.input ? ['saltIn'] : []), ...(salts.output ? ['saltOut'] : []), ...(visibility.weights === 'hashed' ? ['w'] : [])];
  const unknown = Object.keys(signals).filter((k) => !names.includes(k));
  if (unknown.length) throw new InvalidInputError(`unknown circuit signal(s) ${unknown.join(', ')}; this circuit takes ${names.join(', ')}`);
}

/** The model's ops on one input, each from its definition (src/ops); the output's elements. */
function modelBody(cs: ConstraintSystem, p: QProgram, bounds: ReturnType<typeof analyzeBounds>, input: readonly Lin[], w: readonly Lin[]): Lin[] {
  const tensors = new Map<string, Lin[]>();
  for (const op of p.ops) {
    const result = defOf(op).synthesize(op, { cs, inputs: op.inputs.map((i) => tensors.get(i)!), bounds: op.inputs.map((i) => bounds.get(i)!), signals: { in: input as Lin[], w: w as Lin[] } });
    tensors.set(op.output, result);
  }
  const result = tensors.get(p.output.name)!;
  const nOut = size(p.output.shape);
  if (result.length !== nOut) throw new RangeError(`the program's output has ${result.length} elements, its shape ${nOut}`);
  return result;
}

/**
 * Builds the circuit of generateCircuit (src/circuit/codegen.ts) as R1CS, op by op from the same
 * definitions, with the same public interface and wire order as circom gives it: the constant 1,
 * public outputs, public inputs (recipient, then `in` when public), private inputs (`in`, saltIn,
 * saltOut, w, as declared), then internal wires. Each public output costs one linear constraint
 * tying its wire to its value (circom --O2 substitutes it into the constraint that computes it).
 */
export function synthesize(p: QProgram, visibility: Visibility, signals: CircuitSignals, recording: boolean, batchSize = 1): Synthesis {
  if (batchSize > 1) return synthesizeBatch(p, visibility, batchSize, signals, recording);
  const salts = saltsOf(visibility);
  checkSignalNames(signals, visibility, false);
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
  const result = modelBody(cs, p, bounds, input, w);

  if (visibility.output === 'public') result.forEach((v, i) => cs.bind(outs[i], v, 'output'));
  else cs.bind(outs[0], commitLin(cs, saltOut!, outputItems(bounds.get(p.output.name)!), result), 'output commitment');
  if (inHash !== undefined) cs.bind(inHash, commitLin(cs, saltIn!, inputItems(p), input), 'input commitment');
  if (nullifier !== undefined) cs.bind(nullifier, poseidonChainLin(cs, saltIn!, []), 'input nullifier');
  if (wHash !== undefined) cs.bind(wHash, commitLin(cs, cs.constant(0n), weights, w), 'weights commitment');
  return { cs, publicOutputs, publicInputs, privateInputs };
}

/**
 * A batched build's circuit (src/commit/batch.ts gives the statement): the model on `size` inputs
 * with one set of weights. Wire order, as for one input: the constant 1; public outputs (every
 * item's output, public mode; else the root of the item tree), then the weights commitment;
 * public inputs recipient, count, then every item's input (public mode); private inputs `in`
 * (committed modes), saltIn[size], saltOut[size], w; then internal wires.
 *
 * Cost beside `size` copies of the model and of its commitments: the count, as flags real_j that
 * are a prefix of ones (real_0 = 1, each boolean, real_j <= real_(j-1)) summing to count, 2 size - 2
 * constraints; in committed modes real_j times each of the item's two keys (2), and the tree's
 * Poseidon(4) nodes, 300 constraints each: ceil(size/2) at level 0, a quarter as many at each
 * level above (about 200 per item in all; nodes over padding constants cost less).
 */
function synthesizeBatch(p: QProgram, visibility: Visibility, n: number, signals: CircuitSignals, recording: boolean): Synthesis {
  const salts = saltsOf(visibility);
  checkSignalNames(signals, visibility, true);
  const committed = visibility.output === 'hashed';
  const cs = new ConstraintSystem(recording);
  const nIn = inputSize(p);
  const nOut = size(p.output.shape);
  const weights = weightItems(p);
  const reserve = (k: number) => Array.from({ length: k }, () => cs.reserve());
  const outs = reserve(committed ? 1 : n * nOut);
  const wHash = visibility.weights === 'hashed' ? reserve(1)[0] : undefined;
  const publicOutputs = cs.wires - 1;

  const recipient = cs.alloc(values(signals, 'recipient', 1)[0]);
  const countValue = values(signals, 'count', 1)[0];
  if (countValue < 1n || countValue > BigInt(n)) throw new InvalidInputError(`count = ${countValue}: a batch of this build holds 1 to ${n} items`);
  const count = cs.alloc(countValue);
  const inValues = values(signals, 'in', n * nIn);
  const inPublic = visibility.input === 'public' ? inValues.map((v) => cs.alloc(v)) : [];
  const publicInputs = cs.wires - 1 - publicOutputs;
  const allIn = visibility.input === 'public' ? inPublic : inValues.map((v) => cs.alloc(v));
  const saltIn = salts.input ? values(signals, 'saltIn', n).map((v) => cs.alloc(v)) : [];
  const saltOut = salts.output ? values(signals, 'saltOut', n).map((v) => cs.alloc(v)) : [];
  const w = visibility.weights === 'hashed' ? values(signals, 'w', weights.items.length).map((v) => cs.alloc(v)) : [];
  const privateInputs = cs.wires - 1 - publicOutputs - publicInputs;
  cs.mul(recipient, recipient, 'recipient binding');

  // real_j = (j < count): a prefix of ones, starting with real_0 = 1, whose length is count.
  const real: Lin[] = [cs.constant(1n)];
  for (let j = 1; j < n; j++) {
    const r = cs.alloc(BigInt(j) < countValue ? 1n : 0n);
    cs.enforce(r, r.addConst(-1n), cs.constant(0n), 'batch item flag is boolean');
    if (j > 1) cs.enforce(r, cs.constant(1n).sub(real[j - 1]), cs.constant(0n), 'batch items are a prefix');
    real.push(r);
  }
  cs.enforce(cs.sum(real.map((r) => [r, 1n] as const)), cs.constant(1n), count, 'count is the number of items');

  const bounds = analyzeBounds(p);
  const outItems = outputItems(bounds.get(p.output.name)!);
  const inItems = inputItems(p);
  const leaves: Lin[] = [];
  for (let j = 0; j < n; j++) {
    const input = allIn.slice(j * nIn, (j + 1) * nIn);
    const result = modelBody(cs, p, bounds, input, w);
    if (!committed) {
      result.forEach((v, i) => cs.bind(outs[j * nOut + i], v, 'output'));
      continue;
    }
    const outCommit = commitLin(cs, saltOut[j], outItems, result);
    const inKey = visibility.input === 'hashed' ? commitLin(cs, saltIn[j], inItems, input) : poseidonChainLin(cs, saltIn[j], []);
    leaves.push(cs.mul(real[j], inKey, 'padding keys are 0'), cs.mul(real[j], outCommit, 'padding keys are 0'));
  }
  if (committed) {
    let level = [...leaves, ...Array.from({ length: TREE_ARITY ** batchDepth(n) - leaves.length }, () => cs.constant(0n))];
    while (level.length > 1) level = Array.from({ length: level.length / TREE_ARITY }, (_, i) => poseidon(cs, level.slice(TREE_ARITY * i, TREE_ARITY * (i + 1))));
    cs.bind(outs[0], level[0], 'batch root');
  }
  if (wHash !== undefined) cs.bind(wHash, commitLin(cs, cs.constant(0n), weights, w), 'weights commitment');
  return { cs, publicOutputs, publicInputs, privateInputs };
}

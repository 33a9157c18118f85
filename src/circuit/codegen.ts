import { inputItems, outputItems, weightItems, type Committed } from '../commit/commitments.js';
import { packExpressions } from '../commit/packing.js';
import { emitPoseidonChain } from '../commit/poseidon.js';
import { defaultVisibility, saltsOf, usesSalt, type Visibility } from '../commit/visibility.js';
import { size } from '../ir/graph.js';
import { defOf, type Interval } from '../ops/index.js';
import { analyzeBounds, programCosts, type OpCost } from '../quant/bounds.js';
import { inputSize } from '../quant/io.js';
import type { QProgram } from '../quant/program.js';

export type { OpCost };

export interface GeneratedCircuit {
  source: string;
  /** Constraint cost of each op by its own formula, before circom's simplification. */
  costs: OpCost[];
  bounds: Map<string, Interval[]>;
  /** circom expression of every element of every tensor (tests look intermediate values up by it). */
  expressions: Map<string, string[]>;
}

/** Templates in circuits/ that generated code may instantiate; poseidon.circom is circomlib's. */
const includes = ['input_range.circom', 'rescale_relu.circom', 'round_shift.circom', 'round_div.circom', 'rescale_leaky.circom', 'max2.circom', 'piecewise_linear.circom', 'argmax.circom', 'div_round.circom', 'isqrt.circom', 'one_hot.circom'];

/**
 * Emits the circom main component for a quantized program. Every op contributes its own text
 * (src/ops); this function only wires op outputs to op inputs and declares the public interface
 * the visibility asks for (src/commit/visibility.ts gives its order):
 *   recipient  public; the address the proof is bound to. It is in the verification equation
 *              through its verifying-key point, which snarkjs' setup makes nonzero for every
 *              public input (zkey_new adds a row per public signal); the one constraint
 *              recipient * recipient keeps that true under a setup that does not (Tornado Cash's
 *              precaution, for one constraint).
 *   in[n]      the quantized input; public only when input visibility is public
 *   saltIn     private; first element of the input commitment (hashed) or the nullifier (private)
 *   saltOut    private; first element of the output commitment
 *   w[m]       private weights (hashed weights; see hideWeights)
 *   out[k] | outHash, then inHash | inNullifier, then wHash: outputs, public
 * Each commitment is a Poseidon chain over packed chunks (src/commit/poseidon.ts gives its cost:
 * 243 constraints for up to 253 packed bits, 612 per block of 15 chunks); the nullifier is
 * Poseidon(saltIn), 213 constraints (216 S-box constraints less the first S-box of the constant
 * initial state, which circom folds).
 */
export function generateCircuit(p: QProgram, visibility: Visibility = defaultVisibility): GeneratedCircuit {
  const bounds = analyzeBounds(p);
  const expressions = new Map<string, string[]>();
  const declarations: string[] = [];
  const statements: string[] = [];
  p.ops.forEach((op, k) => {
    const id = `op${k}`;
    const def = defOf(op);
    const inputBounds = op.inputs.map((i) => bounds.get(i)!);
    const e = def.emit(op, { id, inputs: op.inputs.map((i) => expressions.get(i)!), bounds: inputBounds });
    for (const d of e.declarations) declarations.push(d);
    if (e.statements.length) {
      statements.push(`// ${op.kind} from ${op.source}`);
      for (const st of e.statements) statements.push(st);
      statements.push('');
    }
    expressions.set(op.output, e.outputs);
  });
  const nIn = inputSize(p);
  const nOut = size(p.output.shape);
  const out = expressions.get(p.output.name)!;
  const weights = weightItems(p);
  const salts = saltsOf(visibility);
  // Public inputs in the layout's order (circom orders them by declaration): recipient, then in.
  const header = ['signal input recipient;', `signal input in[${nIn}];`];
  if (salts.input) header.push('signal input saltIn;');
  if (salts.output) header.push('signal input saltOut;');
  if (visibility.weights === 'hashed') header.push(`signal input w[${weights.items.length}];`);
  header.push(visibility.output === 'public' ? `signal output out[${nOut}];` : 'signal output outHash;');
  if (visibility.input === 'hashed') header.push('signal output inHash;');
  if (visibility.input === 'private') header.push('signal output inNullifier;');
  if (visibility.weights === 'hashed') header.push('signal output wHash;');
  header.push('signal recipientSquare;', 'recipientSquare <== recipient * recipient;');

  const tail: string[] = [];
  const commitment = (name: string, c: Committed, exprs: string[], init: string) => {
    const chain = emitPoseidonChain(name, init, packExpressions(c.items, c.plan, exprs));
    tail.push(`// ${name}: Poseidon chain over ${c.items.length} values packed into ${c.plan.length} field elements`, ...chain.statements, `${name} <== ${chain.output};`, '');
  };
  if (visibility.output === 'public') out.forEach((e, i) => tail.push(`out[${i}] <== ${e};`));
  else commitment('outHash', outputItems(bounds.get(p.output.name)!), out, 'saltOut');
  if (visibility.input === 'hashed') commitment('inHash', inputItems(p), Array.from({ length: nIn }, (_, i) => `in[${i}]`), 'saltIn');
  if (visibility.input === 'private') {
    const chain = emitPoseidonChain('inNullifier', 'saltIn', []);
    tail.push('// inNullifier: Poseidon(saltIn), the key of a private input\'s result', ...chain.statements, `inNullifier <== ${chain.output};`, '');
  }
  if (visibility.weights === 'hashed') commitment('wHash', weights, weights.items.map((_, i) => `w[${i}]`), '0');

  const hashed = usesSalt(visibility) || visibility.weights === 'hashed';
  const source = [
    '// Generated by zkml from a quantized model. Do not edit: recompile the model instead.',
    `// Visibility: input ${visibility.input}, output ${visibility.output}, weights ${visibility.weights}.`,
    'pragma circom 2.1.0;',
    '',
    ...[...includes, ...(hashed ? ['poseidon.circom'] : [])].map((f) => `include "${f}";`),
    '',
    ...declarations,
    '',
    'template Model() {',
    ...[...header, '', ...statements, ...tail].map((l) => (l ? `    ${l}` : l)),
    '}',
    '',
    `component main {public [${visibility.input === 'public' ? 'recipient, in' : 'recipient'}]} = Model();`,
    '',
  ].join('\n');
  return { source, costs: programCosts(p, bounds), bounds, expressions };
}

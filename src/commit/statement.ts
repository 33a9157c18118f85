import { InvalidInputError } from '../errors.js';
import { FIELD_MODULUS, toField } from '../prove/field.js';
import { analyzeBounds } from '../quant/bounds.js';
import type { QProgram } from '../quant/program.js';
import { hasher, poseidonChain } from './poseidon.js';
import { commit, commitWeights, inputItems, outputItems, weightValues, type Committed } from './commitments.js';
import { saltsOf, usesSalt, type LayoutEntry, type Visibility } from './visibility.js';

/** A fresh salt: 31 random bytes, below the field modulus (Web Crypto: Node and browsers alike). */
export function randomSalt(): bigint {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(31));
  return BigInt(`0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`);
}

/** A salt from the command line or a request: decimal or 0x-hex, a canonical field element. */
export function parseSalt(text: string): bigint {
  let v: bigint;
  try {
    if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text.trim())) throw new Error();
    v = BigInt(text.trim());
  } catch {
    throw new InvalidInputError(`salt "${text}" is not a decimal or 0x-hex integer`);
  }
  if (v >= FIELD_MODULUS) throw new InvalidInputError('the salt must be below the BN254 scalar field modulus');
  return v;
}

/** The unbound recipient: a proof that credits no one. */
export const NO_RECIPIENT = 0n;

/** A recipient from the command line or a request: a 20-byte 0x address (or 0 for none). */
export function parseRecipient(text: string): bigint {
  const t = text.trim();
  if (t === '0') return NO_RECIPIENT;
  if (!/^0x[0-9a-fA-F]{40}$/.test(t)) throw new InvalidInputError(`recipient "${text}" is not an address (0x and 40 hex digits), or 0 for none`);
  return BigInt(t);
}

/** A recipient as the public signals hold it, written as a lowercase 0x address. */
export function recipientAddress(v: bigint): string {
  return `0x${v.toString(16).padStart(40, '0')}`;
}

/**
 * The salts of one proof. Both come from one master salt (Poseidon(master, 1) for the input,
 * Poseidon(master, 2) for the output), so a prover keeps one secret, yet opening the output
 * commitment (which needs its salt) reveals nothing about the input's.
 */
export interface Salts {
  input?: bigint;
  output?: bigint;
}

export async function deriveSalts(v: Visibility, master: bigint): Promise<Salts> {
  const need = saltsOf(v);
  const h = await hasher();
  const derive = (k: bigint) => h.F.toObject(h([master, k]));
  return { ...(need.input ? { input: derive(1n) } : {}), ...(need.output ? { output: derive(2n) } : {}) };
}

/**
 * The master salt of item `index` of a batch proved under one given salt: Poseidon(salt, 3, index).
 * Each proof of a batch then has its own salts and nullifier; one salt for every item would repeat
 * a private input's nullifier (one result for the whole batch) and let the opening of one item's
 * commitment brute-force the others'.
 */
export async function batchSalt(master: bigint, index: number): Promise<bigint> {
  const h = await hasher();
  return h.F.toObject(h([master, 3n, BigInt(index)]));
}

/** The master salt of each of `count` inputs proved under one given salt: the salt itself for one input, else batchSalt(salt, i). */
export async function itemMasterSalts(master: bigint, count: number): Promise<bigint[]> {
  if (count === 1) return [master];
  return Promise.all(Array.from({ length: count }, (_, i) => batchSalt(master, i)));
}

/** What a proof binds beside the input and output: its salts and its recipient. */
export interface StatementParams {
  salts: Salts;
  recipient: bigint;
}

/**
 * For one build: the circuit's inputs for a quantized input and salt, and the public signals the
 * proof must carry, computed outside the circuit (circomlibjs for commitments). The prover checks
 * the circuit's public signals against these on every proof.
 */
export class PublicStatement {
  private constructor(
    readonly visibility: Visibility,
    private readonly layout: readonly LayoutEntry[],
    private readonly inputs: Committed,
    private readonly outputs: Committed,
    /** Commitment to the build's current weights (hashed-weights builds). */
    readonly weightsCommitment: bigint | undefined,
    /** The private weight vector `w` as the witness calculator takes it, made once per build. */
    private readonly weights: string[] | undefined,
  ) {}

  static async for(program: QProgram, visibility: Visibility, layout: readonly LayoutEntry[]): Promise<PublicStatement> {
    const outputs = outputItems(analyzeBounds(program).get(program.output.name)!);
    const weights = visibility.weights === 'hashed' ? await commitWeights(program) : undefined;
    // Build the hasher now, with the rest of the prover, rather than inside the first proof.
    if (usesSalt(visibility)) await hasher();
    const w = visibility.weights === 'hashed' ? weightValues(program).map(String) : undefined;
    return new PublicStatement(visibility, layout, inputItems(program), outputs, weights, w);
  }

  /** The witness calculator's input: `in`, `recipient`, and the salts and `w` where the circuit has them. */
  circuitInputs(q: readonly bigint[], p: StatementParams): Record<string, string | string[]> {
    const signals: Record<string, string | string[]> = { in: q.map(String), recipient: String(p.recipient) };
    const need = saltsOf(this.visibility);
    if (need.input) signals.saltIn = String(required(p.salts.input, 'input'));
    if (need.output) signals.saltOut = String(required(p.salts.output, 'output'));
    if (this.weights) signals.w = this.weights;
    return signals;
  }

  async inputCommitment(q: readonly bigint[], saltIn: bigint): Promise<bigint> {
    return commit(this.inputs, q, saltIn, 'input');
  }

  /** A private input's nullifier: Poseidon(input salt), a fresh key for each proof that reveals nothing. */
  async inputNullifier(saltIn: bigint): Promise<bigint> {
    return poseidonChain(saltIn, []);
  }

  /** What keys a committed input's results: its commitment (hashed input) or its nullifier (private input). */
  async inputKey(q: readonly bigint[], salts: Salts): Promise<bigint> {
    const saltIn = required(salts.input, 'input');
    if (this.visibility.input === 'hashed') return this.inputCommitment(q, saltIn);
    if (this.visibility.input === 'private') return this.inputNullifier(saltIn);
    throw new InvalidInputError('a public input has no commitment: its key is its values');
  }

  async outputCommitment(out: readonly bigint[], saltOut: bigint): Promise<bigint> {
    return commit(this.outputs, out, saltOut, 'output');
  }

  /** The public signals, in layout order, as decimal field elements. */
  async publicSignals(q: readonly bigint[], out: readonly bigint[], p: StatementParams): Promise<string[]> {
    const values: bigint[] = [];
    for (const e of this.layout) {
      if (e.group === 'output') values.push(...out);
      else if (e.group === 'input') values.push(...q);
      else if (e.group === 'recipient') values.push(p.recipient);
      else if (e.group === 'outputCommitment') values.push(await this.outputCommitment(out, required(p.salts.output, 'output')));
      else if (e.group === 'inputCommitment') values.push(await this.inputCommitment(q, required(p.salts.input, 'input')));
      else if (e.group === 'inputNullifier') values.push(await this.inputNullifier(required(p.salts.input, 'input')));
      else values.push(this.weightsCommitment!);
    }
    return values.map((v) => toField(v).toString());
  }
}

/** A salt the build needs, or an error naming which. */
export function required(salt: bigint | undefined, which: string): bigint {
  if (salt === undefined) throw new InvalidInputError(`this build needs an ${which} salt`);
  return salt;
}

/** Reads a salt recorded in a proof file, if any. */
export function saltOf(v: unknown): bigint | undefined {
  return typeof v === 'string' && /^\d+$/.test(v) && BigInt(v) < FIELD_MODULUS ? BigInt(v) : undefined;
}

import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { FIELD_MODULUS, toField } from '../prove/field.js';
import { analyzeBounds } from '../quant/bounds.js';
import type { QProgram } from '../quant/program.js';
import { hasher } from './poseidon.js';
import { commit, commitWeights, inputItems, outputItems, weightValues, type Committed } from './commitments.js';
import { usesSalt, type LayoutEntry, type Visibility } from './visibility.js';

/** A fresh salt: 31 random bytes, below the field modulus. */
export function randomSalt(): bigint {
  return BigInt(`0x${randomBytes(31).toString('hex')}`);
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

  /** The witness calculator's input: `in`, and `salt` and `w` where the circuit has them. */
  circuitInputs(q: readonly bigint[], salt: bigint): Record<string, string | string[]> {
    const signals: Record<string, string | string[]> = { in: q.map(String) };
    if (usesSalt(this.visibility)) signals.salt = String(salt);
    if (this.weights) signals.w = this.weights;
    return signals;
  }

  async inputCommitment(q: readonly bigint[], salt: bigint): Promise<bigint> {
    return commit(this.inputs, q, salt, 'input');
  }

  async outputCommitment(out: readonly bigint[], salt: bigint): Promise<bigint> {
    return commit(this.outputs, out, salt, 'output');
  }

  /** The public signals, in layout order, as decimal field elements. */
  async publicSignals(q: readonly bigint[], out: readonly bigint[], salt: bigint): Promise<string[]> {
    const values: bigint[] = [];
    for (const e of this.layout) {
      if (e.group === 'output') values.push(...out);
      else if (e.group === 'input') values.push(...q);
      else if (e.group === 'outputCommitment') values.push(await this.outputCommitment(out, salt));
      else if (e.group === 'inputCommitment') values.push(await this.inputCommitment(q, salt));
      else values.push(this.weightsCommitment!);
    }
    return values.map((v) => toField(v).toString());
  }
}

/** Reads a salt recorded in a proof file, if any. */
export function saltOf(v: unknown): bigint | undefined {
  return typeof v === 'string' && /^\d+$/.test(v) && BigInt(v) < FIELD_MODULUS ? BigInt(v) : undefined;
}

import { InvalidInputError } from '../errors.js';

/**
 * What a proof reveals, chosen per build:
 *  - input   public: the input values are public signals; private: nothing about the input is
 *            public (a nullifier made from a random salt keys its results); hashed: a salted
 *            Poseidon commitment to the input is public.
 *  - output  public: the output values are public signals; hashed: a salted commitment is.
 *  - weights fixed: weights are constants in the circuit, so the verifying key identifies the
 *            model; hashed: weights are private witness values, range-checked, and their Poseidon
 *            commitment is public, so one circuit serves any weights of the architecture and the
 *            commitment pins which ones were used.
 */
export interface Visibility {
  input: 'public' | 'private' | 'hashed';
  output: 'public' | 'hashed';
  weights: 'fixed' | 'hashed';
}

export const defaultVisibility: Visibility = { input: 'public', output: 'public', weights: 'fixed' };

const choices = { input: ['public', 'private', 'hashed'], output: ['public', 'hashed'], weights: ['fixed', 'hashed'] } as const;

/** Fills in defaults and rejects unknown values, naming the setting and its choices. */
export function parseVisibility(v: Partial<Record<keyof Visibility, string>> = {}): Visibility {
  const out = { ...defaultVisibility };
  for (const key of Object.keys(choices) as (keyof Visibility)[]) {
    const value = v[key];
    if (value === undefined) continue;
    if (!(choices[key] as readonly string[]).includes(value)) throw new InvalidInputError(`${key} visibility must be one of ${choices[key].join(', ')}; got "${value}"`);
    (out as Record<string, string>)[key] = value;
  }
  return out;
}

/**
 * Which secret salts a build's circuit takes: one for the input (its commitment, or the nullifier
 * of a private input) and one for the output commitment. They are separate so that opening one
 * commitment reveals nothing about the other.
 */
export function saltsOf(v: Visibility): { input: boolean; output: boolean } {
  return { input: v.input !== 'public', output: v.output === 'hashed' };
}

/** Whether proofs of this build take a salt at all (see saltsOf). */
export function usesSalt(v: Visibility): boolean {
  const s = saltsOf(v);
  return s.input || s.output;
}

/** A short name for tables: input/output/weights. */
export function modeName(v: Visibility): string {
  return `${v.input}/${v.output}/${v.weights}`;
}

export type SignalGroup = 'output' | 'outputCommitment' | 'inputCommitment' | 'inputNullifier' | 'weightsCommitment' | 'recipient' | 'input' | 'batchRoot' | 'count';

export interface LayoutEntry {
  group: SignalGroup;
  offset: number;
  size: number;
}

/**
 * The public signals in order: circom lists the main component's outputs in declaration order,
 * then its public inputs in declaration order. The generated circuit declares them in exactly this
 * order. Every build has:
 *  - the output, or its commitment;
 *  - what identifies the input: its commitment (hashed), a nullifier Poseidon(input salt) that
 *    reveals nothing but never repeats (private), or the input values themselves (public, last);
 *  - the weights commitment (hashed weights);
 *  - the recipient: the address a proof is bound to (0: none). Changing it invalidates the proof,
 *    so a copied proof can only ever credit the address its prover chose.
 */
export function publicLayout(v: Visibility, inputs: number, outputs: number, batchSize = 1): LayoutEntry[] {
  const groups: [SignalGroup, number][] = [];
  if (batchSize > 1) {
    // A batched build (src/commit/batch.ts): the items' outputs and inputs (public mode), or the
    // root of the tree of their keys; then the weights commitment, the recipient and the count.
    groups.push(v.output === 'public' ? ['output', outputs * batchSize] : ['batchRoot', 1]);
    if (v.weights === 'hashed') groups.push(['weightsCommitment', 1]);
    groups.push(['recipient', 1], ['count', 1]);
    if (v.input === 'public') groups.push(['input', inputs * batchSize]);
    return withOffsets(groups);
  }
  groups.push(v.output === 'public' ? ['output', outputs] : ['outputCommitment', 1]);
  if (v.input === 'hashed') groups.push(['inputCommitment', 1]);
  if (v.input === 'private') groups.push(['inputNullifier', 1]);
  if (v.weights === 'hashed') groups.push(['weightsCommitment', 1]);
  groups.push(['recipient', 1]);
  if (v.input === 'public') groups.push(['input', inputs]);
  return withOffsets(groups);
}

function withOffsets(groups: readonly [SignalGroup, number][]): LayoutEntry[] {
  let offset = 0;
  return groups.map(([group, size]) => {
    const e = { group, offset, size };
    offset += size;
    return e;
  });
}

export function layoutEntry(layout: readonly LayoutEntry[], group: SignalGroup): LayoutEntry | undefined {
  return layout.find((e) => e.group === group);
}

export function publicSignalCount(layout: readonly LayoutEntry[]): number {
  return layout.reduce((a, e) => a + e.size, 0);
}

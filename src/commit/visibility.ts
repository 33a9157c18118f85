import { InvalidInputError } from '../errors.js';

/**
 * What a proof reveals, chosen per build:
 *  - input   public: the input values are public signals; private: nothing about the input is
 *            public; hashed: a salted Poseidon commitment to the input is public.
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

/** A salt is a private input of the circuit when anything hashed could otherwise be guessed. */
export function usesSalt(v: Visibility): boolean {
  return v.input === 'hashed' || v.output === 'hashed';
}

/** A short name for tables: input/output/weights. */
export function modeName(v: Visibility): string {
  return `${v.input}/${v.output}/${v.weights}`;
}

export type SignalGroup = 'output' | 'outputCommitment' | 'inputCommitment' | 'weightsCommitment' | 'input';

export interface LayoutEntry {
  group: SignalGroup;
  offset: number;
  size: number;
}

/**
 * The public signals in order: circom lists the main component's outputs in declaration order,
 * then its public inputs. The generated circuit declares them in exactly this order.
 */
export function publicLayout(v: Visibility, inputs: number, outputs: number): LayoutEntry[] {
  const groups: [SignalGroup, number][] = [];
  groups.push(v.output === 'public' ? ['output', outputs] : ['outputCommitment', 1]);
  if (v.input === 'hashed') groups.push(['inputCommitment', 1]);
  if (v.weights === 'hashed') groups.push(['weightsCommitment', 1]);
  if (v.input === 'public') groups.push(['input', inputs]);
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

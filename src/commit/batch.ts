import { InvalidInputError } from '../errors.js';
import { toField } from '../prove/field.js';
import { hasher } from './poseidon.js';
import { required, type PublicStatement, type Salts } from './statement.js';
import { saltsOf, type LayoutEntry, type Visibility } from './visibility.js';

/**
 * Batched builds: one proof of up to N inferences of one model (`zkml compile --batch-size N`).
 * The circuit runs the model N times with the weights once, and proves this statement:
 *
 *   count      public, 1 <= count <= N: items 0 .. count-1 are real, the rest padding (the last
 *              batch of a job is rarely full, and the statement says so).
 *   item j     inKey_j = its input commitment (hashed input) or nullifier Poseidon(saltIn_j)
 *              (private input); outCommit_j = its output commitment. Both are exactly what a
 *              single-input build of the same model makes for the same salts.
 *   tree       a 4-ary tree of circomlib's Poseidon(4) of fixed depth D (the least D >= 1 with
 *              2 * 4^(D-1) >= N). Level 0 holds the items' keys in pairs, (inKey_j, outCommit_j)
 *              at positions 2j, 2j+1, each pair multiplied by real_j = (j < count), so padding
 *              is 0 (positions past N hold 0 too); each node hashes 4 children, so a level-0
 *              node holds 2 items. The depth is fixed, so no inner node can pass for keys.
 *   root       the tree's root.
 *
 * Why 4-ary with pairs at the bottom: per item the tree costs about 200 constraints (a binary
 * tree over Poseidon(inKey, outCommit) leaves costs about 490), which keeps a batch's circuit,
 * and so its proving time per inference, at or below a single proof's; and circomlibjs'
 * Poseidon(4) contract costs 71k gas a call, so opening an item on-chain is D calls.
 *
 * Public signals: root, [weights commitment], recipient, count: 3 or 4 whatever N is, so the
 * verifier and its gas are those of one proof. An item is opened by its keys and its path (its
 * partner's two keys, then 3 siblings per level above); the registry records the batch in one
 * slot and each item's result when someone opens it (src/chain/contracts/InferenceRegistry.sol).
 * With public input and output (small N) the public signals are every item's output and input
 * instead, and count.
 */
export const MAX_BATCH = 1024;

/** Children per node of the item tree. */
export const TREE_ARITY = 4;

/** Levels of the item tree of a batch of `size`: the least D >= 1 with 2 * 4^(D-1) >= size. */
export function batchDepth(size: number): number {
  let d = 1;
  while (2 * TREE_ARITY ** (d - 1) < size) d++;
  return d;
}

/** Elements of an item's path in a tree of `depth` levels. */
export const pathLength = (depth: number) => 2 + (TREE_ARITY - 1) * (depth - 1);

/** Why a batched build cannot have this visibility, or undefined when it can. */
export function batchModeProblem(v: Visibility): string | undefined {
  if (v.input === 'public' && v.output === 'public') return undefined;
  if (v.input !== 'public' && v.output === 'hashed') return undefined;
  return `a batched build needs hashed output with hashed or private input (its items are committed in one root), or public input and output (every item's values are public signals); got input ${v.input}, output ${v.output}`;
}

export function checkBatchSize(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_BATCH) throw new InvalidInputError(`the batch size must be an integer from 1 to ${MAX_BATCH}; got ${n}`);
}

/** An item's keys, as the tree holds them. */
export interface ItemKeys {
  inputKey: bigint;
  outputCommitment: bigint;
}

/** Every level of the tree: level 0 the keys in pairs padded with 0 to 4^depth elements, the root last. */
export async function itemTree(keys: readonly ItemKeys[], depth: number): Promise<bigint[][]> {
  const h = await hasher();
  const width = TREE_ARITY ** depth;
  const leaves = keys.flatMap((k) => [k.inputKey, k.outputCommitment]);
  if (leaves.length > width) throw new RangeError(`${keys.length} items do not fit a tree of depth ${depth}`);
  const levels = [[...leaves, ...Array<bigint>(width - leaves.length).fill(0n)]];
  for (let d = 0; d < depth; d++) {
    const below = levels[d];
    levels.push(Array.from({ length: below.length / TREE_ARITY }, (_, i) => h.F.toObject(h(below.slice(TREE_ARITY * i, TREE_ARITY * (i + 1))))));
  }
  return levels;
}

/** Item `index`'s path: its partner's keys, then the 3 siblings of its node at each level above, in order. */
export function itemPath(levels: readonly bigint[][], index: number): bigint[] {
  const partner = index ^ 1;
  const path = [levels[0][2 * partner], levels[0][2 * partner + 1]];
  let node = index >> 1;
  for (let d = 1; d < levels.length - 1; d++) {
    const base = node - (node % TREE_ARITY);
    for (let k = 0; k < TREE_ARITY; k++) if (base + k !== node) path.push(levels[d][base + k]);
    node = Math.floor(node / TREE_ARITY);
  }
  return path;
}

/** The root an item's keys and path lead to (the specification of the registry's check). */
export async function rootFromPath(keys: ItemKeys, index: number, path: readonly bigint[]): Promise<bigint> {
  const h = await hasher();
  const ours = [keys.inputKey, keys.outputCommitment];
  const partner = path.slice(0, 2);
  let node = h.F.toObject(h(index % 2 === 0 ? [...ours, ...partner] : [...partner, ...ours]));
  let position = index >> 1;
  for (let at = 2; at < path.length; at += TREE_ARITY - 1) {
    const children = path.slice(at, at + TREE_ARITY - 1);
    children.splice(position % TREE_ARITY, 0, node);
    node = h.F.toObject(h(children));
    position = Math.floor(position / TREE_ARITY);
  }
  return node;
}

/** One item of a batch: its quantized input, its output (the integer reference) and its salts. */
export interface BatchItemValues {
  q: readonly bigint[];
  out: readonly bigint[];
  salts: Salts;
}

/** What opens one item of a batch proof: its keys, its leaf's position and path. */
export interface ItemOpening {
  index: number;
  /** The item's input key (commitment or nullifier) and output commitment, decimal; its path (decimal), see itemPath. */
  inputKey: string;
  outputCommitment: string;
  path: string[];
}

/** The statement of a batched build: its circuit inputs, public signals and item openings. */
export class BatchStatement {
  constructor(
    private readonly statement: PublicStatement,
    readonly size: number,
    private readonly layout: readonly LayoutEntry[],
  ) {}

  get visibility(): Visibility {
    return this.statement.visibility;
  }

  get depth(): number {
    return batchDepth(this.size);
  }

  private padded(items: readonly BatchItemValues[]): BatchItemValues[] {
    if (items.length < 1 || items.length > this.size) throw new InvalidInputError(`a batch of this build holds 1 to ${this.size} inputs; got ${items.length}`);
    // Padding items repeat the first: a valid input, whose constraints hold; their leaves are 0.
    return [...items, ...Array<BatchItemValues>(this.size - items.length).fill(items[0])];
  }

  /** The witness calculator's input: every item's `in` and salts (flattened), `recipient`, `count`, and `w`. */
  circuitInputs(items: readonly BatchItemValues[], recipient: bigint): Record<string, string | string[]> {
    const all = this.padded(items);
    const single = all.map((it) => this.statement.circuitInputs(it.q, { salts: it.salts, recipient }));
    const need = saltsOf(this.visibility);
    const signals: Record<string, string | string[]> = { in: single.flatMap((s) => s.in as string[]), recipient: String(recipient), count: String(items.length) };
    if (need.input) signals.saltIn = single.map((s) => s.saltIn as string);
    if (need.output) signals.saltOut = single.map((s) => s.saltOut as string);
    if (single[0].w) signals.w = single[0].w;
    return signals;
  }

  /** Each real item's input key and output commitment (committed modes). */
  async keys(items: readonly BatchItemValues[]): Promise<ItemKeys[]> {
    return Promise.all(items.map(async (it) => ({ inputKey: await this.statement.inputKey(it.q, it.salts), outputCommitment: await this.statement.outputCommitment(it.out, required(it.salts.output, 'output')) })));
  }

  /** The tree over the real items' keys (committed modes). */
  async tree(items: readonly BatchItemValues[]): Promise<{ levels: bigint[][]; openings: ItemOpening[] }> {
    const keys = await this.keys(items);
    const levels = await itemTree(keys, this.depth);
    const openings = keys.map((k, index) => ({ index, inputKey: String(k.inputKey), outputCommitment: String(k.outputCommitment), path: itemPath(levels, index).map(String) }));
    return { levels, openings };
  }

  /** The public signals, in layout order, as decimal field elements (`tree`: this.tree(items), when the caller has it). */
  async publicSignals(items: readonly BatchItemValues[], recipient: bigint, tree?: { levels: bigint[][] }): Promise<string[]> {
    const all = this.padded(items);
    const values: bigint[] = [];
    for (const e of this.layout) {
      if (e.group === 'output') values.push(...all.flatMap((it) => it.out));
      else if (e.group === 'input') values.push(...all.flatMap((it) => it.q));
      else if (e.group === 'recipient') values.push(recipient);
      else if (e.group === 'count') values.push(BigInt(items.length));
      else if (e.group === 'batchRoot') values.push((tree ?? (await this.tree(items))).levels.at(-1)![0]);
      else if (e.group === 'weightsCommitment') values.push(this.statement.weightsCommitment!);
      else throw new RangeError(`a batched build has no ${e.group} signal`);
    }
    return values.map((v) => toField(v).toString());
  }
}

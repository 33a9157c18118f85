import { batchDepth, pathLength, rootFromPath } from '../commit/batch.js';
import { PublicStatement, recipientAddress } from '../commit/statement.js';
import { layoutEntry, type SignalGroup } from '../commit/visibility.js';
import type { Manifest } from '../compile/manifest_types.js';
import { FIELD_MODULUS, fromField } from '../prove/field.js';
import type { BatchItemResult } from '../prove/inference.js';
import { decodeOutput, quantizeInput } from '../quant/io.js';
import type { QProgram } from '../quant/program.js';
import { decodeInputs, opens, recordedSalts, type ProofDocument, type Verification } from './check.js';

/** A batch proof file as `zkml prove --batch` writes it (items optional: a bare proof checks the statement only). */
export type BatchDocument = ProofDocument & { items?: Partial<BatchItemResult>[] } & Partial<BatchItemResult>;

/** One item of a batch, checked against the proof's statement. */
export interface ItemVerification {
  index: number;
  /** The output it proves: public mode from the signals, committed modes once opened. */
  output?: number[];
  input?: number[];
  /** Committed modes: its keys, and whether the recorded input and output open them. */
  inputKey?: string;
  outputCommitment?: string;
  opened?: { input?: boolean; output?: boolean };
}

/** A canonical field element in decimal: no leading zeros, below p (Poseidon reduces mod p, so k + p would pass for k). */
const decimal = (v: unknown): v is string => typeof v === 'string' && /^(0|[1-9]\d*)$/.test(v) && BigInt(v) < FIELD_MODULUS;

/**
 * What a valid batch proof (its pairing check passed) attests, item by item. The count must be
 * 1..size. Public mode: each real item's input and output are public signals. Committed modes: an
 * item is in the batch when its index is below the count and its keys and path lead to the root;
 * where the file records its input, output and salts, they must open its keys. One failing item
 * makes the file invalid, naming the item.
 */
export async function verifyBatchItems({ manifest, program }: { manifest: Manifest; program: QProgram }, doc: BatchDocument, only?: number): Promise<Verification> {
  const size = manifest.batch!.size;
  const layout = manifest.circuit.publicLayout;
  const group = (g: SignalGroup) => {
    const e = layoutEntry(layout, g);
    return e && doc.publicSignals.slice(e.offset, e.offset + e.size);
  };
  const count = Number(group('count')![0]);
  const root = group('batchRoot')?.[0];
  const recipient = BigInt(group('recipient')![0]);
  const base: Verification = { valid: true, recipient: recipientAddress(recipient), batch: { size, count, ...(root ? { root } : {}) } };
  const fail = (reason: string, extra: Partial<Verification> = {}): Verification => ({ ...base, ...extra, valid: false, reason });
  if (recipient >> 160n !== 0n) return fail(`the recipient signal ${recipient} is not an address (above 2^160)`);
  if (count < 1 || count > size) return fail(`the count signal ${count} is outside 1..${size}`);
  const wC = group('weightsCommitment')?.[0];
  const statement = await PublicStatement.for(program, manifest.visibility, layout);
  if (wC) {
    base.commitments = { weights: wC };
    if (wC !== String(statement.weightsCommitment)) return fail(`the proof commits to weights ${wC}, not this build's weights (${statement.weightsCommitment})`);
  }
  if (only !== undefined && (!Number.isInteger(only) || only < 0 || only >= count)) return fail(`item ${only} is not in this batch: it holds items 0..${count - 1}`);

  const items: ItemVerification[] = [];
  if (!root) {
    // Public mode: every real item's values are signals.
    const outs = group('output')!;
    const ins = group('input')!;
    const nOut = outs.length / size;
    const nIn = ins.length / size;
    for (let j = 0; j < count; j++) {
      if (only !== undefined && j !== only) continue;
      items.push({
        index: j,
        output: decodeOutput(program, outs.slice(j * nOut, (j + 1) * nOut).map((s) => fromField(BigInt(s)))),
        input: decodeInputs(manifest, ins.slice(j * nIn, (j + 1) * nIn)),
      });
    }
    return { ...base, items };
  }

  // A batch file lists its items; one item's own result (BatchItemProof, as the service stores it) is that item.
  const all: unknown = doc.items ?? (doc.index !== undefined ? [doc] : []);
  if (!Array.isArray(all) || !all.every((it) => it !== null && typeof it === 'object')) return fail('the file\'s items are not a list of objects');
  const recorded = (all as Partial<BatchItemResult>[]).filter((it) => only === undefined || it.index === only);
  if (only !== undefined && recorded.length === 0) return fail(`the file records no item ${only}`);
  for (const it of recorded) {
    const index = it.index;
    const name = `item ${String(index)}`;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) return fail(`${name}: its index is not a non-negative integer`, { items });
    if (index >= count) return fail(`${name} is past the batch's count (${count}): it is padding, not a proved item`, { items });
    if (!decimal(it.inputKey) || !decimal(it.outputCommitment) || !Array.isArray(it.path) || !it.path.every(decimal)) return fail(`${name}: the file does not record its inputKey, outputCommitment and path as canonical field elements (decimal strings below the BN254 modulus)`, { items });
    const depth = batchDepth(size);
    if (it.path.length !== pathLength(depth)) return fail(`${name}: its path has ${it.path.length} elements; a batch of ${size} has ${pathLength(depth)}`, { items });
    if (String(await rootFromPath({ inputKey: BigInt(it.inputKey), outputCommitment: BigInt(it.outputCommitment) }, index, it.path.map(BigInt))) !== root) return fail(`${name}: its keys and path do not lead to the batch's root: it is not an item of this proof`, { items });
    const v: ItemVerification = { index, inputKey: it.inputKey, outputCommitment: it.outputCommitment };
    const salts = await recordedSalts(manifest.visibility, it);
    const opened: NonNullable<ItemVerification['opened']> = {};
    if (salts.input !== undefined) {
      if (manifest.visibility.input === 'hashed' && Array.isArray(it.input)) opened.input = await opens(() => statement.inputKey(quantizeInput(program, it.input!), salts), it.inputKey);
      if (manifest.visibility.input === 'private') opened.input = await opens(() => statement.inputKey([], salts), it.inputKey);
    }
    if (salts.output !== undefined && Array.isArray(it.outputRaw)) {
      opened.output = await opens(async () => statement.outputCommitment(it.outputRaw!.map((x) => BigInt(x)), salts.output!), it.outputCommitment);
      if (opened.output) v.output = decodeOutput(program, it.outputRaw.map((x) => BigInt(x)));
    }
    if (Object.keys(opened).length) v.opened = opened;
    items.push(v);
    const failed = Object.entries(opened).filter(([, ok]) => !ok).map(([k]) => k);
    if (failed.length) return fail(`${name}: the ${failed.join(' and ')} recorded in the file do${failed.length === 1 ? 'es' : ''} not open its ${failed.join(' and ')} key${failed.length === 1 ? '' : 's'}`, { items });
  }
  return { ...base, items };
}

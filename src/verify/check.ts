/**
 * The checks of a proof that need no files: the public signals' shape, the pairing (given as a
 * function: snarkjs in Node or in a browser), and what the signals say (weights commitment,
 * recipient, openings of the commitments). Node's verify() (./verify.ts) reads the build and keys
 * from disk and enforces the key policy first; the browser calls verifyLoaded directly.
 */
import type { Groth16Proof, PublicSignals } from 'snarkjs';
import { deriveSalts, PublicStatement, recipientAddress, saltOf, type Salts } from '../commit/statement.js';
import { layoutEntry, type SignalGroup, type Visibility } from '../commit/visibility.js';
import type { BuildParts, Manifest } from '../compile/manifest_types.js';
import { FIELD_MODULUS, fromField } from '../prove/field.js';
import type { ProofResult } from '../prove/inference.js';
import { decodeOutput, dequantize, quantizeInput } from '../quant/io.js';
import { verifyBatchItems, type BatchDocument, type ItemVerification } from './batch.js';

export interface ProofDocument {
  proof: Groth16Proof;
  publicSignals: PublicSignals;
}

export interface Verification {
  valid: boolean;
  /** Why the proof was rejected, when it was. */
  reason?: string;
  /** What the proof attests, read from the public signals: the output and input where they are public. */
  output?: number[];
  input?: number[];
  /** The address the proof is bound to (0x000...0: none). */
  recipient?: string;
  /** The commitments (and a private input's nullifier) among the public signals (decimal). */
  commitments?: { input?: string; nullifier?: string; output?: string; weights?: string };
  /** Commitments opened with the salts, input and output recorded in the proof file, where it has them. */
  opened?: { input?: boolean; nullifier?: boolean; output?: boolean };
  /** Batched builds: the batch's size, its count of real items and (committed modes) the root of its item tree. */
  batch?: { size: number; count: number; root?: string };
  /** Batched builds: each item checked (see src/verify/batch.ts). */
  items?: ItemVerification[];
}

/** Checks the shape of the public signals: count, decimal notation, canonical field elements. */
export function checkPublicSignals(signals: readonly unknown[], expected: number): string | undefined {
  if (signals.length !== expected) return `expected ${expected} public signals, got ${signals.length}`;
  for (const [i, s] of signals.entries()) {
    if (typeof s !== 'string' || !/^\d+$/.test(s)) return `public signal ${i} is not a decimal integer string`;
    if (BigInt(s) >= FIELD_MODULUS) return `public signal ${i} is not a canonical field element (>= the BN254 scalar modulus)`;
  }
  return undefined;
}

function checkProofShape(proof: Groth16Proof): string | undefined {
  const isNum = (v: unknown) => typeof v === 'string' && /^\d+$/.test(v);
  const ok =
    proof !== null &&
    typeof proof === 'object' &&
    Array.isArray(proof.pi_a) && proof.pi_a.length >= 2 && proof.pi_a.every(isNum) &&
    Array.isArray(proof.pi_c) && proof.pi_c.length >= 2 && proof.pi_c.every(isNum) &&
    Array.isArray(proof.pi_b) && proof.pi_b.length >= 2 && proof.pi_b.every((p) => Array.isArray(p) && p.length === 2 && p.every(isNum));
  return ok ? undefined : 'the proof is not a Groth16 proof (pi_a, pi_b, pi_c of decimal strings)';
}

/** Whether a value recomputed from a file opens commitment `c`; a value that cannot even be packed (wrong length, out of range) opens nothing. */
export function opens(f: () => Promise<bigint>, c: string): Promise<boolean> {
  return f().then((v) => String(v) === c, () => false);
}

/** Public input signals as the float inputs they stand for (every model input, flattened, at its scale). */
export function decodeInputs(manifest: Manifest, signals: readonly string[]): number[] {
  const raw = signals.map((s) => fromField(BigInt(s)));
  return manifest.inputs.flatMap((t) => dequantize(raw.splice(0, t.shape.reduce((a, b) => a * b, 1)), t.frac, t.scale));
}

/** The salts a proof file records: `salts` as `zkml prove` writes them, or derived from the master `salt`. */
export async function recordedSalts(v: Visibility, doc: Partial<Pick<ProofResult, 'salt' | 'salts'>>): Promise<Salts> {
  const master = saltOf(doc.salt);
  if (master !== undefined) return deriveSalts(v, master);
  return { input: saltOf(doc.salts?.input), output: saltOf(doc.salts?.output) };
}

/** The Groth16 pairing check: snarkjs.groth16.verify. */
export type PairingCheck = (vkey: unknown, publicSignals: PublicSignals, proof: Groth16Proof) => Promise<boolean>;

/** A proof file's fields that verify reads: the proof and signals, and where recorded, what opens the commitments. */
export type VerifiableDocument = ProofDocument & Partial<Pick<ProofResult, 'salt' | 'salts' | 'input' | 'outputRaw'>>;

/**
 * Verifies a proof against a build's verification key: the signals' shape, the pairing, then what
 * the signals attest (see verify() in ./verify.ts). `item`: for batched builds, check only this item.
 * It does not judge the keys: whether anyone could forge proofs for them is verify()'s key policy
 * (src/setup/provenance.ts), which needs the build folder; `zkml web` shows it on the page.
 */
export async function verifyLoaded(build: BuildParts, vkey: unknown, doc: VerifiableDocument, pairing: PairingCheck, item?: number): Promise<Verification> {
  const { manifest, program } = build;
  const reason = checkPublicSignals(doc.publicSignals, manifest.circuit.publicSignals) ?? checkProofShape(doc.proof);
  if (reason) return { valid: false, reason };
  let valid: boolean;
  try {
    valid = await pairing(vkey, doc.publicSignals, doc.proof);
  } catch (err) {
    return { valid: false, reason: `malformed proof: ${(err as Error).message}` };
  }
  if (!valid) return { valid: false, reason: 'the pairing check failed: proof and public signals do not match this verification key' };
  if (manifest.batch) return verifyBatchItems({ manifest, program }, doc as BatchDocument, item);

  const layout = manifest.circuit.publicLayout;
  const group = (g: SignalGroup) => {
    const e = layoutEntry(layout, g);
    return e && doc.publicSignals.slice(e.offset, e.offset + e.size);
  };
  const ints = (xs: string[]) => xs.map((s) => fromField(BigInt(s)));
  const result: Verification = { valid: true };
  const out = group('output');
  if (out) result.output = decodeOutput(program, ints(out));
  const inp = group('input');
  if (inp) result.input = decodeInputs(manifest, inp);
  const recipient = BigInt(group('recipient')![0]);
  if (recipient >> 160n !== 0n) return { valid: false, reason: `the recipient signal ${recipient} is not an address (above 2^160)` };
  result.recipient = recipientAddress(recipient);
  const [inC, inN, outC, wC] = (['inputCommitment', 'inputNullifier', 'outputCommitment', 'weightsCommitment'] as const).map((g) => group(g)?.[0]);
  if (wC || inC || inN || outC) {
    result.commitments = { ...(inC ? { input: inC } : {}), ...(inN ? { nullifier: inN } : {}), ...(outC ? { output: outC } : {}), ...(wC ? { weights: wC } : {}) };
    const statement = await PublicStatement.for(program, manifest.visibility, layout);
    if (wC && wC !== String(statement.weightsCommitment)) {
      return { valid: false, reason: `the proof commits to weights ${wC}, not this build's weights (${statement.weightsCommitment})`, commitments: result.commitments };
    }
    const salts = await recordedSalts(manifest.visibility, doc);
    result.opened = {};
    if (salts.input !== undefined) {
      if (inC && Array.isArray(doc.input)) result.opened.input = await opens(async () => statement.inputCommitment(quantizeInput(program, doc.input!), salts.input!), inC);
      if (inN) result.opened.nullifier = await opens(() => statement.inputNullifier(salts.input!), inN);
    }
    if (salts.output !== undefined && outC && Array.isArray(doc.outputRaw)) {
      result.opened.output = await opens(async () => statement.outputCommitment(doc.outputRaw!.map((v) => BigInt(v)), salts.output!), outC);
      if (result.opened.output) result.output = decodeOutput(program, doc.outputRaw.map((v) => BigInt(v)));
    }
    const failed = Object.entries(result.opened).filter(([, ok]) => !ok).map(([k]) => k);
    if (failed.length) return { ...result, output: undefined, valid: false, reason: `the ${failed.join(' and ')} recorded in the proof file do${failed.length === 1 ? 'es' : ''} not open the proof's ${failed.join(' and ')} ${failed.length === 1 && failed[0] === 'nullifier' ? '' : 'commitment'}`.trim() };
    if (Object.keys(result.opened).length === 0) delete result.opened;
  }
  return result;
}

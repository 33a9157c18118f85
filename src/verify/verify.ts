import { readFileSync } from 'node:fs';
import type { Groth16Proof, PublicSignals } from 'snarkjs';
import { loadBuild } from '../compile/manifest.js';
import { InvalidProofFileError } from '../errors.js';
import { requireFile } from '../paths.js';
import { FIELD_MODULUS, fromField } from '../prove/field.js';
import { snarkjs } from '../setup/curve.js';
import { decodeOutput, dequantize, quantizeInput } from '../quant/io.js';
import { PublicStatement, saltOf } from '../commit/statement.js';
import { layoutEntry, type SignalGroup } from '../commit/visibility.js';
import type { ProofResult } from '../prove/prover.js';

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
  /** The commitments among the public signals (decimal). */
  commitments?: { input?: string; output?: string; weights?: string };
  /** Commitments opened with the salt, input and output recorded in the proof file, where it has them. */
  opened?: { input?: boolean; output?: boolean };
}

/** Reads a proof file written by `zkml prove` (or any {proof, publicSignals} JSON). */
export function readProofFile(file: string): ProofDocument {
  let doc: Partial<ProofDocument>;
  try {
    doc = JSON.parse(readFileSync(requireFile(file, 'proof file not found'), 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new InvalidProofFileError(file, `invalid JSON: ${err.message}`);
    throw err;
  }
  if (!doc || typeof doc.proof !== 'object' || !Array.isArray(doc.publicSignals)) {
    throw new InvalidProofFileError(file, 'expected {"proof": {...}, "publicSignals": [...]}');
  }
  return doc as ProofDocument;
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

/**
 * Verifies a proof off-chain against the build's verification key. For hashed weights the proof
 * must commit to this build's weights; where the file carries an opening (salt with input and
 * output, as `zkml prove` writes), the input and output commitments must open to it.
 */
export async function verify(buildDir: string, doc: ProofDocument & Partial<Pick<ProofResult, 'salt' | 'input' | 'outputRaw'>>): Promise<Verification> {
  const { paths, manifest, program } = loadBuild(buildDir);
  const vkey = JSON.parse(readFileSync(requireFile(paths.vkey, 'no verification key; run `zkml setup <build>` first'), 'utf8'));
  const reason = checkPublicSignals(doc.publicSignals, manifest.circuit.publicSignals) ?? checkProofShape(doc.proof);
  if (reason) return { valid: false, reason };
  let valid: boolean;
  try {
    valid = await snarkjs.groth16.verify(vkey, doc.publicSignals, doc.proof);
  } catch (err) {
    return { valid: false, reason: `malformed proof: ${(err as Error).message}` };
  }
  if (!valid) return { valid: false, reason: 'the pairing check failed: proof and public signals do not match this verification key' };

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
  if (inp) {
    const raw = ints(inp);
    result.input = manifest.inputs.flatMap((t) => dequantize(raw.splice(0, t.shape.reduce((a, b) => a * b, 1)), t.frac));
  }
  const [inC, outC, wC] = [group('inputCommitment')?.[0], group('outputCommitment')?.[0], group('weightsCommitment')?.[0]];
  if (wC || inC || outC) {
    result.commitments = { ...(inC ? { input: inC } : {}), ...(outC ? { output: outC } : {}), ...(wC ? { weights: wC } : {}) };
    const statement = await PublicStatement.for(program, manifest.visibility, layout);
    if (wC && wC !== String(statement.weightsCommitment)) {
      return { valid: false, reason: `the proof commits to weights ${wC}, not this build's weights (${statement.weightsCommitment})`, commitments: result.commitments };
    }
    const salt = saltOf(doc.salt);
    if (salt !== undefined) {
      result.opened = {};
      // A recorded value that cannot even be packed (wrong length, out of range) opens nothing.
      const opens = (f: () => Promise<bigint>, c: string) => f().then((v) => String(v) === c, () => false);
      if (inC && Array.isArray(doc.input)) result.opened.input = await opens(async () => statement.inputCommitment(quantizeInput(program, doc.input!), salt), inC);
      if (outC && Array.isArray(doc.outputRaw)) result.opened.output = await opens(async () => statement.outputCommitment(doc.outputRaw!.map((v) => BigInt(v)), salt), outC);
      const failed = Object.entries(result.opened).filter(([, ok]) => !ok).map(([k]) => k);
      if (failed.length) return { ...result, valid: false, reason: `the ${failed.join(' and ')} recorded in the proof file do${failed.length === 1 ? 'es' : ''} not open the proof's ${failed.join(' and ')} commitment` };
    }
  }
  return result;
}

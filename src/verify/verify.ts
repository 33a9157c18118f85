import { readFileSync } from 'node:fs';
import type { Groth16Proof, PublicSignals } from 'snarkjs';
import { loadBuild } from '../compile/manifest.js';
import { InvalidProofFileError } from '../errors.js';
import { requireFile } from '../paths.js';
import { FIELD_MODULUS, fromField } from '../prove/field.js';
import { snarkjs } from '../setup/curve.js';
import { decodeOutput, dequantize } from '../quant/io.js';

export interface ProofDocument {
  proof: Groth16Proof;
  publicSignals: PublicSignals;
}

export interface Verification {
  valid: boolean;
  /** Why the proof was rejected, when it was. */
  reason?: string;
  /** What the proof attests: the dequantized output and input read from the public signals. */
  output?: number[];
  input?: number[];
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

/** Verifies a proof off-chain against the build's verification key. */
export async function verify(buildDir: string, doc: ProofDocument): Promise<Verification> {
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
  const nOut = manifest.output.size;
  const ints = (xs: string[]) => xs.map((s) => fromField(BigInt(s)));
  const input: number[] = [];
  const raw = ints(doc.publicSignals.slice(nOut));
  manifest.inputs.forEach((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    input.push(...dequantize(raw.splice(0, n), t.frac));
  });
  return { valid: true, output: decodeOutput(program, ints(doc.publicSignals.slice(0, nOut))), input };
}

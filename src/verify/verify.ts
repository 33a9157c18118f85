import { readFileSync } from 'node:fs';
import { loadBuild } from '../compile/manifest.js';
import { InvalidProofFileError } from '../errors.js';
import { requireFile } from '../paths.js';
import { snarkjs } from '../setup/curve.js';
import { enforceKeyPolicy } from '../setup/provenance.js';
import { verifyLoaded, type ProofDocument, type VerifiableDocument, type Verification } from './check.js';

export { checkPublicSignals, decodeInputs, opens, recordedSalts, verifyLoaded, type ProofDocument, type Verification } from './check.js';

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

export interface VerifyOptions {
  /**
   * Accept keys anyone can forge proofs for (dev keys: no phase-2 secret), as the CLI's
   * --insecure-dev-keys does. Without it such keys throw InsecureKeysError.
   */
  insecureDevKeys?: boolean;
  /** Where the one-line warning goes when insecure keys are accepted. */
  warn?: (line: string) => void;
  /** Batched builds: check only this item of the file (default: every item it holds). */
  item?: number;
}

/**
 * Verifies a proof off-chain against the build's verification key. For hashed weights the proof
 * must commit to this build's weights; where the file carries an opening (the salt, or the input
 * and output salts, with the input and output, as `zkml prove` writes), the commitments and the
 * nullifier must open to it. An opened output commitment also gives the output. Keys anyone can
 * forge proofs for throw InsecureKeysError unless `options.insecureDevKeys`.
 */
export async function verify(buildDir: string, doc: VerifiableDocument, options: VerifyOptions = {}): Promise<Verification> {
  const { paths, manifest, program } = loadBuild(buildDir);
  const vkey = JSON.parse(readFileSync(requireFile(paths.vkey, 'no verification key; run `zkml setup <build>` first'), 'utf8'));
  // Keys anyone can forge proofs for make any answer meaningless (src/setup/provenance.ts).
  await enforceKeyPolicy(buildDir, options);
  return verifyLoaded({ manifest, program }, vkey, doc, (vk, signals, proof) => snarkjs.groth16.verify(vk as never, signals, proof), options.item);
}

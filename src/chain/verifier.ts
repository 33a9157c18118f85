import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { commitWeights } from '../commit/commitments.js';
import { layoutEntry } from '../commit/visibility.js';
import { loadBuild } from '../compile/manifest.js';
import { sha256 } from '../hash.js';
import { requireFile } from '../paths.js';
import { snarkjs } from '../setup/curve.js';
import { compileSolidity } from './solidity.js';

const require = createRequire(import.meta.url);

/** The EVM's limit on deployed code (EIP-170). */
export const MAX_CODE_SIZE = 24_576;

/**
 * Deployed size of snarkjs' Groth16 verifier for a number of public signals, before it is
 * compiled: one constant point (two PUSH32 and their use) per signal on a fixed base. Fitted on
 * solc 0.8.30 builds, on the high side: 3 signals 1,538 bytes (estimate 1,538), 8: 2,003 (2,033),
 * 75: 8,361 (8,666), 795: 79,926 (79,946). The limit falls at about 235 public signals. A
 * hashed-weights build's verifier also pins its weights commitment (pinPublicSignal): 4 signals,
 * 1,686 bytes (estimate 1,787).
 */
export function estimatedVerifierSize(publicSignals: number, pinned = false): number {
  return 1_241 + 99 * publicSignals + (pinned ? 150 : 0);
}

/** What to do about a verifier over the limit. */
export const FEWER_PUBLIC_SIGNALS = 'to verify on-chain, compile with --visibility compact (the input and output as commitments: 3 public signals) or input=hashed';

/** Why a build's verifier would not deploy, and what to do; undefined when it fits under EIP-170. */
export function verifierSizeProblem(publicSignals: number, pinned = false): string | undefined {
  const size = estimatedVerifierSize(publicSignals, pinned);
  if (size <= MAX_CODE_SIZE) return undefined;
  return (
    `its verifier contract would be about ${size.toLocaleString('en-US')} bytes of code, over the EVM's ${MAX_CODE_SIZE.toLocaleString('en-US')}-byte limit (EIP-170), ` +
    `because the circuit has ${publicSignals} public signals: it verifies off-chain only; ${FEWER_PUBLIC_SIGNALS}`
  );
}

export interface VerifierArtifact {
  contractName: string;
  abi: unknown[];
  bytecode: string;
  /** Size of the deployed (runtime) code: the EVM refuses more than MAX_CODE_SIZE (EIP-170). */
  codeSize: number;
  /** The runtime code: a recorded verifier address must hold exactly this. */
  deployedBytecode: string;
  solcVersion: string;
  sourceSha256: string;
  /** The build it was made from (not stored): deployVerifier applies the build's key policy. */
  build?: string;
}

/**
 * The build's Solidity verifier (snarkjs' Groth16 template), compiled with solc. Cached in the
 * build folder and rebuilt only when the verifying key, and so the source, changes.
 *
 * One key serves every weight set of a hashed-weights architecture, so its verifier alone would
 * accept a proof made with any weights. The generated verifier of such a build therefore also
 * checks that the weights commitment signal is this build's: calling it directly is as safe as
 * going through the registry.
 */
export async function verifierArtifact(buildDir: string): Promise<VerifierArtifact> {
  const { paths, manifest, program } = loadBuild(buildDir);
  requireFile(paths.zkey, 'no proving key; run `zkml setup <build>` first');
  const template = readFileSync(join(dirname(require.resolve('snarkjs')), '..', 'templates', 'verifier_groth16.sol.ejs'), 'utf8');
  const generated = await snarkjs.zKey.exportSolidityVerifier(paths.zkey, { groth16: template });
  const weights = layoutEntry(manifest.circuit.publicLayout, 'weightsCommitment');
  // The weights the build's prover proves with (program.json), which compile also records in the manifest.
  const source = weights ? pinPublicSignal(generated, weights.offset, await commitWeights(program), 'the weights commitment') : generated;
  const sourceSha256 = sha256(source);
  if (existsSync(paths.verifierArtifact)) {
    const cached = JSON.parse(readFileSync(paths.verifierArtifact, 'utf8')) as VerifierArtifact;
    if (cached.sourceSha256 === sourceSha256 && cached.deployedBytecode !== undefined) return { ...cached, build: paths.root };
  }
  writeFileSync(paths.verifierSol, source);
  const { Groth16Verifier: artifact } = compileSolidity({ 'Verifier.sol': source });
  writeFileSync(paths.verifierArtifact, JSON.stringify({ ...artifact, sourceSha256 }, null, 1));
  return { ...artifact, sourceSha256, build: paths.root };
}

/** Where snarkjs' template starts the pairing check, after the field checks of every signal. */
const PAIRING_MARKER = '            // Validate all evaluations\n';

/**
 * Makes a generated verifier return false unless public signal `index` equals `value`. Inserted
 * before the pairing check (after every signal's field check), in the template's own style.
 */
export function pinPublicSignal(source: string, index: number, value: bigint, what: string): string {
  const at = source.indexOf(PAIRING_MARKER);
  if (at < 0 || source.indexOf(PAIRING_MARKER, at + 1) >= 0) throw new Error('snarkjs\' verifier template changed: cannot find where to check the public signal');
  const check = [
    `            // zkml: public signal ${index} must be ${what} this verifier was made for`,
    `            if iszero(eq(calldataload(add(_pubSignals, ${index * 32})), ${value})) {`,
    '                mstore(0, 0)',
    '                return(0, 0x20)',
    '            }',
    '',
    '',
  ].join('\n');
  return source.slice(0, at) + check + source.slice(at);
}

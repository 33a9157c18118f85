import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadBuild } from '../compile/manifest.js';
import { sha256 } from '../hash.js';
import { requireFile } from '../paths.js';
import { snarkjs } from '../setup/curve.js';
import { compileSolidity } from './solidity.js';

const require = createRequire(import.meta.url);

/** The EVM's limit on deployed code (EIP-170). */
export const MAX_CODE_SIZE = 24_576;

export interface VerifierArtifact {
  contractName: string;
  abi: unknown[];
  bytecode: string;
  /** Size of the deployed (runtime) code: the EVM refuses more than MAX_CODE_SIZE (EIP-170). */
  codeSize: number;
  solcVersion: string;
  sourceSha256: string;
}

/**
 * The build's Solidity verifier (snarkjs' Groth16 template), compiled with solc. Cached in the
 * build folder and rebuilt only when the verifying key, and so the source, changes.
 */
export async function verifierArtifact(buildDir: string): Promise<VerifierArtifact> {
  const { paths } = loadBuild(buildDir);
  requireFile(paths.zkey, 'no proving key; run `zkml setup <build>` first');
  const template = readFileSync(join(dirname(require.resolve('snarkjs')), '..', 'templates', 'verifier_groth16.sol.ejs'), 'utf8');
  const source = await snarkjs.zKey.exportSolidityVerifier(paths.zkey, { groth16: template });
  const sourceSha256 = sha256(source);
  if (existsSync(paths.verifierArtifact)) {
    const cached = JSON.parse(readFileSync(paths.verifierArtifact, 'utf8')) as VerifierArtifact;
    if (cached.sourceSha256 === sourceSha256 && cached.codeSize !== undefined) return cached;
  }
  writeFileSync(paths.verifierSol, source);
  const { Groth16Verifier: artifact } = compileSolidity({ 'Verifier.sol': source });
  writeFileSync(paths.verifierArtifact, JSON.stringify({ ...artifact, sourceSha256 }, null, 1));
  return { ...artifact, sourceSha256 };
}

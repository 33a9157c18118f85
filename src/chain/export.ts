import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBuild } from '../compile/manifest.js';
import { verifyingKeyHash } from '../hash.js';
import { requireFile } from '../paths.js';
import { enforceKeyPolicy } from '../setup/provenance.js';
import { openerArgs, poseidonArtifact } from './opener.js';
import { registrationFor } from './registry.js';
import { contractsDir, projectContract } from './solidity.js';
import { verifierArtifact } from './verifier.js';

/** The Solidity sources a consumer imports: the registry's interface and the output decoding library. */
const SOURCES = ['IInferenceRegistry.sol', 'ZkmlOutput.sol', 'InferenceRegistry.sol', 'ZkmlOutputOpener.sol'];

/**
 * `zkml export-verifier`: everything a Solidity developer needs for one build, in one folder:
 *   Verifier.sol, Verifier.json          the build's Groth16 verifier (abi, bytecode), pinned to its
 *                                        weights for hashed-weights builds
 *   InferenceRegistry.json               the registry's abi and bytecode
 *   *.sol                                IInferenceRegistry, ZkmlOutput (decode outputs), the registry
 *                                        and ZkmlOutputOpener sources
 *   registration.json                    what register() takes (vkHash, weights commitment, layout)
 *                                        and how to read the output (size, scale, layout)
 *   ZkmlOutputOpener.json, PoseidonT<n>.json, opener.json   hashed output: the opener and its
 *                                        Poseidon contract, and the opener's constructor arguments
 */
export async function exportContracts(buildDir: string, outDir: string, options: { insecureDevKeys?: boolean; log?: (line: string) => void } = {}): Promise<string[]> {
  const { paths, manifest } = loadBuild(buildDir);
  const verifier = await verifierArtifact(buildDir);
  // What is exported is deployed somewhere: keys anyone can forge proofs for need the flag, and then say so.
  const keys = await enforceKeyPolicy(buildDir, { insecureDevKeys: options.insecureDevKeys, warn: options.log ?? (() => {}) });
  const insecure = keys && !keys.secure ? keys.problems : undefined;
  const vkey = JSON.parse(readFileSync(requireFile(paths.vkey, 'no verification key; run `zkml setup <build>` first'), 'utf8'));
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  const json = (name: string, value: unknown) => {
    writeFileSync(join(outDir, name), JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
    written.push(name);
  };
  const banner = insecure ? `// WARNING: INSECURE KEYS. ${insecure[0]}. Never deploy this verifier where its answer matters.\n` : '';
  writeFileSync(join(outDir, 'Verifier.sol'), banner + readFileSync(paths.verifierSol, 'utf8'));
  written.push('Verifier.sol');
  json('Verifier.json', verifier);
  json('InferenceRegistry.json', projectContract('InferenceRegistry'));
  for (const f of SOURCES) {
    copyFileSync(join(contractsDir, f), join(outDir, f));
    written.push(f);
  }
  const r = registrationFor(manifest, vkey, '<verifier address>');
  json('registration.json', {
    ...(insecure ? { insecureKeys: insecure } : {}),
    vkHash: verifyingKeyHash(vkey),
    weightsCommitment: r.weightsCommitment,
    layout: r.layout,
    publicSignals: manifest.circuit.publicLayout,
    output: { size: manifest.output.size, frac: manifest.output.frac, postprocess: manifest.output.postprocess ?? null, visibility: manifest.visibility.output },
    verifier: { contractName: verifier.contractName, codeSize: verifier.codeSize, solcVersion: verifier.solcVersion },
  });
  if (manifest.visibility.output === 'hashed') {
    const args = openerArgs(buildDir);
    const poseidon = poseidonArtifact(args.chunks + 1);
    json(`${poseidon.contractName}.json`, poseidon);
    json('ZkmlOutputOpener.json', projectContract('ZkmlOutputOpener'));
    json('opener.json', { constructor: { lo: args.lo, bits: args.bits, poseidon: `<address of ${poseidon.contractName}>` }, chunks: args.chunks });
  }
  return written;
}

import { existsSync, readFileSync } from 'node:fs';
import type { ethers } from 'ethers';
import { loadBuild } from '../compile/manifest.js';
import { writeJsonAtomic } from '../files.js';
import { buildPaths, requireFile } from '../paths.js';
import type { Chain } from './network.js';
import { attachVerifier, deployVerifier } from './onchain.js';
import { attachRegistry, deployRegistry, registerModel, registrationFor } from './registry.js';
import { verifierArtifact } from './verifier.js';

/**
 * Where a build lives on one chain: its verifier, the registry and its model id there. Kept in
 * <build>/deployments.json, keyed by RPC URL, so that `zkml register` and `zkml submit` find what
 * `zkml deploy` made. The embedded EVM lasts one command and is never recorded.
 */
export interface DeploymentRecord {
  chainId: string;
  registry?: string;
  verifier?: string;
  modelId?: string;
  /** sha256 of the zkey the verifier was made from: a new key invalidates the record. */
  zkeySha256?: string;
}

const file = (buildDir: string) => buildPaths(buildDir).deployments;

export function readDeployment(buildDir: string, rpc: string): DeploymentRecord | undefined {
  const f = file(buildDir);
  if (!existsSync(f)) return undefined;
  return (JSON.parse(readFileSync(f, 'utf8')) as Record<string, DeploymentRecord>)[rpc];
}

export function writeDeployment(buildDir: string, rpc: string, record: DeploymentRecord): void {
  const f = file(buildDir);
  const all = existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, DeploymentRecord>) : {};
  all[rpc] = record;
  writeJsonAtomic(f, all);
}

export interface Deployed {
  registry: ethers.Contract;
  verifier?: ethers.Contract;
  modelId?: bigint;
  /** Gas of each transaction this call sent. */
  gas: Record<string, bigint>;
}

/**
 * Makes sure the registry, the build's verifier and its registration exist on `chain`, reusing
 * addresses given or recorded and sending only what is missing.
 */
export async function ensureDeployed(
  chain: Chain,
  options: { build?: string; registry?: string; verifier?: string; modelId?: string; register?: boolean; metadataURI?: string; known?: DeploymentRecord },
): Promise<Deployed> {
  const gas: Record<string, bigint> = {};
  const known: Partial<DeploymentRecord> = options.known ?? {};
  const registryAddress = options.registry ?? known.registry;
  let registry: ethers.Contract;
  if (registryAddress) registry = attachRegistry(chain, registryAddress);
  else {
    const d = await deployRegistry(chain);
    registry = d.contract;
    gas.deployRegistry = d.gasUsed;
  }
  if (!options.build) return { registry, gas };
  const build = loadBuild(options.build);
  const artifact = await verifierArtifact(options.build);
  const sameKey = known.zkeySha256 === undefined || known.zkeySha256 === zkeySha(options.build);
  const verifierAddress = options.verifier ?? (sameKey ? known.verifier : undefined);
  let verifier: ethers.Contract;
  if (verifierAddress) verifier = attachVerifier(chain, artifact, verifierAddress);
  else {
    const d = await deployVerifier(chain, artifact);
    verifier = d.contract;
    gas.deployVerifier = d.gasUsed;
  }
  // A recorded model id belongs to the recorded registry, verifier and key.
  const sameRegistry = !options.registry || options.registry.toLowerCase() === known.registry?.toLowerCase();
  let modelId = options.modelId !== undefined ? BigInt(options.modelId) : sameKey && sameRegistry && !options.verifier && known.modelId ? BigInt(known.modelId) : undefined;
  if (modelId === undefined && options.register) {
    const vkey = JSON.parse(readFileSync(requireFile(build.paths.vkey, 'no verification key; run `zkml setup <build>` first'), 'utf8'));
    const r = await registerModel(registry, registrationFor(build.manifest, vkey, await verifier.getAddress(), options.metadataURI));
    modelId = r.modelId;
    gas.register = r.gasUsed;
  }
  return { registry, verifier, modelId, gas };
}

function zkeySha(buildDir: string): string | undefined {
  const setup = buildPaths(buildDir).setup;
  return existsSync(setup) ? (JSON.parse(readFileSync(setup, 'utf8')) as { zkeySha256?: string }).zkeySha256 : undefined;
}

/** The record to keep after ensureDeployed on an RPC chain. */
export async function recordOf(chain: Chain, buildDir: string, d: Deployed): Promise<DeploymentRecord> {
  const network = await chain.provider.getNetwork();
  return {
    chainId: network.chainId.toString(),
    registry: await d.registry.getAddress(),
    ...(d.verifier ? { verifier: await d.verifier.getAddress() } : {}),
    ...(d.modelId !== undefined ? { modelId: d.modelId.toString() } : {}),
    zkeySha256: zkeySha(buildDir),
  };
}

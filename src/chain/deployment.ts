import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ethers } from 'ethers';
import { loadBuild } from '../compile/manifest.js';
import { ChainError } from '../errors.js';
import { writeJsonAtomic } from '../files.js';
import { buildPaths, requireFile, stateDir } from '../paths.js';
import { enforceKeyPolicy } from '../setup/provenance.js';
import type { Chain } from './network.js';
import { attachVerifier, deployVerifier } from './onchain.js';
import { attachRegistry, deployRegistry, registerModel, registrationFor, registrationMismatch } from './registry.js';
import { projectContract } from './solidity.js';
import { verifierArtifact } from './verifier.js';

/**
 * Where a build lives on one chain: its verifier, the registry and its model id there. Kept in
 * <build>/deployments.json, keyed by chain (its id and the hash of its block 0, so that a
 * restarted development node, which keeps its chain id, is another chain), so that `zkml register`
 * and `zkml submit` find what `zkml deploy` made whatever URL reaches the node. Every recorded
 * address is checked for code before use. The embedded EVM lasts one command and is never recorded.
 */
export interface DeploymentRecord {
  chainId: string;
  /** Hash of the chain's block 0. */
  genesis: string;
  /** The RPC URL last used (informational: records are found by chain, not by URL). */
  rpc?: string;
  registry?: string;
  verifier?: string;
  modelId?: string;
  /** sha256 of the zkey the verifier was made from: a new key invalidates the record. */
  zkeySha256?: string;
}

/** A record whose contracts are gone: the chain was reset (a restarted `zkml node`) or the address is wrong. */
export class StaleDeploymentError extends ChainError {}

/** The identity records are kept under: chain id and genesis hash. */
export async function chainKey(chain: Chain): Promise<{ chainId: string; genesis: string; key: string }> {
  const genesis = (await chain.provider.getBlock(0))?.hash ?? 'unknown';
  const chainId = String(chain.chainId);
  return { chainId, genesis, key: `${chainId}:${genesis}` };
}

const file = (buildDir: string) => buildPaths(buildDir).deployments;
const readAll = <T>(f: string): Record<string, T> => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, T>) : {});

export async function readDeployment(buildDir: string, chain: Chain): Promise<DeploymentRecord | undefined> {
  return readAll<DeploymentRecord>(file(buildDir))[(await chainKey(chain)).key];
}

export async function writeDeployment(buildDir: string, chain: Chain, record: DeploymentRecord): Promise<void> {
  const all = readAll<DeploymentRecord>(file(buildDir));
  all[(await chainKey(chain)).key] = record;
  writeJsonAtomic(file(buildDir), all);
}

/**
 * One registry per chain, shared by every build: remembered in the user's state directory
 * (ZKML_STATE, else XDG_STATE_HOME or ~/.local/state, then zkml/registries.json) when zkml
 * deploys one on an RPC chain, and reused by later deployments of other builds.
 */
const registriesFile = () => join(stateDir(), 'registries.json');

async function sharedRegistry(chain: Chain): Promise<string | undefined> {
  if (chain.kind === 'embedded') return undefined;
  const known = readAll<{ registry: string }>(registriesFile())[(await chainKey(chain)).key]?.registry;
  return known && (await codeAt(chain, known)) === registryCode() ? known : undefined;
}

async function rememberRegistry(chain: Chain, registry: string): Promise<void> {
  if (chain.kind === 'embedded') return;
  const all = readAll<{ registry: string; rpc: string; at: string }>(registriesFile());
  all[(await chainKey(chain)).key] = { registry, rpc: chain.description, at: new Date().toISOString() };
  writeJsonAtomic(registriesFile(), all);
}

async function codeAt(chain: Chain, address: string): Promise<string> {
  return (await chain.provider.getCode(address)).toLowerCase();
}

const registryCode = () => projectContract('InferenceRegistry').deployedBytecode.toLowerCase();

export interface Deployed {
  registry: ethers.Contract;
  verifier?: ethers.Contract;
  modelId?: bigint;
  /** Gas of each transaction this call sent. */
  gas: Record<string, bigint>;
}

/**
 * Makes sure the registry, the build's verifier and its registration exist on `chain`, reusing
 * addresses given, recorded for the build, or (the registry) shared by the chain's builds, and
 * sending only what is missing. Every address is checked for code: one given that has none is an
 * error; a recorded one that has none is stale, and is deployed again (`onStale: 'redeploy'`, for
 * deploy and register) or reported (`'fail'`, for submit). A build whose keys anyone can forge
 * proofs for (src/setup/provenance.ts) is refused, before anything is sent, unless the chain is the
 * embedded EVM or a development node, or `insecureDevKeys` (then `log` gets a warning).
 */
export async function ensureDeployed(
  chain: Chain,
  options: {
    build?: string;
    registry?: string;
    verifier?: string;
    modelId?: string;
    register?: boolean;
    metadataURI?: string;
    known?: DeploymentRecord;
    onStale?: 'redeploy' | 'fail';
    insecureDevKeys?: boolean;
    log?: (line: string) => void;
  },
): Promise<Deployed> {
  if (options.build) await enforceKeyPolicy(options.build, { insecureDevKeys: options.insecureDevKeys, chain, warn: options.log });
  const log = options.log ?? (() => {});
  const gas: Record<string, bigint> = {};
  const known: Partial<DeploymentRecord> = { ...options.known };
  // An address given on the command line must hold a contract (one of another zkml version will do, with a note).
  const given = async (address: string | undefined, what: string, expected: () => string) => {
    if (!address) return undefined;
    const code = await codeAt(chain, address);
    if (code === '0x') throw new ChainError(`there is no contract at the ${what} address ${address} on ${chain.description}`);
    if (code !== expected()) log(`note: the ${what} at ${address} is not byte for byte this zkml's ${what}`);
    return address;
  };
  // A recorded address must hold exactly the contract zkml put there: a planted or stale record is not followed.
  const recorded = async (address: string | undefined, what: string, expected: () => string) => {
    if (!address) return undefined;
    const code = await codeAt(chain, address);
    if (code === expected()) return address;
    const why = `the ${what} recorded for ${options.build ?? 'this build'} on ${chain.description} (chain ${chain.chainId}) at ${address} ${code === '0x' ? 'has no code: the chain was reset (a restarted `zkml node`?) or the record is wrong' : `is not the ${what} zkml deployed (its code differs)`}`;
    if (options.onStale !== 'redeploy') throw new StaleDeploymentError(`${why}; \`zkml deploy\` and \`zkml register\` deploy and register it again`);
    log(`${why}; deploying it again`);
    Object.assign(known, { registry: undefined, verifier: undefined, modelId: undefined });
    return undefined;
  };

  let registryAddress = (await given(options.registry, 'registry', registryCode)) ?? (await recorded(known.registry, 'registry', registryCode)) ?? (await sharedRegistry(chain));
  let registry: ethers.Contract;
  if (registryAddress) registry = attachRegistry(chain, registryAddress);
  else {
    const d = await deployRegistry(chain);
    registry = d.contract;
    registryAddress = d.address;
    gas.deployRegistry = d.gasUsed;
    await rememberRegistry(chain, d.address);
  }
  if (!options.build) return { registry, gas };
  const build = loadBuild(options.build);
  const artifact = await verifierArtifact(options.build);
  const sameKey = known.zkeySha256 === undefined || known.zkeySha256 === zkeySha(options.build);
  const verifierCode = () => artifact.deployedBytecode.toLowerCase();
  const verifierAddress = (await given(options.verifier, 'verifier', verifierCode)) ?? (sameKey ? await recorded(known.verifier, 'verifier', verifierCode) : undefined);
  let verifier: ethers.Contract;
  if (verifierAddress) verifier = attachVerifier(chain, artifact, verifierAddress);
  else {
    const d = await deployVerifier(chain, artifact, { insecureDevKeys: options.insecureDevKeys });
    verifier = d.contract;
    gas.deployVerifier = d.gasUsed;
  }
  // A recorded model id belongs to the recorded registry, verifier and key.
  const sameRegistry = registryAddress.toLowerCase() === known.registry?.toLowerCase();
  let modelId = options.modelId !== undefined ? BigInt(options.modelId) : sameKey && sameRegistry && !options.verifier && known.modelId ? BigInt(known.modelId) : undefined;
  const vkey = JSON.parse(readFileSync(requireFile(build.paths.vkey, 'no verification key; run `zkml setup <build>` first'), 'utf8'));
  const registration = registrationFor(build.manifest, vkey, await verifier.getAddress(), options.metadataURI);
  if (modelId !== undefined) {
    // The registered model must be this build's: its verifier, key, weights and layout.
    const mismatch = await registrationMismatch(registry, modelId, registration);
    if (mismatch) {
      const why = `model ${modelId} of the registry at ${registryAddress} is not ${options.build}'s registration (${mismatch})`;
      if (options.modelId !== undefined || options.onStale !== 'redeploy') throw new StaleDeploymentError(`${why}; \`zkml register ${options.build}\` registers it`);
      log(`${why}; registering it again`);
      modelId = undefined;
    }
  }
  if (modelId === undefined && options.register) {
    const r = await registerModel(registry, registration);
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
  const { chainId, genesis } = await chainKey(chain);
  return {
    chainId,
    genesis,
    rpc: chain.description,
    registry: await d.registry.getAddress(),
    ...(d.verifier ? { verifier: await d.verifier.getAddress() } : {}),
    ...(d.modelId !== undefined ? { modelId: d.modelId.toString() } : {}),
    zkeySha256: zkeySha(buildDir),
  };
}

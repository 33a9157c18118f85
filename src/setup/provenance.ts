import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ChainKind } from '../chain/network.js';
import { InsecureKeysError } from '../errors.js';
import { sha256File } from '../hash.js';
import { buildPaths, defaultPtauCache, requireFile } from '../paths.js';
import { readPhase1, readPhase2 } from './contributions.js';
import type { Logger } from './curve.js';
import type { SetupRecord } from './setup.js';

/**
 * How a build's Groth16 keys were made, and whether anyone can forge proofs for them, read from
 * the key material where it is at hand and from setup.json where it is not:
 * - the verification key: delta equal to gamma (snarkjs always sets gamma to the G2 generator)
 *   means no phase-2 secret. Then A = alpha, B = beta, C = -(IC_0 + sum s_i IC_(i+1)) verifies for
 *   any public signals s: whoever can read the verifying key can forge.
 * - the zkey's phase-2 records (section 10): if every contribution is a beacon, delta follows from
 *   public values.
 * - phase 1 (the ptau named in setup.json, re-read when the file is there): if every contribution
 *   is a beacon, tau, alpha and beta are public, and with the proving key anyone can forge.
 */
export interface KeyProvenance {
  build: string;
  secure: boolean;
  /** Keys from the dev setup: no phase-2 contribution at all. */
  development: boolean;
  phase1: {
    source: 'dev' | 'file' | 'unknown';
    file?: string;
    /** Where the answer comes from: the ptau itself, setup.json (the ptau is not on this machine), or nowhere. */
    checked: 'ptau' | 'setup.json' | 'none';
    contributions?: number;
    beacons?: number;
    secretPublic?: boolean;
  };
  /** Phase-2 contributions and how many of them are beacons: from the zkey, else setup.json. */
  phase2Contributions?: number;
  beacons?: number;
  /** The ceremony folder the keys were finalized from. */
  ceremony?: string;
  /** Why the keys are forgeable, one line each (empty when secure). */
  problems: string[];
}

const cache = new Map<string, { stamp: string; result: Promise<KeyProvenance> }>();

function stamp(files: string[]): string {
  return files.map((f) => (existsSync(f) ? `${statSync(f).mtimeMs}:${statSync(f).size}` : '-')).join('|');
}

/** The provenance of a build's keys (cached until its key files change). */
export function keyProvenance(buildDir: string): Promise<KeyProvenance> {
  const paths = buildPaths(buildDir);
  const s = stamp([paths.vkey, paths.zkey, paths.setup]);
  const hit = cache.get(paths.root);
  if (hit && hit.stamp === s) return hit.result;
  const result = readProvenance(buildDir);
  cache.set(paths.root, { stamp: s, result });
  result.catch(() => cache.delete(paths.root));
  return result;
}

async function readProvenance(buildDir: string): Promise<KeyProvenance> {
  const paths = buildPaths(buildDir);
  const vkey = JSON.parse(readFileSync(requireFile(paths.vkey, 'no verification key; run `zkml setup <build>` first'), 'utf8')) as { vk_gamma_2: unknown; vk_delta_2: unknown; vk_alpha_1: unknown };
  const record = existsSync(paths.setup) ? (JSON.parse(readFileSync(paths.setup, 'utf8')) as Partial<SetupRecord>) : undefined;
  const problems: string[] = [];
  const deltaIsGamma = JSON.stringify(vkey.vk_delta_2) === JSON.stringify(vkey.vk_gamma_2);
  if (deltaIsGamma) problems.push('they have no phase-2 contribution (delta is the generator), so anyone who can read the verifying key can forge proofs');

  let phase2Contributions = record?.phase2Contributions;
  let beacons: number | undefined;
  if (existsSync(paths.zkey)) {
    const p2 = await readPhase2(paths.zkey);
    phase2Contributions = p2.contributions;
    beacons = p2.beacons;
    if (JSON.stringify(p2.delta2) !== JSON.stringify(vkey.vk_delta_2)) problems.push('verification_key.json is not the proving key\'s (their deltas differ), so how it was made is unknown; run `zkml setup` again');
  }
  if (!deltaIsGamma && phase2Contributions === 0) problems.push('the proving key records no phase-2 contribution, so its delta is public');
  if (phase2Contributions !== undefined && phase2Contributions > 0 && beacons === phase2Contributions) {
    problems.push(`every phase-2 contribution is a public beacon (${beacons}), so anyone can recompute delta and forge proofs`);
  }

  // Phase 1. vk_alpha_1 is alpha times G1 from the ptau, unchanged by phase 2: a ptau whose
  // alpha matches is this key's phase 1. The ptau setup.json names is read when it is here (and
  // must match); else a dev ptau of the cache that matches gives it away; else setup.json is
  // believed only if its zkey hash is the zkey's (a copied or edited record vouches for nothing).
  const alpha1 = (vkey.vk_alpha_1 as string[]).slice(0, 2).map(String);
  const matches = (p: { alpha1?: string[] }) => p.alpha1 !== undefined && p.alpha1[0] === alpha1[0] && p.alpha1[1] === alpha1[1];
  const phase1: KeyProvenance['phase1'] = { source: record?.ptau?.source ?? 'unknown', checked: 'none', ...(record?.ptau?.file ? { file: record.ptau.file } : {}) };
  const named = record?.ptau?.file && existsSync(record.ptau.file) ? await readPhase1(record.ptau.file) : undefined;
  const dev = named && matches(named) ? undefined : await matchingDevPtau(matches);
  if (named && matches(named)) {
    Object.assign(phase1, { checked: 'ptau', contributions: named.contributions, beacons: named.beacons, secretPublic: named.secretPublic });
  } else if (dev) {
    Object.assign(phase1, { source: 'dev', checked: 'ptau', file: dev.file, contributions: dev.p.contributions, beacons: dev.p.beacons, secretPublic: true });
  } else if (record?.ptau && !named && (!existsSync(paths.zkey) || record.zkeySha256 === sha256File(paths.zkey))) {
    // Older records have no secretPublic: a dev ptau always has a public secret.
    Object.assign(phase1, { checked: 'setup.json', secretPublic: record.ptau.secretPublic ?? record.ptau.source === 'dev' });
  } else {
    problems.push(
      named
        ? `the ptau setup.json names (${record!.ptau!.file}) is not these keys' phase 1 (its alpha differs), so how phase 1 was made is unknown`
        : 'how phase 1 was made is unknown: no setup.json whose zkey hash matches these keys, and their ptau is not here (`zkml setup --ptau <file>` or `zkml ceremony` records it)',
    );
  }
  if (phase1.secretPublic) {
    problems.push(`phase 1 (${phase1.file ?? 'the ptau'}) is a development powers of tau whose contributions are all public beacons, so anyone can recompute tau, alpha and beta and, with the proving key, forge proofs`);
  }
  return {
    build: paths.root,
    secure: problems.length === 0,
    development: deltaIsGamma,
    phase1,
    ...(phase2Contributions !== undefined ? { phase2Contributions } : {}),
    ...(beacons !== undefined ? { beacons } : {}),
    ...(record?.ceremony ? { ceremony: record.ceremony } : {}),
    problems,
  };
}

/** A beacon-only ptau of zkml's dev cache whose alpha is the key's: the key's phase 1 is a dev ptau. */
async function matchingDevPtau(matches: (p: { alpha1?: string[] }) => boolean): Promise<{ file: string; p: Awaited<ReturnType<typeof readPhase1>> } | undefined> {
  if (!existsSync(defaultPtauCache)) return undefined;
  for (const f of readdirSync(defaultPtauCache).filter((n) => /^dev_bn128_\d+\.ptau$/.test(n))) {
    const file = join(defaultPtauCache, f);
    const p = await readPhase1(file).catch(() => undefined);
    if (p?.secretPublic && matches(p)) return { file, p };
  }
  return undefined;
}

/** One line for `zkml inspect`: secure, or why not. */
export function describeProvenance(p: KeyProvenance): string {
  const p1 = p.phase1.contributions !== undefined ? `${p.phase1.contributions} phase-1 contribution(s), ${p.phase1.beacons} beacon(s)` : `phase 1: ${p.phase1.source}`;
  const p2 = p.phase2Contributions !== undefined ? `${p.phase2Contributions} phase-2 contribution(s)${p.beacons ? `, ${p.beacons} beacon(s)` : ''}` : 'phase 2 unknown';
  if (p.secure) return `secure (${p1}; ${p2}${p.ceremony ? `; ceremony ${p.ceremony}` : ''})`;
  return `INSECURE, ${p.development ? 'development keys' : 'forgeable'}: ${p.problems.join('; ')}`;
}

/** What a command that uses the keys is told about them. */
export interface KeyPolicy {
  /** Accept keys anyone can forge proofs for (CLI: --insecure-dev-keys). */
  insecureDevKeys?: boolean;
  /** The chain the keys go to: the embedded EVM and development nodes accept insecure keys by default. */
  chain?: { kind: ChainKind; description: string };
  /** Where the one-line warning goes when insecure keys are accepted. */
  warn?: Logger;
}

/** The one-line warning printed where insecure keys are used. */
export function insecureKeysWarning(p: KeyProvenance, accepted = ''): string {
  return `warning: ${p.build} has ${p.development ? 'development keys' : 'insecure keys'}: ${p.problems[0]}${accepted ? ` (${accepted})` : ''}`;
}

/**
 * Refuses (InsecureKeysError) keys anyone can forge proofs for, unless `insecureDevKeys` or the
 * chain is the embedded EVM or a development node; warns when it lets them through. Returns the
 * provenance, or undefined when insecure keys were accepted without a look (no `warn`).
 */
export async function enforceKeyPolicy(buildDir: string, policy: KeyPolicy = {}): Promise<KeyProvenance | undefined> {
  if (policy.insecureDevKeys && !policy.warn) return undefined;
  const p = await keyProvenance(buildDir);
  if (p.secure) return p;
  const devChain = policy.chain?.kind === 'embedded' || policy.chain?.kind === 'development';
  if (!policy.insecureDevKeys && !devChain) {
    const where = policy.chain ? `to use them on ${policy.chain.description} (only the embedded EVM and a loopback node with chain id 31337 or 1337 accept them without it)` : '';
    throw new InsecureKeysError(resolve(buildDir), p.problems[0], p.development, where);
  }
  policy.warn?.(insecureKeysWarning(p, policy.insecureDevKeys ? 'accepted: --insecure-dev-keys' : `accepted on ${policy.chain!.kind === 'embedded' ? 'the embedded EVM' : `the development chain ${policy.chain!.description}`}`));
  return p;
}

import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadBuild } from '../compile/manifest.js';
import { writeJsonAtomic } from '../files.js';
import { sha256File, verifyingKeyHash } from '../hash.js';
import { requireFile } from '../paths.js';
import { snarkjs, snarkLogger, type Logger } from './curve.js';
import { requiredPower, SetupError } from './ptau.js';
import { readPhase1, readPhase2 } from './contributions.js';
import { phase1Ptau, ptauRecord, type SetupRecord } from './setup.js';

/**
 * A multi-party Groth16 phase 2 (snarkjs' zkey contribute / beacon / verify) in a folder anyone
 * can re-check: the circuit's R1CS, one zkey per step and transcript.json. Every step is verified
 * against the R1CS and the phase-1 ptau (which checks the whole chain of contributions inside the
 * new zkey) before it is recorded; the keys are secure if any one contributor destroyed their
 * entropy.
 */
export interface CeremonyStep {
  index: number;
  kind: 'initial' | 'contribution' | 'beacon';
  name: string;
  file: string;
  sha256: string;
  /** snarkjs' contribution hash (hex), which the contributor can compare with what they saw. */
  contributionHash?: string;
  beacon?: { hash: string; iterationsExp: number };
  createdAt: string;
}

export interface Transcript {
  version: 1;
  circuitSha256: string;
  r1cs: string;
  /** The phase-1 ptau; source 'dev' (secretPublic) when its contributions are all beacons. */
  ptau: SetupRecord['ptau'] & { sha256: string };
  steps: CeremonyStep[];
  finalized?: { vkHash: string; zkeySha256: string; build: string; at: string };
}

const transcriptFile = (dir: string) => join(dir, 'transcript.json');

export function readTranscript(dir: string): Transcript {
  const file = requireFile(transcriptFile(dir), 'not a ceremony folder; run `zkml ceremony init <build> --dir <folder>` first');
  return JSON.parse(readFileSync(file, 'utf8')) as Transcript;
}

function hex(h: unknown): string | undefined {
  return h instanceof Uint8Array ? Buffer.from(h).toString('hex') : undefined;
}

/**
 * Verifies a zkey against the R1CS and the ptau (snarkjs zkey verify: the key, and every
 * contribution recorded inside it); returns the contribution hashes it lists, in order.
 */
async function checkStep(dir: string, t: Transcript, file: string): Promise<string[]> {
  const errors: string[] = [];
  const info: string[] = [];
  const ok = await snarkjs.zKey.verifyFromR1cs(join(dir, t.r1cs), t.ptau.file, join(dir, file), snarkLogger((l) => info.push(l), errors));
  if (!ok) throw new SetupError(`${file} does not verify against the circuit and the ptau${errors.length ? `: ${errors.join('; ')}` : ''}`);
  // snarkjs prints "contribution #<n> <name>:" and the 64-byte hash as hex groups, newest first.
  const listed = info.flatMap((l) => {
    const n = /contribution #(\d+)/.exec(l);
    const hash = /([0-9a-f]{8}\s*){16}$/.exec(l)?.[0].replace(/\s+/g, '');
    return n && hash ? [[Number(n[1]), hash] as const] : [];
  });
  return listed.sort((a, b) => a[0] - b[0]).map(([, h]) => h);
}

/** Starts a ceremony for a build: copies its R1CS and writes the initial (contribution-free) zkey. */
export async function ceremonyInit(buildDir: string, dir: string, options: { ptau?: string; ptauCache?: string; log?: Logger } = {}): Promise<Transcript> {
  const log = options.log ?? (() => {});
  const { paths, manifest } = loadBuild(buildDir);
  if (existsSync(transcriptFile(dir))) throw new SetupError(`${dir} already holds a ceremony; pick another folder`);
  const power = requiredPower(manifest.circuit.constraints, manifest.circuit.publicSignals);
  const ptau = await phase1Ptau(power, options, log);
  if (ptau.secretPublic) log('WARNING: phase 1 is an INSECURE dev ptau (its secret is public): keys from this ceremony will be forgeable whatever phase 2 does; use --ptau with a public ceremony file for production keys');
  mkdirSync(dir, { recursive: true });
  copyFileSync(paths.r1cs, join(dir, 'circuit.r1cs'));
  const file = '0000_initial.zkey';
  const errors: string[] = [];
  const hash = await snarkjs.zKey.newZKey(join(dir, 'circuit.r1cs'), ptau.file, join(dir, file), snarkLogger(() => {}, errors));
  if (hash === -1 || errors.length) throw new SetupError(`zkey new failed: ${errors.join('; ') || 'snarkjs rejected the inputs'}`);
  const t: Transcript = {
    version: 1,
    circuitSha256: manifest.circuit.sha256,
    r1cs: 'circuit.r1cs',
    ptau: { ...ptauRecord(ptau), sha256: sha256File(ptau.file) },
    steps: [{ index: 0, kind: 'initial', name: 'initial', file, sha256: sha256File(join(dir, file)), createdAt: new Date().toISOString() }],
  };
  writeJsonAtomic(transcriptFile(dir), t);
  log(`ceremony started in ${dir} (circuit ${manifest.circuit.sha256.slice(0, 12)}, ptau 2^${ptau.power})`);
  return t;
}

function nextFile(t: Transcript, name: string): string {
  const slug = name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40) || 'contribution';
  return `${String(t.steps.length).padStart(4, '0')}_${slug}.zkey`;
}

function lastStep(t: Transcript, dir: string): CeremonyStep {
  if (t.finalized) throw new SetupError(`the ceremony in ${dir} is finalized; start a new one to change the keys`);
  const last = t.steps.at(-1)!;
  if (sha256File(join(dir, last.file)) !== last.sha256) throw new SetupError(`${last.file} changed since it was recorded; run \`zkml ceremony verify\``);
  return last;
}

/** Adds one contribution (secret entropy, random unless given), verifies it and records it. */
export async function ceremonyContribute(dir: string, options: { name: string; entropy?: string; log?: Logger }): Promise<CeremonyStep> {
  const t = readTranscript(dir);
  const prev = lastStep(t, dir);
  const file = nextFile(t, options.name);
  const errors: string[] = [];
  const entropy = options.entropy ?? randomBytes(64).toString('hex');
  const hash = await snarkjs.zKey.contribute(join(dir, prev.file), join(dir, file), options.name, entropy, snarkLogger(() => {}, errors));
  return record(dir, t, file, { kind: 'contribution', name: options.name, contributionHash: hex(hash) }, errors, options.log);
}

/** Ends the ceremony's randomness with a public beacon (e.g. a future block hash), verified and recorded. */
export async function ceremonyBeacon(dir: string, options: { beacon: string; iterationsExp?: number; name?: string; log?: Logger }): Promise<CeremonyStep> {
  if (!/^(0x)?[0-9a-fA-F]{2,}$/.test(options.beacon) || options.beacon.replace(/^0x/, '').length % 2) throw new SetupError('the beacon must be an even number of hex digits');
  const iterationsExp = options.iterationsExp ?? 10;
  if (!Number.isInteger(iterationsExp) || iterationsExp < 10 || iterationsExp > 63) throw new SetupError('beacon iterations must be an exponent from 10 to 63 (2^10 to 2^63 hash iterations)');
  const t = readTranscript(dir);
  const prev = lastStep(t, dir);
  const name = options.name ?? 'final beacon';
  const file = nextFile(t, 'beacon');
  const errors: string[] = [];
  const beacon = options.beacon.replace(/^0x/, '');
  const hash = await snarkjs.zKey.beacon(join(dir, prev.file), join(dir, file), name, beacon, iterationsExp, snarkLogger(() => {}, errors));
  return record(dir, t, file, { kind: 'beacon', name, contributionHash: hex(hash), beacon: { hash: beacon, iterationsExp } }, errors, options.log);
}

async function record(dir: string, t: Transcript, file: string, step: Pick<CeremonyStep, 'kind' | 'name' | 'contributionHash' | 'beacon'>, errors: string[], log: Logger = () => {}): Promise<CeremonyStep> {
  try {
    if (errors.length || !existsSync(join(dir, file))) throw new SetupError(`${step.kind} failed: ${errors.join('; ') || 'snarkjs wrote no key'}`);
    await checkStep(dir, t, file);
  } catch (err) {
    rmSync(join(dir, file), { force: true });
    throw err;
  }
  const entry: CeremonyStep = { index: t.steps.length, ...step, file, sha256: sha256File(join(dir, file)), createdAt: new Date().toISOString() };
  t.steps.push(entry);
  writeJsonAtomic(transcriptFile(dir), t);
  log(`${step.kind} ${entry.index} "${step.name}" verified and recorded: ${file}${entry.contributionHash ? ` (contribution hash ${entry.contributionHash.slice(0, 16)}...)` : ''}`);
  return entry;
}

export interface CeremonyCheck {
  valid: boolean;
  steps: number;
  contributions: number;
  problems: string[];
  vkHash?: string;
}

/**
 * Re-checks a whole ceremony from its folder: the ptau, the R1CS and every step's file against
 * their recorded hashes; the last zkey against the R1CS and the ptau, which verifies every
 * contribution inside it; and that those contributions are the transcript's, in order.
 */
export async function ceremonyVerify(dir: string, log: Logger = () => {}): Promise<CeremonyCheck> {
  const t = readTranscript(dir);
  const problems: string[] = [];
  if (!existsSync(t.ptau.file)) problems.push(`the ptau ${t.ptau.file} is missing`);
  else if (sha256File(t.ptau.file) !== t.ptau.sha256) problems.push(`the ptau ${t.ptau.file} is not the one the ceremony used`);
  if (!existsSync(join(dir, t.r1cs)) || sha256File(join(dir, t.r1cs)) !== t.circuitSha256) problems.push(`${t.r1cs} is not the circuit the ceremony started from`);
  for (const s of t.steps) {
    if (!existsSync(join(dir, s.file))) problems.push(`${s.file} is missing`);
    else if (sha256File(join(dir, s.file)) !== s.sha256) problems.push(`${s.file} differs from the transcript (sha256)`);
  }
  const last = t.steps.at(-1)!;
  let vkHash: string | undefined;
  if (!problems.length) {
    try {
      const inside = await checkStep(dir, t, last.file);
      const recorded = t.steps.filter((s) => s.kind !== 'initial').map((s) => s.contributionHash ?? '');
      if (inside.length !== recorded.length || inside.some((h, i) => h !== recorded[i])) {
        problems.push(`the contributions inside ${last.file} (${inside.length}) are not the transcript's (${recorded.length})`);
      } else {
        recorded.forEach((h, i) => log(`contribution ${i + 1} "${t.steps[i + 1].name}" verifies: ${h.slice(0, 32)}...`));
        vkHash = verifyingKeyHash(await snarkjs.zKey.exportVerificationKey(join(dir, last.file)));
      }
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (t.finalized && vkHash && t.finalized.vkHash !== vkHash) problems.push('the finalized verifying key hash does not match the last step');
  return { valid: problems.length === 0, steps: t.steps.length, contributions: t.steps.filter((s) => s.kind !== 'initial').length, problems, ...(vkHash ? { vkHash } : {}) };
}

/**
 * Verifies the ceremony and installs its last key in the build (zkey, verification key,
 * setup.json). The key must hold at least one secret contribution: a beacon alone is public, so
 * its delta is too. A dev phase 1 is reported: its keys stay forgeable whatever phase 2 did.
 */
export async function ceremonyFinalize(dir: string, buildDir: string, log: Logger = () => {}): Promise<{ vkHash: string; contributions: number }> {
  const t = readTranscript(dir);
  const { paths, manifest } = loadBuild(buildDir);
  if (manifest.circuit.sha256 !== t.circuitSha256) throw new SetupError(`the ceremony is for circuit ${t.circuitSha256.slice(0, 12)}, the build's is ${manifest.circuit.sha256.slice(0, 12)}`);
  if (t.steps.length < 2) throw new SetupError('the ceremony has no contribution yet; run `zkml ceremony contribute` at least once');
  const check = await ceremonyVerify(dir, log);
  if (!check.valid) throw new SetupError(`the ceremony does not verify: ${check.problems.join('; ')}`);
  const last = t.steps.at(-1)!;
  // From the key itself (ceremonyVerify has matched its records with the transcript's).
  const phase2 = await readPhase2(join(dir, last.file));
  if (phase2.contributions === phase2.beacons) {
    throw new SetupError(`the ceremony has no secret contribution (only ${phase2.beacons} public beacon(s)), so anyone can recompute its delta and forge proofs; run \`zkml ceremony contribute\` at least once`);
  }
  // Re-read: transcripts from before this check recorded a dev --ptau file as 'file'.
  const phase1 = await readPhase1(t.ptau.file);
  if (phase1.secretPublic) {
    log(`WARNING: phase 1 (${t.ptau.file}) is a dev ptau whose contributions are all public beacons: these keys are forgeable whatever phase 2 did, and verify, serve and public chains refuse them without --insecure-dev-keys`);
  }
  const vkey = await snarkjs.zKey.exportVerificationKey(join(dir, last.file));
  const tmp = `${paths.zkey}.tmp-${process.pid}`;
  copyFileSync(join(dir, last.file), tmp);
  writeFileSync(paths.vkey, JSON.stringify(vkey, null, 1));
  // The verifier contract embeds the old key: drop it so that it is regenerated from the new one.
  for (const f of [paths.verifierArtifact, paths.verifierSol]) rmSync(f, { force: true });
  renameSync(tmp, paths.zkey);
  const setupRecord: SetupRecord = {
    circuitSha256: manifest.circuit.sha256,
    ptau: { source: phase1.secretPublic ? 'dev' : 'file', file: t.ptau.file, power: t.ptau.power, secretPublic: phase1.secretPublic, contributions: phase1.contributions, beacons: phase1.beacons },
    zkeySha256: last.sha256,
    phase2Contributions: check.contributions,
    ceremony: resolve(dir),
    seconds: 0,
    createdAt: new Date().toISOString(),
  };
  writeJsonAtomic(paths.setup, setupRecord);
  const vkHash = verifyingKeyHash(vkey);
  t.finalized = { vkHash, zkeySha256: last.sha256, build: resolve(buildDir), at: new Date().toISOString() };
  writeJsonAtomic(transcriptFile(dir), t);
  log(`installed ${basename(last.file)} into ${paths.root}; verifying key hash ${vkHash}`);
  return { vkHash, contributions: check.contributions };
}

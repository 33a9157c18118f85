import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadBuild } from '../compile/manifest.js';
import { MissingArtifactError } from '../errors.js';
import { sha256File } from '../hash.js';
import { defaultPtauCache } from '../paths.js';
import { snarkjs, snarkLogger, type Logger } from './curve.js';
import { readPhase1 } from './contributions.js';
import { devZkey } from './dev_zkey.js';
import type { SetupProgress } from './fixed_base.js';
import { devPtau, requiredPower, SetupError, type PtauInfo } from './ptau.js';

export interface SetupOptions {
  /** A phase-1 ceremony file (prepared for phase 2). Without it, a cached dev ptau is used. */
  ptau?: string;
  ptauCache?: string;
  /** Replace keys that came from a ceremony or a --ptau file with what this call makes (CLI --force). */
  force?: boolean;
  log?: Logger;
  /** Progress of the long steps (a dev powers of tau, a dev proving key), for a progress bar. */
  progress?: SetupProgress;
}

export interface SetupRecord {
  circuitSha256: string;
  /** secretPublic: the ptau's contributions are all beacons (absent in older records: true for 'dev'). */
  ptau: { source: PtauInfo['source']; file: string; power: number; secretPublic?: boolean; contributions?: number; beacons?: number };
  zkeySha256: string;
  phase2Contributions: number;
  /** The ceremony folder the keys were finalized from (`zkml ceremony finalize`). */
  ceremony?: string;
  seconds: number;
  createdAt: string;
}

export interface SetupResult extends SetupRecord {
  cached: boolean;
}

/**
 * Groth16 keys for a build: proving key (zkey) with one phase-2 contribution, verification key.
 * Cached by the circuit's hash and the ptau used, so a second run returns at once. Keys of the
 * same circuit that came from a ceremony or a secure --ptau file are never replaced by other keys
 * without `force`.
 */
export async function setup(buildDir: string, options: SetupOptions = {}): Promise<SetupResult> {
  const log = options.log ?? (() => {});
  const { paths, manifest } = loadBuild(buildDir);
  const power = requiredPower(manifest.circuit.constraints, manifest.circuit.publicSignals);

  if (existsSync(paths.setup) && existsSync(paths.zkey) && existsSync(paths.vkey)) {
    const record = JSON.parse(readFileSync(paths.setup, 'utf8')) as SetupRecord;
    const samePtau = !record.ceremony && (options.ptau ? record.ptau.file === resolve(options.ptau) : record.ptau.source === 'dev');
    if (record.circuitSha256 === manifest.circuit.sha256) {
      if (samePtau) {
        log(`keys are up to date (circuit ${record.circuitSha256.slice(0, 12)}, ptau: ${record.ptau.source})`);
        return { ...record, cached: true };
      }
      // Production keys are not thrown away by a `zkml setup` that forgot its --ptau.
      if ((record.ceremony || record.ptau.source === 'file') && !options.force) {
        const from = record.ceremony ? `the ceremony in ${record.ceremony}` : `the powers of tau ${record.ptau.file}`;
        const to = options.ptau ? `keys from ${resolve(options.ptau)}` : 'INSECURE development keys';
        throw new SetupError(`${paths.root} has keys from ${from}; this setup would replace them with ${to}; pass --force (option force) to replace them`);
      }
    }
  }

  const started = performance.now();
  const ptau = await phase1Ptau(power, options, log, options.progress);
  log(`groth16 setup: circuit needs 2^${power}, using ${ptau.source} ptau 2^${ptau.power} (${ptau.file})`);
  const errors: string[] = [];
  const logger = snarkLogger(() => {}, errors);
  const zkey0 = { type: 'mem' as const };
  const tmpZkey = `${paths.zkey}.tmp-${process.pid}`;
  let fromSecret = false;
  try {
    // A dev ptau's secret is recoverable from its beacons: the key is computed from it directly
    // (src/setup/dev_zkey.ts, the same bytes as snarkjs' zkey new). With tau, alpha and beta
    // public and gamma the generator, proofs can be forged whatever delta is, so a phase-2
    // contribution would cost time and add no security. Any other ptau goes through snarkjs.
    fromSecret = ptau.secretPublic && (await devZkey(paths.r1cs, ptau.file, tmpZkey, options.progress));
    if (!fromSecret) {
      const hash = await snarkjs.zKey.newZKey(paths.r1cs, ptau.file, zkey0, logger);
      if (hash === -1 || errors.length) throw new SetupError(`groth16 setup failed: ${errors.join('; ') || 'snarkjs rejected the inputs'}`);
      await snarkjs.zKey.contribute(zkey0, tmpZkey, 'zkml phase 2', randomBytes(32).toString('hex'), logger);
      if (errors.length) throw new SetupError(`phase 2 contribution failed: ${errors.join('; ')}`);
    }
    const vkey = await snarkjs.zKey.exportVerificationKey(tmpZkey, logger);
    writeFileSync(paths.vkey, JSON.stringify(vkey, null, 1));
    renameSync(tmpZkey, paths.zkey);
  } finally {
    if (existsSync(tmpZkey)) rmSync(tmpZkey);
  }
  const record: SetupRecord = {
    circuitSha256: manifest.circuit.sha256,
    ptau: ptauRecord(ptau),
    zkeySha256: sha256File(paths.zkey),
    phase2Contributions: fromSecret ? 0 : 1,
    seconds: (performance.now() - started) / 1000,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(paths.setup, JSON.stringify(record, null, 2));
  log(`wrote ${paths.zkey} and ${paths.vkey} in ${record.seconds.toFixed(1)} s`);
  if (ptau.secretPublic) log('these are development keys: anyone who can read the verifying key can forge proofs; verify, serve and deployments to public chains refuse them without --insecure-dev-keys');
  return { ...record, cached: false };
}

/** What setup.json and a ceremony's transcript record of the phase-1 ptau. */
export function ptauRecord(ptau: PtauInfo): SetupRecord['ptau'] {
  return {
    source: ptau.source,
    file: ptau.file,
    power: ptau.power,
    secretPublic: ptau.secretPublic,
    ...(ptau.contributions !== undefined ? { contributions: ptau.contributions, beacons: ptau.beacons } : {}),
  };
}

/**
 * The phase-1 ptau for a circuit of 2^power: the --ptau ceremony file, else the cached dev ptau. A
 * --ptau file whose contributions are all beacons (a dev ptau) is one: its secret is public; it
 * is recorded as 'dev' and said so.
 */
export async function phase1Ptau(power: number, options: { ptau?: string; ptauCache?: string }, log: Logger, progress?: SetupProgress): Promise<PtauInfo> {
  if (!options.ptau) return devPtau(power, options.ptauCache ?? defaultPtauCache, log, progress);
  const ptau = userPtau(options.ptau, power);
  let p1;
  try {
    p1 = await readPhase1(ptau.file);
  } catch (err) {
    throw new SetupError(`${ptau.file}: cannot read its phase-1 contributions: ${(err as Error).message}`);
  }
  if (p1.secretPublic) {
    log(`WARNING: ${ptau.file} is a development powers of tau: ${p1.contributions ? `all ${p1.contributions} of its contributions are public beacons` : 'it has no contribution'}, so anyone can recompute its secret and forge proofs with keys made from it; use a file from a public ceremony for anything that matters`);
  }
  return { ...ptau, source: p1.secretPublic ? 'dev' : 'file', secretPublic: p1.secretPublic, contributions: p1.contributions, beacons: p1.beacons };
}

function userPtau(file: string, power: number): Omit<PtauInfo, 'secretPublic'> {
  const path = resolve(file);
  if (!existsSync(path)) throw new MissingArtifactError(path, 'the --ptau file does not exist');
  // 'ptau', u32 version, u32 section count; section 1: u32 id, u64 size, then u32 n8, q (n8 bytes), u32 power.
  // Only the header is read: ceremony files are gigabytes.
  const head = Buffer.alloc(64);
  let got: number;
  try {
    const fd = openSync(path, 'r');
    try {
      got = readSync(fd, head, 0, 64, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new SetupError(`${path} cannot be read: ${(err as Error).message}`);
  }
  if (got < 64 || head.toString('latin1', 0, 4) !== 'ptau' || head.readUInt32LE(12) !== 1) {
    throw new SetupError(`${path} is not a powers-of-tau file`);
  }
  const n8 = head.readUInt32LE(24);
  if (n8 !== 32) throw new SetupError(`${path} is not a BN254 powers-of-tau file`);
  const filePower = head.readUInt32LE(28 + n8);
  if (filePower < power) throw new SetupError(`${path} holds 2^${filePower} powers; this circuit needs 2^${power}`);
  return { file: path, power: filePower, source: 'file' };
}

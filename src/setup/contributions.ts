import * as binFileUtils from '@iden3/binfileutils';
import { FR } from './lagrange.js';
import { snarkjsInternals, type SnarkjsInternals } from './snarkjs_internals.js';

/**
 * Who contributed to a set of Groth16 keys, read from the files themselves: a ptau's phase-1
 * contribution records (section 7) and a zkey's phase-2 records (section 10, snarkjs' "MPC
 * params"). In both, a contribution of type 1 is a beacon: its randomness is derived from a public
 * value that the file records, so it adds no secret. Keys are forgeable when every contribution
 * of either phase is a beacon (or there is none).
 */

/** The phase-1 toxic waste. */
export interface Phase1Secret {
  tau: bigint;
  alpha: bigint;
  beta: bigint;
}

export interface Phase1Contributions {
  contributions: number;
  beacons: number;
  /** alpha times the G1 generator after the last contribution (affine, decimal): a key's vk_alpha_1 comes from it unchanged. */
  alpha1?: string[];
  /** No contribution, or only beacons: anyone can recompute tau, alpha and beta. */
  secretPublic: boolean;
  /** The recomputed secret, checked against the file (asked for, and the beacons are cheap to replay). */
  secret?: Phase1Secret;
}

export interface Phase2Contributions {
  contributions: number;
  beacons: number;
  names: string[];
  /** The zkey's delta in G2 as the verification key writes it (decimal affine coordinates). */
  delta2: string[][];
}

type Point = unknown;
/** What the phase-1 check needs of snarkjs' curve (src/setup/dev_zkey.ts passes its own view of it). */
interface Phase1Curve {
  G1: { g: Point; eq(a: Point, b: Point): boolean; timesFr(p: Point, s: Uint8Array): Point; toAffine(p: Point): Point; toObject(p: Point): bigint[] };
  Fr: { e(v: bigint): Uint8Array; toObject(a: Uint8Array): bigint };
}
interface PtauContribution {
  type: number;
  beaconHash?: Uint8Array;
  numIterationsExp?: number;
  tauG1: Point;
  alphaG1: Point;
  betaG1: Point;
  nextChallenge: Uint8Array;
}

/** Beacons of more than 2^this many hash iterations are not replayed here (they stay public). */
const MAX_REPLAYED_ITERATIONS_EXP = 16;

/**
 * The phase-1 contributions of an open ptau (fd and sections from binfileutils, curve and
 * ceremonyPower from snarkjs' readPTauHeader). With `recover`, a ptau made only of beacons has
 * its secret replayed beacon by beacon (snarkjs' keyFromBeacon on each contribution's challenge)
 * and checked against the points the file records; the dev setup computes its keys from it.
 */
export async function phase1Contributions(
  utils: SnarkjsInternals['utils'],
  curve: Phase1Curve,
  fd: unknown,
  sections: unknown,
  ceremonyPower: number,
  options: { recover?: boolean } = {},
): Promise<Phase1Contributions> {
  const list = (await utils.readContributions(fd, curve, sections)) as PtauContribution[];
  const beacons = list.filter((c) => c.type === 1).length;
  const secretPublic = beacons === list.length;
  const last = list.at(-1);
  const alpha1 = last ? curve.G1.toObject(curve.G1.toAffine(last.alphaG1)).slice(0, 2).map(String) : undefined;
  const result: Phase1Contributions = { contributions: list.length, beacons, secretPublic, ...(alpha1 ? { alpha1 } : {}) };
  if (!options.recover || !secretPublic || list.length === 0 || list.some((c) => !c.beaconHash || (c.numIterationsExp ?? 99) > MAX_REPLAYED_ITERATIONS_EXP)) return result;
  let challenge: Uint8Array = utils.calculateFirstChallengeHash(curve, ceremonyPower);
  const secret: Phase1Secret = { tau: 1n, alpha: 1n, beta: 1n };
  const times = (s: bigint) => curve.G1.timesFr(curve.G1.g, curve.Fr.e(s));
  for (const c of list) {
    const key = await utils.keyFromBeacon(curve, challenge, c.beaconHash, c.numIterationsExp);
    secret.tau = (secret.tau * curve.Fr.toObject(key.tau.prvKey)) % FR;
    secret.alpha = (secret.alpha * curve.Fr.toObject(key.alpha.prvKey)) % FR;
    secret.beta = (secret.beta * curve.Fr.toObject(key.beta.prvKey)) % FR;
    // Each record holds the accumulated tau, alpha and beta times the generator after it.
    if (!curve.G1.eq(times(secret.tau), c.tauG1) || !curve.G1.eq(times(secret.alpha), c.alphaG1) || !curve.G1.eq(times(secret.beta), c.betaG1)) return result;
    challenge = c.nextChallenge;
  }
  return { ...result, secret };
}

/** The phase-1 contributions of a ptau file (only its header and section 7 are read). */
export async function readPhase1(ptauFile: string): Promise<Phase1Contributions> {
  const { utils } = await snarkjsInternals();
  const { fd, sections } = await binFileUtils.readBinFile(ptauFile, 'ptau', 1);
  try {
    const { curve, ceremonyPower } = (await utils.readPTauHeader(fd, sections)) as { curve: Phase1Curve; ceremonyPower: number };
    return await phase1Contributions(utils, curve, fd, sections, ceremonyPower);
  } finally {
    await fd.close();
  }
}

/** The phase-2 contributions of a Groth16 zkey (its header and section 10) and its delta. */
export async function readPhase2(zkeyFile: string): Promise<Phase2Contributions> {
  const { zkeyUtils } = await snarkjsInternals();
  const { fd, sections } = await binFileUtils.readBinFile(zkeyFile, 'zkey', 2);
  try {
    const header = (await zkeyUtils.readHeader(fd, sections)) as { protocol: string; curve: { G2: { toObject(p: Point): bigint[][] } }; vk_delta_2: Point };
    if (header.protocol !== 'groth16') throw new Error(`${zkeyFile} is a ${header.protocol} key, not Groth16`);
    const mpc = (await zkeyUtils.readMPCParams(fd, header.curve, sections)) as { contributions: { type: number; name?: string }[] };
    return {
      contributions: mpc.contributions.length,
      beacons: mpc.contributions.filter((c) => c.type === 1).length,
      names: mpc.contributions.map((c) => c.name ?? ''),
      delta2: header.curve.G2.toObject(header.vk_delta_2).map((c) => c.map(String)),
    };
  } finally {
    await fd.close();
  }
}

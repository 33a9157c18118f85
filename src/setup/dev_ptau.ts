import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as binFileUtils from '@iden3/binfileutils';
import { snarkjs } from './curve.js';
import { lagrangeScalars, mod } from './lagrange.js';

const require = createRequire(import.meta.url);
const snarkjsSrc = join(dirname(require.resolve('snarkjs')), '..', 'src');

interface Curve {
  G1: Group;
  G2: Group;
  Fr: { w: Uint8Array[]; toObject(a: Uint8Array): bigint; e(v: bigint | number): Uint8Array; mul(a: Uint8Array, b: Uint8Array): Uint8Array };
  tm: { concurrency: number; queueAction(task: unknown[]): Promise<Uint8Array[]> };
}
interface Group {
  F: { n8: number };
  oneAffine: Uint8Array;
}

/** The toxic waste of a one-contribution phase 1, known only to whoever generated it. */
export interface Phase1Secret {
  tau: bigint;
  alpha: bigint;
  beta: bigint;
}

/**
 * Fast development powers of tau. Phase 1 is snarkjs' own: a new accumulator and one beacon
 * contribution from a fresh random beacon (so the file and its contribution record are standard
 * and verifiable). The Lagrange sections that `prepare phase2` would compute with an FFT over
 * the group (minutes at 2^14) are computed instead as scalars from the beacon's secret, which
 * exists only during this call, then multiplied into the generators in parallel WASM tasks.
 * The result is byte-for-byte what `snarkjs powersoftau prepare phase2` writes.
 */
export async function generateDevPtau(power: number, file: string, log: (l: string) => void): Promise<void> {
  const phase1 = `${file}.phase1`;
  try {
    let t = performance.now();
    const secret = await devPhase1(power, phase1);
    log(`  phase 1 (new accumulator + beacon contribution): ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    await preparePhase2FromSecret(phase1, file, secret);
    log(`  Lagrange basis from the known secret: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(phase1, { force: true });
  }
}

/** New accumulator + one beacon contribution; returns the contribution's secret. */
export async function devPhase1(power: number, file: string): Promise<Phase1Secret> {
  const utils = await snarkjsUtils();
  const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as Curve;
  const beacon = randomBytes(32).toString('hex');
  const iterationsExp = 10;
  try {
    await snarkjs.powersOfTau.newAccumulator(curve, power, `${file}.0`);
    await (snarkjs.powersOfTau as unknown as { beacon(...a: unknown[]): Promise<unknown> }).beacon(`${file}.0`, file, 'zkml dev (insecure)', beacon, iterationsExp);
  } finally {
    rmSync(`${file}.0`, { force: true });
  }
  // The same derivation snarkjs' beacon used: first challenge hash -> beacon RNG -> keys.
  const challenge = utils.calculateFirstChallengeHash(curve, power);
  const key = await utils.keyFromBeacon(curve, challenge, Buffer.from(beacon, 'hex'), iterationsExp);
  return { tau: curve.Fr.toObject(key.tau.prvKey), alpha: curve.Fr.toObject(key.alpha.prvKey), beta: curve.Fr.toObject(key.beta.prvKey) };
}

/** What `snarkjs powersoftau prepare phase2` computes, from the secret instead of by group FFTs. */
export async function preparePhase2FromSecret(phase1: string, file: string, secret: Phase1Secret): Promise<void> {
  const utils = await snarkjsUtils();
  const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as Curve;
  const { tau, alpha, beta } = secret;
  const { fd: fdOld, sections } = await binFileUtils.readBinFile(phase1, 'ptau', 1);
  const { power } = await utils.readPTauHeader(fdOld, sections);
  const fdNew = await binFileUtils.createBinFile(file, 'ptau', 1, 11);
  try {
    await utils.writePTauHeader(fdNew, curve, power);
    for (let s = 2; s <= 7; s++) await binFileUtils.copySection(fdOld, sections, fdNew, s);
    // Section 12 holds tauG1 for every domain 2^0 .. 2^(power+1); 13-15 (tauG2, alphaTauG1,
    // betaTauG1) for 2^0 .. 2^power. Each power's scalars are computed once.
    const lagrange = Array.from({ length: power + 2 }, (_, p) => lagrangeScalars(tau, p, curve.Fr.toObject(curve.Fr.w[p]), p === power + 1));
    const sections12to15: [number, Group, (p: number) => bigint[], number][] = [
      [12, curve.G1, (p) => lagrange[p], power + 1],
      [13, curve.G2, (p) => lagrange[p], power],
      [14, curve.G1, (p) => lagrange[p].map((s) => mod(s * alpha)), power],
      [15, curve.G1, (p) => lagrange[p].map((s) => mod(s * beta)), power],
    ];
    for (const [id, group, scalars, maxPower] of sections12to15) {
      await binFileUtils.startWriteSection(fdNew, id);
      for (let p = 0; p <= maxPower; p++) await fdNew.write(await fixedBaseMul(curve, group, scalars(p)));
      await binFileUtils.endWriteSection(fdNew);
    }
  } finally {
    await fdOld.close();
    await fdNew.close();
  }
}

async function snarkjsUtils() {
  return import(pathToFileURL(join(snarkjsSrc, 'powersoftau_utils.js')).href);
}

/** scalar_i * generator for every scalar, affine Montgomery form, split over the curve's threads. */
async function fixedBaseMul(curve: Curve, group: Group, scalars: bigint[]): Promise<Uint8Array> {
  const prefix = group === curve.G1 ? 'g1m' : 'g2m';
  const sAffine = group.F.n8 * 2;
  const sJacobian = group.F.n8 * 3;
  const chunk = Math.ceil(scalars.length / curve.tm.concurrency);
  const jobs: Promise<Uint8Array[]>[] = [];
  for (let start = 0; start < scalars.length; start += chunk) {
    const m = Math.min(chunk, scalars.length - start);
    const bytes = new Uint8Array(m * 32);
    for (let i = 0; i < m; i++) bytes.set(Buffer.from(scalars[start + i].toString(16).padStart(64, '0'), 'hex').reverse(), i * 32);
    const task: unknown[] = [
      { cmd: 'ALLOCSET', var: 0, buff: group.oneAffine },
      { cmd: 'ALLOCSET', var: 1, buff: bytes },
      { cmd: 'ALLOC', var: 2, len: m * sJacobian },
      { cmd: 'ALLOC', var: 3, len: m * sAffine },
    ];
    for (let i = 0; i < m; i++) {
      task.push({ cmd: 'CALL', fnName: `${prefix}_timesScalarAffine`, params: [{ var: 0 }, { var: 1, offset: i * 32 }, { val: 32 }, { var: 2, offset: i * sJacobian }] });
    }
    task.push({ cmd: 'CALL', fnName: `${prefix}_batchToAffine`, params: [{ var: 2 }, { val: m }, { var: 3 }] });
    task.push({ cmd: 'GET', out: 0, var: 3, len: m * sAffine });
    jobs.push(curve.tm.queueAction(task));
  }
  const parts = await Promise.all(jobs);
  const out = new Uint8Array(scalars.length * sAffine);
  let offset = 0;
  for (const [part] of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

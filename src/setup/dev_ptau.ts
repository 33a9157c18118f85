import { randomBytes } from 'node:crypto';
import * as binFileUtils from '@iden3/binfileutils';
import { snarkjs } from './curve.js';
import { FixedBasePool, meter, POINT_BYTES, type GroupName, type SetupProgress } from './fixed_base.js';
import { FR, lagrangeScalars, mod } from './lagrange.js';
import { snarkjsInternals } from './snarkjs_internals.js';

type Point = unknown;
interface Group {
  batchLEMtoC(b: Uint8Array): Promise<Uint8Array>;
  batchLEMtoU(b: Uint8Array): Promise<Uint8Array>;
  fromRprLEM(b: Uint8Array, offset: number): Point;
}
interface Curve {
  G1: Group;
  G2: Group;
  F1: { n8: number };
  F2: { n8: number };
  Fr: { w: Uint8Array[]; toObject(a: Uint8Array): bigint };
}
interface BinFile extends binFileUtils.BinFile {
  read(bytes: number): Promise<Uint8Array>;
}

/** Points computed and written per step; bounds memory at any power. */
const CHUNK_POINTS = 1 << 16;
/** snarkjs' minimum for a beacon's hash iterations (2^10 SHA-256 rounds). */
const BEACON_ITERATIONS_EXP = 10;

/**
 * A development powers of tau, ready for phase 2, from one local secret: the file
 * `snarkjs powersoftau new` + `beacon` + `prepare phase2` would write for the same beacon, byte for
 * byte (tested), so `snarkjs powersoftau verify` accepts it.
 *
 * snarkjs reaches it through generic scalar multiplications of every point (the beacon) and FFTs
 * over the group (prepare phase2). With the secret (tau, alpha, beta) known, every point is
 * s * G for a scalar s computed in the field, G a generator: tau^i for phase 1, the Lagrange
 * polynomials at tau for phase 2. Fixed-base multiplication with window tables
 * (src/setup/fixed_base_worker.ts) on all cores does that about 8x faster than snarkjs' per-point
 * multiplication. The secret exists only during this call; whoever knows the beacon could rebuild
 * it, which is why this file is for development only.
 */
export async function generateDevPtau(power: number, file: string, log: (l: string) => void, beacon = randomBytes(32).toString('hex'), progress?: SetupProgress): Promise<void> {
  const { utils, misc, blake2b } = await snarkjsInternals();
  const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as Curve;
  // Phase 1: tauG1 (2n - 1), alphaTauG1, betaTauG1 (n each) and tauG2 (n) + betaG2; then the
  // Lagrange bases of every size up to 2n (tauG1) or n (the others).
  const n = 2 ** power;
  const pool = new FixedBasePool(undefined, meter(`dev powers of tau 2^${power}`, 2 * n - 1 + 2 * n + (4 * n - 1) + 2 * (2 * n - 1), n + 1 + (2 * n - 1), progress));
  const fd = (await binFileUtils.createBinFile(file, 'ptau', 1, 11)) as BinFile;
  try {
    let t = performance.now();
    const challenge: Uint8Array = utils.calculateFirstChallengeHash(curve, power);
    const key = await utils.keyFromBeacon(curve, challenge, Buffer.from(beacon, 'hex'), BEACON_ITERATIONS_EXP);
    const [tau, alpha, beta] = [key.tau, key.alpha, key.beta].map((k: { prvKey: Uint8Array }) => curve.Fr.toObject(k.prvKey));
    await utils.writePTauHeader(fd, curve, power);

    // Phase 1, as snarkjs' beacon writes it onto a new accumulator (all points = generator).
    const response = blake2b();
    response.update(challenge);
    const starts: number[] = [];
    const phase1 = async (id: number, group: GroupName, n: number, first: bigint) => {
      await binFileUtils.startWriteSection(fd, id);
      starts[id] = fd.pos;
      const firstPoints: Point[] = [];
      let s = first;
      for (let i = 0; i < n; i += CHUNK_POINTS) {
        const scalars = new Array<bigint>(Math.min(CHUNK_POINTS, n - i));
        for (let k = 0; k < scalars.length; k++, s = (s * tau) % FR) scalars[k] = s;
        const points = await pool.mul(group, scalars);
        await fd.write(points);
        response.update(await curve[group].batchLEMtoC(points));
        if (i === 0) for (let k = 0; k < Math.min(2, n); k++) firstPoints.push(curve[group].fromRprLEM(points, k * POINT_BYTES[group]));
      }
      await binFileUtils.endWriteSection(fd);
      return firstPoints;
    };
    const contribution = {
      name: 'zkml dev (insecure)',
      type: 1,
      numIterationsExp: BEACON_ITERATIONS_EXP,
      beaconHash: Buffer.from(beacon, 'hex'),
      key,
      tauG1: (await phase1(2, 'G1', 2 * n - 1, 1n))[1],
      tauG2: (await phase1(3, 'G2', n, 1n))[1],
      alphaG1: (await phase1(4, 'G1', n, alpha))[0],
      betaG1: (await phase1(5, 'G1', n, beta))[0],
      betaG2: (await phase1(6, 'G2', 1, beta))[0],
      partialHash: misc.toPartialHash(response),
      nextChallenge: new Uint8Array(0) as Uint8Array,
    };
    const pubKey = new Uint8Array(curve.F1.n8 * 2 * 6 + curve.F2.n8 * 2 * 3);
    utils.toPtauPubKeyRpr(pubKey, 0, curve, key, false);
    response.update(pubKey);
    const next = blake2b();
    next.update(response.digest());
    for (const [id, group, count] of [[2, 'G1', 2 * n - 1], [3, 'G2', n], [4, 'G1', n], [5, 'G1', n], [6, 'G2', 1]] as const) {
      const end = fd.pos;
      fd.pos = starts[id];
      for (let i = 0; i < count; i += CHUNK_POINTS) {
        next.update(await curve[group].batchLEMtoU(await fd.read(Math.min(CHUNK_POINTS, count - i) * POINT_BYTES[group])));
      }
      fd.pos = end;
    }
    contribution.nextChallenge = next.digest();
    await utils.writeContributions(fd, curve, [contribution]);
    log(`  phase 1 (tau^i in G1 and G2, beacon contribution record): ${seconds(t)} s`);

    // Phase 2 preparation: section 12 holds tauG1 in the Lagrange basis of every domain 2^0 ..
    // 2^(power+1); 13-15 (tauG2, alphaTauG1, betaTauG1) for 2^0 .. 2^power.
    t = performance.now();
    const lagrangeCache = new Map<number, bigint[]>();
    const lagrange = (p: number) => {
      if (!lagrangeCache.has(p)) lagrangeCache.set(p, lagrangeScalars(tau, p, curve.Fr.toObject(curve.Fr.w[p]), p === power + 1));
      return lagrangeCache.get(p)!;
    };
    const sections: [number, GroupName, number, bigint][] = [
      [12, 'G1', power + 1, 1n],
      [13, 'G2', power, 1n],
      [14, 'G1', power, alpha],
      [15, 'G1', power, beta],
    ];
    for (const [id, group, maxPower, factor] of sections) {
      await binFileUtils.startWriteSection(fd, id);
      for (let p = 0; p <= maxPower; p++) {
        const scalars = lagrange(p);
        for (let i = 0; i < scalars.length; i += CHUNK_POINTS) {
          const part = scalars.slice(i, i + CHUNK_POINTS).map((s) => (factor === 1n ? s : mod(s * factor)));
          await fd.write(await pool.mul(group, part));
        }
      }
      await binFileUtils.endWriteSection(fd);
    }
    log(`  Lagrange basis from the known secret: ${seconds(t)} s`);
  } finally {
    await fd.close();
    await pool.close();
  }
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

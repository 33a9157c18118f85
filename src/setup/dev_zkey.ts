import * as binFileUtils from '@iden3/binfileutils';
import { readR1csHeader } from 'r1csfile';
import { FixedBasePool, meter, POINT_BYTES, type GroupName, type SetupProgress } from './fixed_base.js';
import { FR, lagrangeScalars } from './lagrange.js';
import { SetupError } from './ptau.js';
import { phase1Contributions, type Phase1Secret } from './contributions.js';
import { snarkjsInternals, type Hasher } from './snarkjs_internals.js';

interface Group {
  batchLEMtoU(b: Uint8Array): Promise<Uint8Array>;
  toRprLEM(b: Uint8Array, o: number, p: unknown): void;
  toRprUncompressed(b: Uint8Array, o: number, p: unknown): void;
  timesFr(p: unknown, s: Uint8Array): unknown;
  eq(a: unknown, b: unknown): boolean;
  toAffine(p: unknown): unknown;
  toObject(p: unknown): bigint[];
  g: unknown;
  F: { n8: number };
}
interface Curve {
  G1: Group;
  G2: Group;
  q: bigint;
  r: bigint;
  Fr: { n8: number; s: number; w: Uint8Array[]; e(v: bigint | number): Uint8Array; toObject(a: Uint8Array): bigint; fromRprLE(b: Uint8Array, o: number): Uint8Array; toRprLE(b: Uint8Array, o: number, v: Uint8Array): void; mul(a: Uint8Array, b: Uint8Array): Uint8Array };
  tm: { concurrency: number; queueAction(task: unknown[]): Promise<Uint8Array[]> };
}
type Fd = binFileUtils.BinFile & {
  read(n: number, pos?: number): Promise<Uint8Array>;
  readToBuffer(b: Uint8Array, off: number, len: number, pos: number): Promise<void>;
  writeULE32(v: number): Promise<void>;
};

/**
 * The Groth16 proving key `snarkjs zkey new` writes, byte for byte (tested), for a dev powers of
 * tau. Its contributions are beacons the file records, so tau, alpha and beta can be rebuilt
 * (src/setup/contributions.ts; which is also why a dev ptau is insecure). With them, every key
 * point that snarkjs assembles as a multi-exponentiation over Lagrange-basis points,
 * sum_k coef_k * L_k(tau) * G, is one scalar computed in the field and one fixed-base
 * multiplication (src/setup/fixed_base.ts): seconds instead of a minute at 2^16. Returns false
 * (writing nothing) when the ptau's secret cannot be rebuilt, so that the caller uses snarkjs.
 */
export async function devZkey(r1csFile: string, ptauFile: string, zkeyFile: string, progress?: SetupProgress): Promise<boolean> {
  const { utils, blake2b } = await snarkjsInternals();
  const { fd: fdPTau, sections: sectionsPTau } = (await binFileUtils.readBinFile(ptauFile, 'ptau', 1)) as unknown as { fd: Fd; sections: { p: number; size: number }[][] };
  try {
    const { curve, power, ceremonyPower } = (await utils.readPTauHeader(fdPTau, sectionsPTau)) as { curve: Curve; power: number; ceremonyPower: number };
    const { secret } = await phase1Contributions(utils, curve, fdPTau, sectionsPTau, ceremonyPower, { recover: true });
    if (!secret || !sectionsPTau[12]) return false;
    await writeZkey(curve, blake2b, r1csFile, fdPTau, sectionsPTau, power, secret, zkeyFile, progress);
    return true;
  } finally {
    await fdPTau.close();
  }
}

// The structure below follows snarkjs' zkey_new.js step by step, so that the bytes and the
// circuit hash are the same; only composeAndWritePoints computes its points differently.
async function writeZkey(
  curve: Curve,
  blake2b: () => Hasher,
  r1csFile: string,
  fdPTau: Fd,
  sectionsPTau: { p: number; size: number }[][],
  power: number,
  secret: Phase1Secret,
  zkeyFile: string,
  progress?: SetupProgress,
): Promise<void> {
  const csHasher = blake2b();
  const { fd: fdR1cs, sections: sectionsR1cs } = await binFileUtils.readBinFile(r1csFile, 'r1cs', 1);
  const r1cs = (await readR1csHeader(fdR1cs, sectionsR1cs, { singleThread: true })) as { prime: bigint; nVars: number; nOutputs: number; nPubInputs: number; nConstraints: number };
  const fdZKey = (await binFileUtils.createBinFile(zkeyFile, 'zkey', 1, 10)) as Fd;
  // IC and C, A, B1 (one G1 point per wire each), B2 (one G2 point per wire).
  const pool = new FixedBasePool(undefined, meter('proving key', 3 * r1cs.nVars, r1cs.nVars, progress));
  try {
    const sG1 = curve.G1.F.n8 * 2;
    const sG2 = curve.G2.F.n8 * 2;
    if (r1cs.prime !== curve.r) throw new SetupError('the R1CS is not over the BN254 scalar field');
    // snarkjs: log2(n) + 1 with log2 the index of the highest set bit.
    const cirPower = Math.floor(Math.log2(r1cs.nConstraints + r1cs.nPubInputs + r1cs.nOutputs)) + 1;
    if (cirPower > power) throw new SetupError(`circuit too big for this powers of tau: needs 2^${cirPower}, the file has 2^${power}`);
    const nPublic = r1cs.nOutputs + r1cs.nPubInputs;
    const domainSize = 2 ** cirPower;

    await binFileUtils.startWriteSection(fdZKey, 1);
    await fdZKey.writeULE32(1); // Groth16
    await binFileUtils.endWriteSection(fdZKey);

    await binFileUtils.startWriteSection(fdZKey, 2);
    await fdZKey.writeULE32(32);
    await binFileUtils.writeBigInt(fdZKey, curve.q, 32);
    await fdZKey.writeULE32(32);
    await binFileUtils.writeBigInt(fdZKey, curve.r, 32);
    await fdZKey.writeULE32(r1cs.nVars);
    await fdZKey.writeULE32(nPublic);
    await fdZKey.writeULE32(domainSize);
    for (const [section, group, size] of [[4, curve.G1, sG1], [5, curve.G1, sG1], [6, curve.G2, sG2]] as const) {
      const point = await fdPTau.read(size, sectionsPTau[section][0].p);
      await fdZKey.write(point);
      csHasher.update(await group.batchLEMtoU(point));
    }
    const bg1 = new Uint8Array(sG1);
    const bg2 = new Uint8Array(sG2);
    const bg1U = new Uint8Array(sG1);
    const bg2U = new Uint8Array(sG2);
    curve.G1.toRprLEM(bg1, 0, curve.G1.g);
    curve.G2.toRprLEM(bg2, 0, curve.G2.g);
    curve.G1.toRprUncompressed(bg1U, 0, curve.G1.g);
    curve.G2.toRprUncompressed(bg2U, 0, curve.G2.g);
    await fdZKey.write(bg2); // gamma2
    await fdZKey.write(bg1); // delta1
    await fdZKey.write(bg2); // delta2
    csHasher.update(bg2U);
    csHasher.update(bg1U);
    csHasher.update(bg2U);
    await binFileUtils.endWriteSection(fdZKey);

    const sR1cs = (await (binFileUtils as unknown as { readSection(fd: unknown, s: unknown, id: number): Promise<Uint8Array> }).readSection(fdR1cs, sectionsR1cs, 2)) as Uint8Array;
    const view = new DataView(sR1cs.buffer, sR1cs.byteOffset, sR1cs.byteLength);
    const coefAt = (p: number) => view.getBigUint64(p, true) | (view.getBigUint64(p + 8, true) << 64n) | (view.getBigUint64(p + 16, true) << 128n) | (view.getBigUint64(p + 24, true) << 192n);

    // One pass counts the A and B terms (section 4's size), the next writes section 4 and sums, per
    // wire, a = sum of A coef * L_c(tau), b (B) and c (C): every key point's scalar is built from
    // these three, so memory is three numbers per wire, not a list of terms per key point.
    let nCoefs = nPublic + 1;
    for (let pos = 0, c = 0; c < r1cs.nConstraints; c++) {
      for (const matrix of [0, 1, 2]) {
        const n = view.getUint32(pos, true);
        pos += 4 + n * 36;
        if (matrix < 2) nCoefs += n;
      }
    }
    const lagrange = lagrangeScalars(secret.tau, cirPower, curve.Fr.toObject(curve.Fr.w[cirPower]));
    const sums = [0, 1, 2].map(() => new Array<bigint>(r1cs.nVars).fill(0n));
    // Section 4: the coefficients in snarkjs' order (per constraint, A's then B's; then one A term
    // per public signal), each stored as coef * R^2 mod r (Montgomery form times R, as snarkjs does).
    const R2 = ((1n << 256n) % FR) ** 2n % FR;
    const buffSection = new Uint8Array(nCoefs * 44 + 4);
    const sv = new DataView(buffSection.buffer);
    sv.setUint32(0, nCoefs, true);
    let i = 0;
    const writeCoef = (m: number, c: number, s: number, coef: bigint) => {
      const o = 4 + i++ * 44;
      sv.setUint32(o, m, true);
      sv.setUint32(o + 4, c, true);
      sv.setUint32(o + 8, s, true);
      let v = (coef * R2) % FR;
      for (let k = 0; k < 4; k++, v >>= 64n) sv.setBigUint64(o + 12 + k * 8, v & 0xffffffffffffffffn, true);
    };
    for (let pos = 0, c = 0; c < r1cs.nConstraints; c++) {
      for (const matrix of [0, 1, 2]) {
        const n = view.getUint32(pos, true);
        pos += 4;
        const sum = sums[matrix];
        for (let k = 0; k < n; k++, pos += 36) {
          const s = view.getUint32(pos, true);
          const coef = coefAt(pos + 4);
          sum[s] += coef * lagrange[c];
          if (matrix < 2) writeCoef(matrix, c, s, coef);
        }
      }
    }
    for (let s = 0; s <= nPublic; s++) {
      sums[0][s] += lagrange[r1cs.nConstraints + s];
      writeCoef(0, r1cs.nConstraints + s, s, 1n);
    }
    await binFileUtils.startWriteSection(fdZKey, 4);
    await fdZKey.write(buffSection);
    await binFileUtils.endWriteSection(fdZKey);
    const [a, b, c] = sums.map((xs) => xs.map((x) => x % FR));
    sums.length = 0;
    // A = a, B1 = B2 = b; the public (IC) and private (C) points take beta*a + alpha*b + c.
    const abc = (s: number) => (secret.beta * a[s] + secret.alpha * b[s] + c[s]) % FR;

    const hashU32 = (n: number) => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, n, false);
      csHasher.update(b);
    };
    const composeAndWritePoints = async (id: number, group: GroupName, scalars: readonly bigint[]) => {
      hashU32(scalars.length);
      await binFileUtils.startWriteSection(fdZKey, id);
      const points = await pool.mul(group, scalars);
      await fdZKey.write(points);
      const G = group === 'G1' ? curve.G1 : curve.G2;
      const chunk = (1 << 15) * POINT_BYTES[group];
      for (let o = 0; o < points.length; o += chunk) csHasher.update(await G.batchLEMtoU(points.subarray(o, o + chunk)));
      await binFileUtils.endWriteSection(fdZKey);
    };
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

    await composeAndWritePoints(3, 'G1', range(0, nPublic + 1).map(abc));

    // Section 9 (H): the odd points of tauG1's Lagrange basis at twice the domain, from the ptau.
    await binFileUtils.startWriteSection(fdZKey, 9);
    const hOut = new Uint8Array(domainSize * sG1);
    if (cirPower < curve.Fr.s) {
      const tauG1 = await fdPTau.read(domainSize * 2 * sG1, sectionsPTau[12][0].p + (domainSize * 2 - 1) * sG1);
      for (let i = 0; i < domainSize; i++) hOut.set(tauG1.subarray((i * 2 + 1) * sG1, (i * 2 + 2) * sG1), i * sG1);
    } else {
      throw new SetupError('circuit too big for BN254');
    }
    await fdZKey.write(hOut);
    await binFileUtils.endWriteSection(fdZKey);

    // The circuit hash covers tauG1[i + n] - tauG1[i] from phase 1, as snarkjs computes it.
    hashU32(domainSize - 1);
    const CHUNK = 1 << 14;
    for (let i = 0; i < domainSize - 1; i += CHUNK) {
      const n = Math.min(domainSize - 1, CHUNK);
      const b1 = await fdPTau.read(n * sG1, sectionsPTau[2][0].p + (i + domainSize) * sG1);
      const b2 = await fdPTau.read(n * sG1, sectionsPTau[2][0].p + i * sG1);
      const per = Math.floor(n / curve.tm.concurrency);
      const jobs: Promise<Uint8Array[]>[] = [];
      for (let t = 0; t < curve.tm.concurrency; t++) {
        const m = t < curve.tm.concurrency - 1 ? per : n - t * per;
        if (m === 0) continue;
        const task: unknown[] = [
          { cmd: 'ALLOCSET', var: 0, buff: b1.slice(t * per * sG1, (t * per + m) * sG1) },
          { cmd: 'ALLOCSET', var: 1, buff: b2.slice(t * per * sG1, (t * per + m) * sG1) },
          { cmd: 'ALLOC', var: 2, len: m * 96 },
        ];
        for (let k = 0; k < m; k++) task.push({ cmd: 'CALL', fnName: 'g1m_subAffine', params: [{ var: 0, offset: k * sG1 }, { var: 1, offset: k * sG1 }, { var: 2, offset: k * 96 }] });
        task.push({ cmd: 'CALL', fnName: 'g1m_batchToAffine', params: [{ var: 2 }, { val: m }, { var: 2 }] });
        task.push({ cmd: 'CALL', fnName: 'g1m_batchLEMtoU', params: [{ var: 2 }, { val: m }, { var: 2 }] });
        task.push({ cmd: 'GET', out: 0, var: 2, len: m * sG1 });
        jobs.push(curve.tm.queueAction(task));
      }
      for (const [r] of await Promise.all(jobs)) csHasher.update(r);
    }

    await composeAndWritePoints(8, 'G1', range(nPublic + 1, r1cs.nVars).map(abc));
    await composeAndWritePoints(5, 'G1', a);
    await composeAndWritePoints(6, 'G1', b);
    await composeAndWritePoints(7, 'G2', b);

    await binFileUtils.startWriteSection(fdZKey, 10);
    await fdZKey.write(csHasher.digest());
    await fdZKey.writeULE32(0);
    await binFileUtils.endWriteSection(fdZKey);
  } finally {
    await fdZKey.close();
    await fdR1cs.close();
    await pool.close();
  }
}


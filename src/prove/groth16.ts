import { buildBn128 } from 'ffjavascript';
import type { Groth16Proof } from 'snarkjs';
import { CircuitMismatchError, KeyFormatError } from '../errors.js';
import { withRoom } from '../setup/wasm_memory.js';

/**
 * Groth16 proving with snarkjs' own building blocks (ffjavascript's WASM FFTs and multi-
 * exponentiations on the curve's threads), the same steps as snarkjs' groth16_prove.js, with two
 * differences that matter at 10^5-10^6 constraints:
 *  - the QAP evaluations A.w, B.w, A.w*B.w are one call into the curve's WASM (qap_buildABC)
 *    instead of snarkjs' JavaScript loop over every coefficient (2.4 of 6 s for LeNet-5);
 *  - the key is parsed once into its sections, so a prover holds one copy of them (snarkjs reads
 *    every section into fresh buffers on every proof).
 */

/** A binfile's sections (zkey, wtns): type -> the bytes of its first section of that type. */
function sectionsOf(bytes: Uint8Array, magic: string): Map<number, Uint8Array> {
  if (bytes.length < 12) throw new KeyFormatError(`not a ${magic} file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = String.fromCharCode(...bytes.subarray(0, 4));
  if (found !== magic) throw new KeyFormatError(`not a ${magic} file (starts with "${found}")`);
  const n = view.getUint32(8, true);
  const sections = new Map<number, Uint8Array>();
  let p = 12;
  for (let i = 0; i < n; i++) {
    if (p + 12 > bytes.length) throw new KeyFormatError(`${magic} file truncated in its section table`);
    const type = view.getUint32(p, true);
    const size = Number(view.getBigUint64(p + 4, true));
    p += 12;
    if (p + size > bytes.length) throw new KeyFormatError(`${magic} file truncated in section ${type}`);
    if (!sections.has(type)) sections.set(type, bytes.subarray(p, p + size));
    p += size;
  }
  return sections;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- ffjavascript is untyped */
type Curve = any;

/** The parts of a Groth16 zkey a proof reads. */
export class ProvingKey {
  private constructor(
    readonly nVars: number,
    readonly nPublic: number,
    readonly domainSize: number,
    private readonly header: Uint8Array,
    private readonly coefs: Uint8Array,
    readonly nCoefs: number,
    private readonly points: { A: Uint8Array; B1: Uint8Array; B2: Uint8Array; C: Uint8Array; H: Uint8Array },
  ) {}

  static parse(zkey: Uint8Array): ProvingKey {
    const s = sectionsOf(zkey, 'zkey');
    const need = (t: number) => s.get(t) ?? failMissing(t);
    const protocol = new DataView(need(1).buffer, need(1).byteOffset).getUint32(0, true);
    if (protocol !== 1) throw new KeyFormatError(`protocol ${protocol} is not Groth16`);
    const h = need(2);
    // n8q, q, n8r, r, nVars, nPublic, domainSize, then alpha1, beta1, beta2, gamma2, delta1, delta2.
    if (h.length !== 84 + 64 + 64 + 128 + 128 + 64 + 128) throw new KeyFormatError(`a Groth16 header of ${h.length} bytes is not a BN254 key's (660)`);
    const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
    if (hv.getUint32(0, true) !== 32 || hv.getUint32(36, true) !== 32 || leToBigInt(h.subarray(40, 72)) !== BN254_R) throw new KeyFormatError('not a BN254 key');
    const [nVars, nPublic, domainSize] = [hv.getUint32(72, true), hv.getUint32(76, true), hv.getUint32(80, true)];
    if (domainSize < 2 || domainSize > 2 ** 28 || (domainSize & (domainSize - 1)) !== 0) throw new KeyFormatError(`domain size ${domainSize} is not a power of two from 2 to 2^28`);
    if (nPublic >= nVars) throw new KeyFormatError(`${nPublic} public signals for ${nVars} wires`);
    const coefs = need(4);
    if (coefs.length < 4) throw new KeyFormatError('empty coefficient section');
    const cv = new DataView(coefs.buffer, coefs.byteOffset, coefs.byteLength);
    const nCoefs = cv.getUint32(0, true);
    if (coefs.length !== 4 + nCoefs * 44) throw new KeyFormatError(`coefficient section of ${coefs.length} bytes for ${nCoefs} coefficients`);
    // The WASM evaluation trusts these: a matrix other than A or B, or an index out of range, would
    // make it write outside its buffers (over the curve's own constants).
    for (let o = 4; o < coefs.length; o += 44) {
      const [m, c, w] = [cv.getUint32(o, true), cv.getUint32(o + 4, true), cv.getUint32(o + 8, true)];
      if (m > 1 || c >= domainSize || w >= nVars) throw new KeyFormatError(`coefficient ${(o - 4) / 44} (matrix ${m}, constraint ${c}, wire ${w}) is outside the key's ${domainSize} constraints and ${nVars} wires`);
    }
    // Own buffers (one copy of the key in all): ffjavascript posts these to its threads, and a view
    // would send the whole file's buffer with every chunk.
    const points = { A: copy(need(5)), B1: copy(need(6)), B2: copy(need(7)), C: copy(need(8)), H: copy(need(9)) };
    const expect: [keyof typeof points, number][] = [['A', nVars * 64], ['B1', nVars * 64], ['B2', nVars * 128], ['C', (nVars - nPublic - 1) * 64], ['H', domainSize * 64]];
    for (const [k, len] of expect) if (points[k].length !== len) throw new KeyFormatError(`section ${k} has ${points[k].length} bytes, expected ${len}`);
    return new ProvingKey(nVars, nPublic, domainSize, copy(h), copy(coefs), nCoefs, points);
  }

  /** The verifying-key points the proof is blinded with, in the curve's internal form. */
  private vk(curve: Curve) {
    const g1 = (o: number) => curve.G1.fromRprLEM(this.header, o);
    const g2 = (o: number) => curve.G2.fromRprLEM(this.header, o);
    // After n8q, q, n8r, r, nVars, nPublic, domainSize (84 bytes): alpha1, beta1, beta2, gamma2, delta1, delta2.
    return { alpha1: g1(84), beta1: g1(148), beta2: g2(212), delta1: g1(468), delta2: g2(532) };
  }

  /** A.w, B.w and their product per constraint, evaluated in the curve's main-thread WASM. */
  private buildABC(curve: Curve, witness: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
    const tm = curve.tm;
    const size = this.domainSize * 32;
    return withRoom(tm, this.coefs.length - 4 + witness.length + 3 * size + 64, () => {
      const pCoefs = tm.allocBuff(this.coefs.subarray(4));
      const pW = tm.allocBuff(witness);
      const [pA, pB, pC] = [0, 1, 2].map(() => tm.alloc(size));
      tm.instance.exports.qap_buildABC(pCoefs, this.nCoefs, pW, pA, pB, pC, 0, this.domainSize, 0, this.nVars);
      return [tm.getBuff(pA, size), tm.getBuff(pB, size), tm.getBuff(pC, size)];
    });
  }

  /**
   * A Groth16 proof for a full witness (the values of a .wtns file's section 2: nVars field
   * elements, 32 bytes little-endian each), exactly as snarkjs would compute it.
   */
  async prove(witness: Uint8Array, singleThread = false): Promise<{ proof: Groth16Proof; publicSignals: string[] }> {
    if (witness.length !== this.nVars * 32) throw new CircuitMismatchError(`the witness has ${witness.length / 32} values, the proving key ${this.nVars}`);
    if (witness.byteOffset !== 0 || witness.byteLength !== witness.buffer.byteLength) witness = copy(witness);
    const curve = await curveFor(singleThread);
    const { Fr, G1, G2 } = curve;
    const [aT, bT, cT] = this.buildABC(curve, witness);
    const power = Math.log2(this.domainSize);
    const inc = power === Fr.s ? Fr.shift : Fr.w[power + 1];
    // Each of A, B, C is interpolated and evaluated on the odd coset, where Z does not vanish.
    const coset = async (t: Uint8Array) => Fr.fft(await Fr.batchApplyKey(await Fr.ifft(t), Fr.e(1), inc));
    const a = await coset(aT);
    const b = await coset(bT);
    const c = await coset(cT);
    const h = this.joinABC(curve, a, b, c);

    const wC = copy(witness.subarray((this.nPublic + 1) * 32));
    let piA = await G1.multiExpAffine(this.points.A, witness);
    let piB1 = await G1.multiExpAffine(this.points.B1, witness);
    let piB = await G2.multiExpAffine(this.points.B2, witness);
    let piC = await G1.multiExpAffine(this.points.C, wC);
    const resH = await G1.multiExpAffine(this.points.H, h);

    const vk = this.vk(curve);
    const r = Fr.random();
    const s = Fr.random();
    piA = G1.add(G1.add(piA, vk.alpha1), G1.timesFr(vk.delta1, r));
    piB = G2.add(G2.add(piB, vk.beta2), G2.timesFr(vk.delta2, s));
    piB1 = G1.add(G1.add(piB1, vk.beta1), G1.timesFr(vk.delta1, s));
    piC = G1.add(piC, resH);
    piC = G1.add(piC, G1.timesFr(piA, s));
    piC = G1.add(piC, G1.timesFr(piB1, r));
    piC = G1.add(piC, G1.timesFr(vk.delta1, Fr.neg(Fr.mul(r, s))));

    const publicSignals: string[] = [];
    for (let i = 1; i <= this.nPublic; i++) publicSignals.push(String(leToBigInt(witness.subarray(i * 32, i * 32 + 32))));
    const str = (xs: bigint[]) => xs.map(String);
    const pa = G1.toObject(G1.toAffine(piA));
    const pb = G2.toObject(G2.toAffine(piB));
    const pc = G1.toObject(G1.toAffine(piC));
    return {
      proof: { pi_a: str(pa), pi_b: pb.map(str), pi_c: str(pc), protocol: 'groth16', curve: 'bn128' } as Groth16Proof,
      publicSignals,
    };
  }

  /** (A*B - C) on the coset, divided by Z there (a constant), as snarkjs' qap_joinABC computes it. */
  private joinABC(curve: Curve, a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array {
    const tm = curve.tm;
    const n = this.domainSize;
    return withRoom(tm, 4 * n * 32 + 64, () => {
      const [pA, pB, pC] = [a, b, c].map((x) => tm.allocBuff(x));
      const pP = tm.alloc(n * 32);
      tm.instance.exports.qap_joinABC(pA, pB, pC, n, pP);
      tm.instance.exports.frm_batchFromMontgomery(pP, n, pP);
      return tm.getBuff(pP, n * 32);
    });
  }
}

/** A copy in its own buffer (Buffer.slice would return a view of the whole file). */
function copy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

function failMissing(type: number): never {
  throw new KeyFormatError(`section ${type} is missing`);
}

function leToBigInt(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

let singleThreaded: Promise<Curve> | undefined;

/** The process's shared curve (snarkjs' own, `globalThis.curve_bn128`), or one single-threaded curve kept for reuse. */
function curveFor(singleThread: boolean): Promise<Curve> {
  if (!singleThread) return buildBn128();
  return (singleThreaded ??= buildBn128(true));
}

/** The witness values of a .wtns file (its section 2), after checking its header (BN254, 32-byte values). */
export function wtnsValues(wtns: Uint8Array): Uint8Array {
  const sections = sectionsOf(wtns, 'wtns');
  const [h, w] = [sections.get(1), sections.get(2)];
  if (!h || !w || h.length < 40) throw new KeyFormatError('witness file without its header or values');
  const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  if (hv.getUint32(0, true) !== 32 || leToBigInt(h.subarray(4, 36)) !== BN254_R) throw new KeyFormatError('the witness is not over BN254');
  if (w.length !== hv.getUint32(36, true) * 32) throw new KeyFormatError(`the witness header says ${hv.getUint32(36, true)} values, its section holds ${w.length / 32}`);
  return copy(w);
}

/** The BN254 scalar field's modulus. */
const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

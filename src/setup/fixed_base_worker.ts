/**
 * Worker thread for fixed-base scalar multiplication: s_i * G for one generator G of BN254 G1 or
 * G2 and many scalars, the only group operation a powers of tau from a known secret needs.
 *
 * A windowed table T[j][d] = d * 2^(W j) * G turns each multiplication into ceil(254 / W) mixed
 * additions (26 at W = 10) instead of ~380 doublings and additions of a generic scalar
 * multiplication: about 8x faster. The curve arithmetic is ffjavascript's WASM (the same code
 * snarkjs uses), driven directly through its exports.
 */
import './web_worker.js'; // first: before anything loads ffjavascript
import { parentPort } from 'node:worker_threads';
import { buildBn128 } from 'ffjavascript';
import { claimFault } from '../fault.js';
import { ensureFree } from './wasm_memory.js';

export type GroupName = 'G1' | 'G2';
export interface FixedBaseRequest {
  id: number;
  group: GroupName;
  /** Scalars, 32 bytes each, little-endian, reduced mod r. */
  scalars: Uint8Array;
}
export interface FixedBaseResponse {
  id: number;
  /** Affine points in snarkjs' LEM form (little-endian Montgomery), as ptau files store them. */
  points: Uint8Array;
}

const WINDOW = 10;
const WINDOWS = Math.ceil(254 / WINDOW);
const DIGITS = 1 << WINDOW;

type Wasm = Record<string, (...args: number[]) => void>;
interface ThreadManager {
  memory: WebAssembly.Memory;
  u8: Uint8Array;
  u32: Uint32Array;
  instance: { exports: Wasm };
  alloc(bytes: number): number;
  pG1gen: number;
  pG2gen: number;
}

const tm = ((await buildBn128(true)) as { tm: ThreadManager }).tm;
const wasm = tm.instance.exports;

/** ffjavascript's WASM functions take their scratch space (batchToAffine: a few words per point) above the free pointer: room for both. */
function alloc(bytes: number, scratch = 1 << 20): number {
  ensureFree(tm, bytes + scratch);
  return tm.alloc(bytes);
}

interface Group {
  prefix: string;
  affine: number;
  jacobian: number;
  table: number;
}

function buildTable(name: GroupName): Group {
  const n8 = name === 'G1' ? 32 : 64;
  const g: Group = { prefix: name === 'G1' ? 'g1m' : 'g2m', affine: n8 * 2, jacobian: n8 * 3, table: 0 };
  g.table = alloc(WINDOWS * DIGITS * g.affine);
  const scratchStart = tm.u32[0];
  const row = alloc(DIGITS * g.jacobian, DIGITS * g.jacobian);
  const base = alloc(g.jacobian);
  wasm[`${g.prefix}_copy`](name === 'G1' ? tm.pG1gen : tm.pG2gen, base);
  for (let j = 0; j < WINDOWS; j++) {
    wasm[`${g.prefix}_zero`](row);
    for (let d = 1; d < DIGITS; d++) wasm[`${g.prefix}_add`](row + (d - 1) * g.jacobian, base, row + d * g.jacobian);
    wasm[`${g.prefix}_batchToAffine`](row, DIGITS, g.table + j * DIGITS * g.affine);
    for (let k = 0; k < WINDOW; k++) wasm[`${g.prefix}_double`](base, base);
  }
  tm.u32[0] = scratchStart; // the table stays; the scratch rows are reused
  return g;
}

const groups: Record<GroupName, Group> = { G1: buildTable('G1'), G2: buildTable('G2') };

function multiply(group: Group, scalars: Uint8Array): Uint8Array {
  const n = scalars.length / 32;
  const words = new Uint32Array(scalars.buffer, scalars.byteOffset, n * 8);
  const mark = tm.u32[0];
  const acc = alloc(n * group.jacobian);
  const out = alloc(n * group.affine, n * group.jacobian);
  const { prefix, jacobian, affine, table } = group;
  const zero = wasm[`${prefix}_zero`];
  const addMixed = wasm[`${prefix}_addMixed`];
  for (let i = 0; i < n; i++) {
    const p = acc + i * jacobian;
    zero(p);
    for (let j = 0; j < WINDOWS; j++) {
      const bit = j * WINDOW;
      const w = i * 8 + (bit >>> 5);
      const shift = bit & 31;
      let digit = words[w] >>> shift;
      if (shift > 32 - WINDOW && (bit >>> 5) < 7) digit |= words[w + 1] << (32 - shift);
      digit &= DIGITS - 1;
      if (digit !== 0) addMixed(p, table + (j * DIGITS + digit) * affine, p);
    }
  }
  wasm[`${prefix}_batchToAffine`](acc, n, out);
  const points = tm.u8.slice(out, out + n * affine);
  tm.u32[0] = mark;
  return points;
}

parentPort!.on('message', ({ id, group, scalars }: FixedBaseRequest) => {
  if (claimFault(['setup-crash'])) process.exit(70);
  const points = multiply(groups[group], scalars);
  parentPort!.postMessage({ id, points } satisfies FixedBaseResponse, [points.buffer as ArrayBuffer]);
});

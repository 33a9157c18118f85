/**
 * The iden3 binary formats snarkjs reads: `.r1cs` (version 1: header, constraints, wire-to-label
 * map) and `.wtns` (version 2). Field elements are 32 bytes little-endian, in standard (not
 * Montgomery) form, as circom writes them.
 */
import { P } from './field.js';
import type { Constraint, Terms } from './system.js';

const N8 = 32;

class Writer {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  u32(v: number): void {
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  u64(v: number | bigint): void {
    this.view.setBigUint64(this.pos, BigInt(v), true);
    this.pos += 8;
  }
  bytes(s: string): void {
    for (const ch of s) this.buf[this.pos++] = ch.charCodeAt(0);
  }
  field(v: bigint): void {
    let x = v;
    for (let k = 0; k < 4; k++) {
      this.view.setBigUint64(this.pos, BigInt.asUintN(64, x), true);
      x >>= 64n;
      this.pos += 8;
    }
  }
}

function lcSize(t: Terms): number {
  return 4 + t.size * (4 + N8);
}

export interface R1csHeader {
  wires: number;
  publicOutputs: number;
  publicInputs: number;
  privateInputs: number;
}

export function writeR1cs(h: R1csHeader, constraints: readonly Constraint[]): Uint8Array {
  const header = 4 + N8 + 4 * 4 + 8 + 4;
  let body = 0;
  for (const c of constraints) body += lcSize(c[0]) + lcSize(c[1]) + lcSize(c[2]);
  const map = 8 * h.wires;
  const w = new Writer(12 + 3 * 12 + header + body + map);
  w.bytes('r1cs');
  w.u32(1);
  w.u32(3);
  w.u32(1);
  w.u64(header);
  w.u32(N8);
  w.field(P);
  w.u32(h.wires);
  w.u32(h.publicOutputs);
  w.u32(h.publicInputs);
  w.u32(h.privateInputs);
  w.u64(h.wires);
  w.u32(constraints.length);
  w.u32(2);
  w.u64(body);
  for (const c of constraints) {
    for (const lc of c) {
      w.u32(lc.size);
      // Sorted by wire, as circom writes them.
      for (const wire of [...lc.keys()].sort((a, b) => a - b)) {
        w.u32(wire);
        w.field(lc.get(wire)!);
      }
    }
  }
  w.u32(3);
  w.u64(map);
  for (let i = 0; i < h.wires; i++) w.u64(i);
  return w.buf;
}

export function writeWtns(values: readonly bigint[]): Uint8Array {
  const w = new Writer(12 + 2 * 12 + 4 + N8 + 4 + values.length * N8);
  w.bytes('wtns');
  w.u32(2);
  w.u32(2);
  w.u32(1);
  w.u64(4 + N8 + 4);
  w.u32(N8);
  w.field(P);
  w.u32(values.length);
  w.u32(2);
  w.u64(values.length * N8);
  for (const v of values) w.field(v);
  return w.buf;
}

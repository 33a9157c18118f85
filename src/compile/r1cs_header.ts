import { readFileSync } from 'node:fs';
import { CircomError } from '../errors.js';

export interface R1csHeader {
  wires: number;
  publicOutputs: number;
  publicInputs: number;
  privateInputs: number;
  constraints: number;
}

/**
 * Reads the header section of an .r1cs file (iden3 binary format: 'r1cs', version, sections of
 * [u32 type, u64 size]; type 1 holds n8, the prime, wire and constraint counts).
 */
export function readR1csHeader(file: string): R1csHeader {
  const buf = readFileSync(file);
  if (buf.toString('latin1', 0, 4) !== 'r1cs') throw new CircomError(`${file} is not an R1CS file`);
  const sections = buf.readUInt32LE(8);
  let pos = 12;
  for (let i = 0; i < sections; i++) {
    const type = buf.readUInt32LE(pos);
    const size = Number(buf.readBigUInt64LE(pos + 4));
    if (type === 1) {
      const n8 = buf.readUInt32LE(pos + 12);
      const at = pos + 16 + n8;
      return {
        wires: buf.readUInt32LE(at),
        publicOutputs: buf.readUInt32LE(at + 4),
        publicInputs: buf.readUInt32LE(at + 8),
        privateInputs: buf.readUInt32LE(at + 12),
        constraints: buf.readUInt32LE(at + 24),
      };
    }
    pos += 12 + size;
  }
  throw new CircomError(`${file} has no header section`);
}

import { readFileSync } from 'node:fs';
import * as snarkjs from 'snarkjs';
import { FIELD_MODULUS } from '../../src/prove/field.js';

type LinearCombination = Map<number, bigint>;

/** An R1CS read with snarkjs, checked here independently: A.w * B.w = C.w (mod p) for each row. */
export class R1cs {
  private constructor(readonly constraints: [LinearCombination, LinearCombination, LinearCombination][]) {}

  /** Constraints held in memory (the r1cs backend's, as recorded). */
  static of(constraints: [LinearCombination, LinearCombination, LinearCombination][]): R1cs {
    return new R1cs(constraints);
  }

  static async load(file: string): Promise<R1cs> {
    const json = await snarkjs.r1cs.exportJson(file);
    const lc = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [Number(k), BigInt(v)]));
    return new R1cs(json.constraints.map(([a, b, c]) => [lc(a), lc(b), lc(c)]));
  }

  /** Indexes of the constraints the witness violates (empty: satisfied), among `only` when given. */
  violations(witness: readonly bigint[], only?: readonly number[]): number[] {
    const dot = (l: LinearCombination) => {
      let acc = 0n;
      for (const [i, coef] of l) acc += coef * witness[i];
      return acc % FIELD_MODULUS;
    };
    const bad: number[] = [];
    for (const k of only ?? this.constraints.keys()) {
      const [a, b, c] = this.constraints[k];
      if ((dot(a) * dot(b) - dot(c)) % FIELD_MODULUS !== 0n) bad.push(k);
    }
    return bad;
  }
}

/** Signal name -> witness index, from circom's .sym file (signals removed by --O2 are left out). */
export function readSymbols(file: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [, wire, , name] = line.split(',');
    if (name && Number(wire) >= 0) map.set(name, Number(wire));
  }
  return map;
}

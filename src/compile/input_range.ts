import { existsSync, readFileSync } from 'node:fs';
import { InvalidInputError } from '../errors.js';
import { size, type TensorInfo } from '../ir/graph.js';

/**
 * Known input ranges (`compile --input-range`), resolved to one [min, max] per value of the
 * flattened, concatenated model inputs. Accepted forms:
 *   "lo:hi"                                   every value (pixels: 0:255)
 *   a JSON file {"min": m, "max": M}          m, M a number or one number per value (a scaler's
 *                                             data_min_ / data_max_)
 *   a JSON file {"<input name>": {"min", "max"}, ...}   per graph input, each as above
 * or the same object given directly (CompileOptions.inputRange).
 */
export type InputRangeSpec = string | { min: number | number[]; max: number | number[] } | Record<string, { min: number | number[]; max: number | number[] }>;

export function resolveInputRange(spec: InputRangeSpec, inputs: readonly TensorInfo[]): { min: number[]; max: number[] } {
  // Token-id inputs have their range from the embedding table ([0, rows - 1]); the spec covers the others.
  const ranged = inputs.filter((t) => !t.integer);
  const total = ranged.reduce((a, t) => a + size(t.shape), 0);
  let value: unknown = spec;
  if (typeof spec === 'string') {
    const m = /^\s*(-?[\d.eE+-]+)\s*:\s*(-?[\d.eE+-]+)\s*$/.exec(spec);
    if (m) value = { min: Number(m[1]), max: Number(m[2]) };
    else if (existsSync(spec)) {
      try {
        value = JSON.parse(readFileSync(spec, 'utf8'));
      } catch (err) {
        throw new InvalidInputError(`--input-range ${spec}: invalid JSON: ${(err as Error).message}`);
      }
    } else throw new InvalidInputError(`--input-range "${spec}" is neither lo:hi (e.g. 0:255) nor a JSON file with {"min", "max"}`);
  }
  const where = typeof spec === 'string' ? `--input-range ${spec}` : 'inputRange';
  if (!value || typeof value !== 'object') throw new InvalidInputError(`${where}: expected {"min", "max"}`);
  const obj = value as Record<string, unknown>;
  const given = { min: [] as number[], max: [] as number[] };
  if ('min' in obj || 'max' in obj) {
    expand(obj, total, `${where}`, given);
  } else {
    const unknown = Object.keys(obj).filter((k) => !ranged.some((t) => t.name === k));
    if (unknown.length) throw new InvalidInputError(`${where}: no (non-token-id) graph input named ${unknown.map((k) => `"${k}"`).join(', ')}; the inputs are ${ranged.map((t) => `"${t.name}"`).join(', ')}`);
    for (const t of ranged) {
      const r = obj[t.name];
      if (r === undefined) throw new InvalidInputError(`${where}: no range for input "${t.name}" (give every input, or {"min", "max"} for all)`);
      expand(r as Record<string, unknown>, size(t.shape), `${where} "${t.name}"`, given);
    }
  }
  const out = { min: [] as number[], max: [] as number[] };
  let at = 0;
  for (const t of inputs) {
    const n = size(t.shape);
    if (t.integer) {
      out.min.push(...new Array<number>(n).fill(0));
      out.max.push(...new Array<number>(n).fill(t.integer.max));
    } else {
      out.min.push(...given.min.slice(at, at + n));
      out.max.push(...given.max.slice(at, at + n));
      at += n;
    }
  }
  out.min.forEach((lo, i) => {
    if (!(lo < out.max[i])) throw new InvalidInputError(`${where}: value ${i} has min ${lo} >= max ${out.max[i]}`);
  });
  return out;
}

function expand(r: Record<string, unknown>, n: number, where: string, out: { min: number[]; max: number[] }): void {
  for (const key of ['min', 'max'] as const) {
    const v = r?.[key];
    const values = typeof v === 'number' ? new Array<number>(n).fill(v) : Array.isArray(v) ? (v as unknown[]).flat(Infinity) : undefined;
    if (!values) throw new InvalidInputError(`${where}: "${key}" must be a number or an array of numbers`);
    if (values.length !== n) throw new InvalidInputError(`${where}: "${key}" has ${values.length} values; the input has ${n}`);
    values.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new InvalidInputError(`${where}: ${key}[${i}] is ${JSON.stringify(x)}, not a finite number`);
    });
    out[key].push(...(values as number[]));
  }
}

/** The first calibration value outside the known ranges, as a message, or undefined. */
export function outsideRange(samples: readonly (readonly number[])[], range: { min: readonly number[]; max: readonly number[] }): string | undefined {
  for (const [k, s] of samples.entries()) {
    const i = s.findIndex((v, j) => v < range.min[j] || v > range.max[j]);
    if (i >= 0) return `calibration sample ${k}, value ${i} = ${s[i]} is outside its --input-range [${range.min[i]}, ${range.max[i]}]`;
  }
  return undefined;
}

import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../errors.js';

export interface SampleSet {
  inputs: number[][];
  labels?: number[];
}

/**
 * Reads samples: a JSON file {"inputs": [[...], ...], "labels"?: [...]}, {"input": [...]} or a flat
 * array of numbers (one sample), a JSON array of arrays, or JSON lines (one array or
 * {"input": [...]} per line). Nested arrays are flattened row-major.
 */
export function readSamples(file: string): SampleSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidInputError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const trimmed = text.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) {
    const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== '');
    return { inputs: lines.map((l, i) => sampleFrom(parseJson(l, `${file}:${i + 1}`), `${file}:${i + 1}`)) };
  }
  // A flat array of numbers is one sample; an array of arrays (or of {"input"}) is many.
  if (Array.isArray(parsed) && parsed.every((v) => typeof v === 'number')) return { inputs: [sampleFrom(parsed, file)] };
  if (Array.isArray(parsed)) return { inputs: parsed.map((s, i) => sampleFrom(s, `${file} sample ${i}`)) };
  const obj = parsed as { inputs?: unknown; input?: unknown; labels?: unknown };
  if (Array.isArray(obj.inputs)) {
    const labels = Array.isArray(obj.labels) ? (obj.labels as number[]) : undefined;
    return { inputs: obj.inputs.map((s, i) => sampleFrom(s, `${file} sample ${i}`)), labels };
  }
  if (obj.input !== undefined) return { inputs: [sampleFrom(obj, file)] };
  throw new InvalidInputError(`${file}: expected {"inputs": [...]}, {"input": [...]}, an array of samples, or JSON lines`);
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`${where}: invalid JSON: ${(err as Error).message}`);
  }
}

/** One sample: a (nested) array of numbers, or {"input": that}. */
export function sampleFrom(value: unknown, where: string): number[] {
  const v = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as { input?: unknown }).input : value;
  if (!Array.isArray(v)) throw new InvalidInputError(`${where}: expected an array of numbers or {"input": [...]}`);
  const flat = (v as unknown[]).flat(Infinity);
  flat.forEach((x, i) => {
    // JSON has no NaN literal: it arrives as a string or null; 1e999 parses to Infinity.
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new InvalidInputError(`${where}: value ${i} is ${typeof x === 'number' ? String(x) : JSON.stringify(x)}; every input value must be a finite number`);
    }
  });
  return flat as number[];
}

/**
 * The one input a command proves (`prove --input`): a file of one sample, or sample `index` of a
 * file of many. A file holding a single nested sample (an 8x8 image as [[...], ...]) that reads as
 * several short rows is taken whole when its values are exactly the model's input size.
 */
export function readOneSample(file: string, inputSize: number, index?: number): number[] {
  const { inputs } = readSamples(file);
  if (index !== undefined) {
    if (index >= inputs.length) throw new InvalidInputError(`${file} holds ${inputs.length} sample(s); there is no sample ${index}`);
    return inputs[index];
  }
  if (inputs.length === 1) return inputs[0];
  if (inputs.every((s) => s.length !== inputSize) && inputs.reduce((a, s) => a + s.length, 0) === inputSize) return inputs.flat();
  throw new InvalidInputError(`${file} holds ${inputs.length} samples and --input proves one: pick one with --sample <k>, or prove them all with --batch`);
}

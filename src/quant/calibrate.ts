import { InvalidInputError, ShapeMismatchError } from '../errors.js';
import { evaluateFloat } from '../ir/float_eval.js';
import { size, type FloatGraph } from '../ir/graph.js';

export interface TensorStats {
  min: number;
  max: number;
  maxAbs: number;
  /**
   * Graph inputs only: the fewest fractional bits that represent every calibration value exactly
   * (4 for pixels k/16), or undefined when some value is not a multiple of 2^-MAX_GRID_FRAC.
   */
  gridFrac?: number;
}

/** Finest power-of-two grid the input detection looks for. */
const MAX_GRID_FRAC = 16;

function gridFrac(v: number): number | undefined {
  for (let f = 0; f <= MAX_GRID_FRAC; f++) if (Number.isInteger(v * 2 ** f)) return f;
  return undefined;
}

/** Runs the float IR on every calibration sample and records each tensor's range. */
export function calibrate(graph: FloatGraph, samples: readonly (readonly number[])[]): Map<string, TensorStats> {
  if (samples.length === 0) throw new InvalidInputError('calibration needs at least one sample');
  const n = graph.inputs.reduce((a, i) => a + size(i.shape), 0);
  const stats = new Map<string, TensorStats>();
  const inputs = new Set(graph.inputs.map((i) => i.name));
  const offGrid = new Set<string>();
  samples.forEach((s, k) => {
    if (s.length !== n) throw new ShapeMismatchError(`calibration sample ${k}`, `${n} values`, `${s.length}`);
    const bad = s.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new InvalidInputError(`calibration sample ${k}, value ${bad} is ${s[bad]}: values must be finite numbers`);
    for (const [name, values] of evaluateFloat(graph, s)) {
      const st = stats.get(name) ?? { min: Infinity, max: -Infinity, maxAbs: 0 };
      for (const v of values) {
        if (v < st.min) st.min = v;
        if (v > st.max) st.max = v;
        if (Math.abs(v) > st.maxAbs) st.maxAbs = Math.abs(v);
        if (inputs.has(name) && !offGrid.has(name)) {
          const f = gridFrac(v);
          if (f === undefined) offGrid.add(name);
          else st.gridFrac = Math.max(st.gridFrac ?? 0, f);
        }
      }
      stats.set(name, st);
    }
  });
  for (const name of offGrid) delete stats.get(name)!.gridFrac;
  return stats;
}

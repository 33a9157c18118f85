import type { FloatGraph } from '../ir/graph.js';
import { programCosts } from '../quant/bounds.js';
import { calibrate } from '../quant/calibrate.js';
import { defaultQuantConfig, type QProgram, type QuantConfig } from '../quant/program.js';
import { quantize } from '../quant/quantize.js';
import { scoreAccuracy, type Task } from './accuracy.js';

/** The bit budgets the planner may lower, in the order it lowers them, and their floors. */
const KNOBS = [
  ['inputBits', 2],
  ['activationBits', 4],
  ['weightBits', 4],
] as const satisfies readonly (readonly [keyof QuantConfig, number])[];

export interface PrecisionTrial {
  config: QuantConfig;
  /** Non-linear constraints by the ops' cost formulas (what circom keeps, up to a few). */
  constraints: number;
  decisionAgreement?: number;
  relativeError: number;
  accepted: boolean;
}

export interface PrecisionPlan {
  config: QuantConfig;
  /** The program quantized with `config`. */
  program: QProgram;
  trials: PrecisionTrial[];
}

/**
 * Scale planning: the cheapest bit budgets at the accuracy of the defaults. Starting from the
 * default budgets, each budget the user did not pin is lowered, one at a time, by binary search to
 * the smallest value that keeps, on the calibration samples, (a) the float model's decision on at
 * least as many samples as the defaults do and (b) a relative error within 1.25x the defaults' plus
 * 0.05% of the output range. Fewer bits shrink every range check downstream: inputs, accumulators,
 * comparisons. Scoring uses the calibration samples, so the test samples stay unbiased for the
 * accuracy report.
 */
export function planPrecision(graph: FloatGraph, samples: readonly number[][], floats: readonly number[][], pinned: Partial<QuantConfig>, task?: Task): PrecisionPlan {
  const trials: PrecisionTrial[] = [];
  const stats = calibrate(graph, samples);
  const programs = new Map<PrecisionTrial, QProgram>();
  const trial = (config: QuantConfig): PrecisionTrial => {
    const program = quantize(graph, samples, config, stats);
    const accuracy = scoreAccuracy(program, samples, floats, undefined, task);
    const constraints = programCosts(program).reduce((a, c) => a + c.nonLinear, 0);
    const t = { config, constraints, decisionAgreement: accuracy.decisionAgreement, relativeError: accuracy.relativeError, accepted: false };
    programs.set(t, program);
    return t;
  };
  // A budget too small for some op (a table, a width) is just not a candidate.
  const tryTrial = (config: QuantConfig): PrecisionTrial => {
    try {
      return trial(config);
    } catch {
      return { config, constraints: Infinity, relativeError: Infinity, accepted: false };
    }
  };
  let best = trial({ ...defaultQuantConfig, ...pinned });
  best.accepted = true;
  trials.push(best);
  const baseline = best;
  const good = (t: PrecisionTrial) =>
    (baseline.decisionAgreement === undefined || (t.decisionAgreement ?? 0) >= baseline.decisionAgreement) &&
    t.relativeError <= 1.25 * baseline.relativeError + 5e-4 &&
    t.constraints <= best.constraints;

  for (const [knob, floor] of KNOBS) {
    if (pinned[knob] !== undefined) continue;
    // Invariant: best.config[knob] is acceptable; search (floor - 1, hi] for the smallest that is.
    let lo = floor - 1;
    let hi = best.config[knob];
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const t = tryTrial({ ...best.config, [knob]: mid });
      trials.push(t);
      if (good(t)) {
        t.accepted = true;
        best = t;
        hi = mid;
      } else {
        lo = mid;
      }
    }
  }
  return { config: best.config, program: programs.get(best)!, trials };
}

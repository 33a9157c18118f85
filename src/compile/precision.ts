import type { FloatGraph } from '../ir/graph.js';
import { programCosts } from '../quant/bounds.js';
import { calibrate } from '../quant/calibrate.js';
import { defaultQuantConfig, type QProgram, type QuantConfig } from '../quant/program.js';
import { quantize } from '../quant/quantize.js';
import { compareOutputs, type Task } from './accuracy.js';

/** The bit budgets the planner may change, in the order it lowers them, with their floors and ceilings. */
const KNOBS = [
  ['inputBits', 2, 32],
  ['activationBits', 4, 32],
  ['weightBits', 4, 16],
] as const satisfies readonly (readonly [keyof QuantConfig, number, number])[];

/** Bits added to every free budget per step when even the defaults lose accuracy. */
const RAISE_STEP = 2;

/** What the planner aims for on the calibration samples, and what compile requires on the test samples by default. */
export const ACCURACY_TARGET = { agreement: 0.99, relativeError: 0.02 };

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
  /** Whether the chosen budgets meet ACCURACY_TARGET on the calibration samples. */
  meetsTarget: boolean;
  /** True when the defaults missed the target and the planner chose wider budgets. */
  raised: boolean;
  /** True when the defaults missed the target and no budget it could raise reached it. */
  exhausted: boolean;
}

/**
 * Scale planning: the cheapest bit budgets that keep the defaults' accuracy, and never less than
 * the target's.
 *
 * 1. The defaults (with any pinned budgets) are the baseline. If they miss ACCURACY_TARGET on the
 *    calibration samples (a model whose inputs span orders of magnitude in one tensor, say), every
 *    budget the user did not pin is raised by RAISE_STEP bits at a time until the target is met or
 *    every budget is at its ceiling; the first that meets it becomes the baseline (if none does,
 *    the most accurate one tried, and compile reports the shortfall).
 * 2. Each unpinned budget is then lowered, one at a time, by binary search to the smallest value
 *    that (a) keeps the float model's decision on every calibration sample where the baseline
 *    keeps it (not merely as many samples), (b) keeps the relative error within 1.25x the
 *    baseline's plus 0.05% of the output range, and (c) still meets the target if the baseline did.
 * Fewer bits shrink every range check downstream: inputs, accumulators, comparisons. Scoring uses
 * the calibration samples, so the test samples stay unbiased for the accuracy report.
 */
export function planPrecision(graph: FloatGraph, samples: readonly number[][], floats: readonly number[][], pinned: Partial<QuantConfig>, task?: Task): PrecisionPlan {
  const trials: PrecisionTrial[] = [];
  const stats = calibrate(graph, samples);
  const programs = new Map<PrecisionTrial, QProgram>();
  const agreements = new Map<PrecisionTrial, boolean[] | undefined>();
  const trial = (config: QuantConfig): PrecisionTrial => {
    const program = quantize(graph, samples, config, stats);
    const { report, agrees } = compareOutputs(program, samples, floats, undefined, task);
    const constraints = programCosts(program).reduce((a, c) => a + c.nonLinear, 0);
    const t = { config, constraints, decisionAgreement: report.decisionAgreement, relativeError: report.relativeError, accepted: false };
    programs.set(t, program);
    agreements.set(t, agrees);
    return t;
  };
  // A budget too small or too large for some op (a table, a width, the field) is just not a candidate.
  const tryTrial = (config: QuantConfig): PrecisionTrial => {
    try {
      return trial(config);
    } catch {
      return { config, constraints: Infinity, relativeError: Infinity, accepted: false };
    }
  };
  const meets = (t: PrecisionTrial) => Number.isFinite(t.constraints) && (t.decisionAgreement ?? 1) >= ACCURACY_TARGET.agreement && t.relativeError <= ACCURACY_TARGET.relativeError;
  const free = KNOBS.filter(([knob]) => pinned[knob] === undefined);

  let best = trial({ ...defaultQuantConfig, ...pinned });
  trials.push(best);
  let raised = false;
  if (!meets(best)) {
    let config = best.config;
    while (free.some(([knob, , ceiling]) => config[knob] < ceiling)) {
      config = { ...config, ...Object.fromEntries(free.map(([knob, , ceiling]) => [knob, Math.min(ceiling, config[knob] + RAISE_STEP)])) };
      const t = tryTrial(config);
      trials.push(t);
      if (meets(t)) {
        best = t;
        raised = true;
        break;
      }
    }
    if (!meets(best)) {
      // Nothing meets the target: keep the most accurate budgets tried (compile reports the shortfall).
      const accuracy = (t: PrecisionTrial) => [t.decisionAgreement ?? 1, -t.relativeError, -t.constraints];
      const better = (a: PrecisionTrial, b: PrecisionTrial) => {
        const [x, y] = [accuracy(a), accuracy(b)];
        const i = x.findIndex((v, k) => v !== y[k]);
        return i >= 0 && x[i] > y[i];
      };
      for (const t of trials) if (Number.isFinite(t.constraints) && better(t, best)) best = t;
      raised = best !== trials[0];
    }
  }
  best.accepted = true;
  const baseline = best;
  const baselineMeets = meets(baseline);
  const keptDecisions = agreements.get(baseline);
  const good = (t: PrecisionTrial) => {
    if (!Number.isFinite(t.constraints) || t.constraints > best.constraints) return false;
    if (keptDecisions) {
      const agrees = agreements.get(t)!;
      if (keptDecisions.some((kept, k) => kept && !agrees[k])) return false;
    }
    return t.relativeError <= 1.25 * baseline.relativeError + 5e-4 && (!baselineMeets || meets(t));
  };

  for (const [knob, floor] of free) {
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
  return { config: best.config, program: programs.get(best)!, trials, meetsTarget: meets(best), raised, exhausted: !baselineMeets && free.length > 0 };
}

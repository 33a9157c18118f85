/**
 * `npm run bench:scaling`: compile, setup and prove cost against circuit size, from 2^10 to 2^20
 * constraints, each phase of each point in its own process (src/bench/scaling_child.ts), all with
 * the r1cs backend in compact mode, proved with every core and verified on the embedded EVM. Fits
 * the growth exponent of each figure (the slope of log(figure) against log(constraints)) and
 * writes <out>/scaling.json, <out>/scaling.md and <out>/scaling.svg (default out: bench/scaling).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidInputError } from '../errors.js';
import { defaultPtauCache, modelsDir } from '../paths.js';
import type { QuantConfig } from '../quant/program.js';
import { logLogChart } from './report.js';
import type { PhaseResult, ScalingPhaseRequest } from './scaling_child.js';
import { measureInChild } from './run.js';

export interface ScalingPoint {
  name: string;
  model: string;
  architecture: string;
  quant?: Partial<QuantConfig>;
  inputRange?: string;
}

const conv = (c: number, quant?: Partial<QuantConfig>): ScalingPoint => ({ name: `scaling_conv${c}`, model: `scaling_conv${c}`, architecture: `Conv3x3x${c}-ReLU-Dense10 on 8x8`, ...(quant ? { quant } : {}) });

/**
 * From 2^10 to 2^20 constraints: the Conv3x3xC series (its cost is linear in C; C = 1700 is past
 * 10^6 constraints, the largest that fits a 2^20 key), with LeNet-5 and the CIFAR-shaped CNN
 * between, as the README builds them.
 */
export const scalingPoints: ScalingPoint[] = [
  conv(2),
  conv(8),
  conv(32),
  conv(64),
  { name: 'lenet5', model: 'lenet5', architecture: 'LeNet-5 on 28x28 (MaxPool)', quant: { inputBits: 4, weightBits: 8, activationBits: 10 }, inputRange: '0:1' },
  conv(256),
  { name: 'cifar_cnn', model: 'cifar_cnn', architecture: '3x32x32, 3x (Conv3x3-BN-ReLU-MaxPool) 16-32-64, Dense10', quant: { inputBits: 8, weightBits: 10, activationBits: 10 }, inputRange: '0:1' },
  // Pinned: the planner's choice lands at 961k constraints; 11-bit weights widen every
  // accumulator by a bit, putting it past 10^6 and still inside 2^20.
  conv(1700, { inputBits: 5, weightBits: 11, activationBits: 12 }),
];

export interface ScalingRow {
  name: string;
  architecture: string;
  constraints: number;
  agreement?: number;
  compileS: number;
  compilePeakMb: number;
  setupS: number;
  setupPeakMb: number;
  witnessMs: number;
  proveS: number;
  provePeakMb: number;
  verifyGas?: number;
  onChain?: boolean;
}

export interface ScalingResults {
  rows: ScalingRow[];
  /** Growth exponent of each figure: figure ~ constraints^exponent (least squares on the logs), over all points. */
  exponents: Record<string, number>;
  /** The same over the points of at least LARGE constraints, where fixed costs (process, curve, tables) no longer dominate. */
  exponentsLarge: Record<string, number>;
}

const LARGE = 100_000;

function fit(rows: readonly ScalingRow[]): Record<string, number> {
  return Object.fromEntries(figures.map(([k]) => [k, growthExponent(rows.map((r) => [r.constraints, r[k] as number]))]));
}

function child(request: ScalingPhaseRequest, name: string, timeoutS: number): Promise<PhaseResult> {
  return measureInChild(new URL('./scaling_child.js', import.meta.url), request, timeoutS, `${request.phase} of ${name}`);
}

/** Slope of log(y) against log(x), by least squares. */
export function growthExponent(points: readonly [number, number][]): number {
  const ps = points.filter(([x, y]) => x > 0 && y > 0).map(([x, y]) => [Math.log(x), Math.log(y)]);
  const n = ps.length;
  if (n < 2) return NaN;
  const mx = ps.reduce((a, [x]) => a + x, 0) / n;
  const my = ps.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = ps.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = ps.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxy / sxx;
}

const figures: [keyof ScalingRow, string][] = [
  ['compileS', 'compile s'],
  ['compilePeakMb', 'compile peak MB'],
  ['setupS', 'setup s'],
  ['witnessMs', 'witness ms'],
  ['proveS', 'prove s'],
  ['provePeakMb', 'prove peak MB'],
];

export function scalingMarkdown(r: ScalingResults): string {
  const f = (v: number | undefined, d = 1) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
  const lines = [
    '| model | architecture | constraints | agreement | compile s | compile peak MB | setup s | setup peak MB | witness ms | prove s | prove peak MB | on-chain (gas) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (w) =>
        `| ${w.name} | ${w.architecture} | ${w.constraints.toLocaleString('en-US')} | ${w.agreement === undefined ? '-' : `${(w.agreement * 100).toFixed(1)}%`} | ${f(w.compileS)} | ${f(w.compilePeakMb, 0)} | ${f(w.setupS)} | ${f(w.setupPeakMb, 0)} | ${f(w.witnessMs, 0)} | ${f(w.proveS, 2)} | ${f(w.provePeakMb, 0)} | ${w.onChain === undefined ? '-' : `${w.onChain} (${w.verifyGas?.toLocaleString('en-US')})`} |`,
    ),
    '',
    `Growth exponents (figure ~ constraints^k, least squares on the logs) over all ${r.rows.length} points: ${figures.map(([k, label]) => `${label} ${f(r.exponents[k], 2)}`).join(', ')}; ` +
      `over the ${r.rows.filter((w) => w.constraints >= LARGE).length} points of at least ${LARGE.toLocaleString('en-US')} constraints: ${figures.map(([k, label]) => `${label} ${f(r.exponentsLarge[k], 2)}`).join(', ')}.`,
  ];
  return lines.join('\n') + '\n';
}

export async function runScaling(options: { names?: string[]; out?: string; timeoutS?: number; ptauCache?: string; log?: (l: string) => void } = {}): Promise<ScalingResults> {
  const log = options.log ?? ((l: string) => console.error(l));
  const points = options.names ? options.names.map((n) => scalingPoints.find((p) => p.name === n) ?? unknownPoint(n)) : scalingPoints;
  const out = resolve(options.out ?? join('bench', 'scaling'));
  const work = join(out, 'work');
  mkdirSync(work, { recursive: true });
  const timeoutS = options.timeoutS ?? 1800;
  const rows: ScalingRow[] = [];
  for (const [k, p] of points.entries()) {
    const src = join(modelsDir, p.model);
    const build = join(work, p.name);
    rmSync(build, { recursive: true, force: true });
    const request = (phase: ScalingPhaseRequest['phase']): ScalingPhaseRequest => ({
      phase,
      build,
      out: join(work, `${p.name}.${phase}.json`),
      onnx: join(src, 'model.onnx'),
      calibration: join(src, 'calibration.json'),
      test: join(src, 'test.json'),
      quant: p.quant,
      inputRange: p.inputRange,
      ptauCache: options.ptauCache ?? defaultPtauCache,
    });
    log(`[${k + 1}/${points.length}] ${p.name}: compile ...`);
    const c = await child(request('compile'), p.name, timeoutS);
    log(`    ${c.constraints} constraints in ${c.seconds.toFixed(1)} s (${c.peakRssMb.toFixed(0)} MB); setup ...`);
    const s = await child(request('setup'), p.name, timeoutS);
    log(`    setup ${s.seconds.toFixed(1)} s (${s.peakRssMb.toFixed(0)} MB); prove ...`);
    const v = await child(request('prove'), p.name, timeoutS);
    log(`    prove ${v.seconds.toFixed(2)} s (${v.peakRssMb.toFixed(0)} MB), on-chain ${v.onChain}`);
    rows.push({
      name: p.name,
      architecture: p.architecture,
      constraints: c.constraints!,
      agreement: c.agreement,
      compileS: c.seconds,
      compilePeakMb: c.peakRssMb,
      setupS: s.seconds,
      setupPeakMb: s.peakRssMb,
      witnessMs: v.witnessMs!,
      proveS: v.proveMs! / 1000,
      provePeakMb: v.peakRssMb,
      verifyGas: v.verifyGas,
      onChain: v.onChain,
    });
  }
  const results: ScalingResults = { rows, exponents: fit(rows), exponentsLarge: fit(rows.filter((r) => r.constraints >= LARGE)) };
  writeScaling(results, out);
  return results;
}

/** scaling.json, scaling.md and scaling.svg in `out`. */
export function writeScaling(results: ScalingResults, out: string): void {
  writeFileSync(join(out, 'scaling.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(out, 'scaling.md'), scalingMarkdown(results));
  writeFileSync(
    join(out, 'scaling.svg'),
    logLogChart(
      'Cost against constraints (log-log; r1cs backend, compact, 2 cores)',
      'constraints',
      figures.map(([k, label]) => ({ name: `${label} (k = ${results.exponents[k].toFixed(2)}; ${results.exponentsLarge[k].toFixed(2)} from 10^5)`, points: results.rows.map((r) => [r.constraints, r[k] as number] as [number, number]) })),
    ),
  );
}

function unknownPoint(name: string): never {
  throw new InvalidInputError(`unknown scaling point ${name}; the series has ${scalingPoints.map((p) => p.name).join(', ')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const opt = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  // --render FILE: the tables and chart again from a scaling.json, without measuring.
  const render = opt('--render');
  Promise.resolve()
    .then(async () => {
      const results = render
        ? ((r: ScalingResults) => ({ ...r, exponents: fit(r.rows), exponentsLarge: fit(r.rows.filter((w) => w.constraints >= LARGE)) }))(JSON.parse(readFileSync(render, 'utf8')) as ScalingResults)
        : await runScaling({ names: opt('--models')?.split(','), out: opt('--out'), timeoutS: opt('--timeout') ? Number(opt('--timeout')) : undefined });
      if (render) writeScaling(results, resolve(opt('--out') ?? dirname(render)));
      console.log(scalingMarkdown(results));
    })
    .catch((err) => {
      console.error(`error: ${(err as Error).message}`);
      process.exitCode = 1;
    });
}

/**
 * `npm run bench` / `zkml bench`: measures the suite (src/bench/suite.ts), each model in its own
 * process, then a cold start and (with --setup16) a 2^16 dev setup from nothing. Writes
 * <out>/results.json, <out>/results.md and SVG charts, and prints the Markdown tables.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem, availableParallelism, platform, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidInputError, ZkmlError } from '../errors.js';
import { packageRoot, packageVersion, defaultPtauCache } from '../paths.js';
import type { ColdStartResult, MeasureRequest, ModelResult } from './measure.js';
import { barChart, markdown, type BenchResults } from './report.js';
import { defaultModels, suite, suiteTarget, type BenchTarget } from './suite.js';

export interface BenchOptions {
  /** Bundled models of the suite, by name. */
  models?: string[];
  /** The user's own models or build folders (instead of the suite); see BenchTarget. */
  targets?: BenchTarget[];
  out?: string;
  proofs?: number;
  batchPerWorker?: number;
  /** Also time a 2^16 circuit's dev setup from an empty ptau cache (about 2 minutes). */
  setup16?: boolean;
  coldStart?: boolean;
  /** Time limit of one measurement process (one model, the cold start, the 2^16 setup); default 30 minutes. */
  timeoutS?: number;
  log?: (line: string) => void;
}

/** A measurement that failed: its process exited non-zero (or was killed), with the end of its stderr. */
export class BenchError extends ZkmlError {
  readonly code = 'BENCH';
}

const defaultTimeoutS = 30 * 60;

/**
 * Runs one measurement in its own process (`script` with the request as JSON, writing its result
 * to request.out), so that a crash or a hang (killed at timeoutS) fails that measurement, named
 * `what`, with its reason.
 */
export function measureInChild<T>(script: URL, request: { out: string }, timeoutS: number, what: string): Promise<T> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [script.pathname, JSON.stringify(request)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutS * 1000);
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      clearTimeout(timer);
      const why = timedOut ? `no result after ${timeoutS} s (raise --timeout for larger models)` : code === null ? 'killed' : `exit ${code}`;
      if (code === 0) done(JSON.parse(readFileSync(request.out, 'utf8')) as T);
      else fail(new BenchError(`${what} failed (${why}): ${err.split('\n').filter((l) => !l.startsWith('*')).slice(-8).join('\n')}`));
    });
  });
}

function child(request: MeasureRequest, timeoutS: number): Promise<unknown> {
  return measureInChild(new URL('./measure.js', import.meta.url), request, timeoutS, `measuring ${request.target.name}`);
}

const require = createRequire(import.meta.url);

/** A dependency's version, wherever npm put it (hoisted next to zkml when zkml is itself a dependency). */
function versionOf(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const p = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (p.name === pkg) return p.version;
    }
    if (dirname(dir) === dir) return 'unknown';
    dir = dirname(dir);
  }
}

function versions(): Record<string, string> {
  const v = versionOf;
  return { zkml: packageVersion, snarkjs: v('snarkjs'), circom2: v('circom2'), ffjavascript: v('ffjavascript'), 'onnxruntime-node': v('onnxruntime-node'), hardhat: v('hardhat'), solc: v('solc') };
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export async function runBench(options: BenchOptions = {}): Promise<BenchResults> {
  const log = options.log ?? ((l: string) => console.error(l));
  const out = resolve(options.out ?? 'bench');
  const work = join(out, 'work');
  mkdirSync(work, { recursive: true });
  const cores = availableParallelism();
  const names = options.models ?? (options.targets ? [] : defaultModels);
  const unknown = names.filter((m) => !suite.some((s) => s.name === m));
  if (unknown.length) {
    throw new InvalidInputError(`unknown bundled model(s): ${unknown.join(', ')}; the suite has ${suite.map((s) => s.name).join(', ')}. To bench your own model: zkml bench model.onnx --calibration samples.json (or a build folder with --samples)`);
  }
  const targets = [...names.map(suiteTarget), ...(options.targets ?? [])];
  const taken = new Set<string>();
  for (const t of targets) {
    if (taken.has(t.name)) throw new InvalidInputError(`two benchmark targets are named ${t.name}; rename one`);
    taken.add(t.name);
  }
  const timeoutS = options.timeoutS ?? defaultTimeoutS;
  const base = { buildRoot: join(work, 'build'), ptauCache: defaultPtauCache, proofs: options.proofs ?? 20, workers: Array.from({ length: cores }, (_, i) => i + 1), batchPerWorker: options.batchPerWorker ?? 24 };
  const results: BenchResults = {
    machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores, memoryGb: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()}`, node: process.versions.node },
    versions: versions(),
    commit: commit(),
    startedAt: new Date().toISOString(),
    models: [],
  };
  for (const [k, target] of targets.entries()) {
    const started = performance.now();
    log(`[${k + 1}/${targets.length}] ${target.name} ...`);
    const r = (await child({ ...base, kind: 'model', target, out: join(work, `${target.name}.json`) }, timeoutS)) as ModelResult;
    results.models.push(r);
    log(`    ${r.constraints} constraints, prove p50 ${r.proveMs.p50.toFixed(0)} ms, ${r.throughput.map((t) => `${t.workers}w ${t.proofsPerS.toFixed(2)}/s`).join(', ')} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  if (options.coldStart !== false) {
    log('cold start: digits_mlp from an empty build folder and ptau cache ...');
    results.coldStart = (await child({ ...base, kind: 'cold-start', target: suiteTarget('digits_mlp'), ptauCache: join(work, 'ptau_cold'), out: join(work, 'cold.json') }, timeoutS)) as ColdStartResult;
    log(`    ${results.coldStart.totalS.toFixed(1)} s, valid on-chain: ${results.coldStart.valid}`);
  }
  if (options.setup16) {
    log('2^16 dev setup: scaling_conv64 from an empty ptau cache ...');
    results.setup16 = (await child({ ...base, kind: 'cold-start', target: suiteTarget('scaling_conv64'), ptauCache: join(work, 'ptau_16'), out: join(work, 'setup16.json'), verifyPtau: true }, timeoutS)) as ColdStartResult;
    log(`    ${results.setup16.totalS.toFixed(1)} s, valid on-chain: ${results.setup16.valid}; snarkjs powersoftau verify: ${results.setup16.ptauVerify?.valid}`);
  }
  rmSync(join(work, 'ptau_cold'), { recursive: true, force: true });
  rmSync(join(work, 'ptau_16'), { recursive: true, force: true });

  writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2));
  const md = markdown(results, suite);
  writeFileSync(join(out, 'results.md'), md);
  const info = new Map(suite.map((s) => [s.name, s]));
  writeFileSync(join(out, 'constraints.svg'), barChart('Constraints per model: zkml vs circomlib-ml', results.models.map((m) => ({ label: m.model, values: [m.constraints, info.get(m.model)?.circomlibMl] })), ['zkml', 'circomlib-ml (same architecture)'], true));
  writeFileSync(join(out, 'prove.svg'), barChart('Prove time p50 (ms), in-process', results.models.map((m) => ({ label: m.model, values: [m.proveMs.p50] })), ['prove ms p50']));
  writeFileSync(join(out, 'throughput.svg'), barChart('Batch throughput (proofs/s)', results.models.map((m) => ({ label: m.model, values: [m.throughput[0]?.proofsPerS, m.throughput.at(-1)?.proofsPerS] })), [`1 worker`, `${cores} workers`]));
  const series = results.models.filter((m) => info.get(m.model)?.series);
  if (series.length) writeFileSync(join(out, 'scaling.svg'), barChart(`Scaling: ${info.get(series[0].model)!.series!.name}, constraints`, series.map((m) => ({ label: `C = ${info.get(m.model)!.series!.width}`, values: [m.constraints] })), ['constraints']));
  console.log(md);
  log(`wrote ${join(out, 'results.json')}, results.md and SVG charts`);
  return results;
}

function positive(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(`${flag} needs a whole number of at least 1, got ${value ?? 'nothing'}`);
  return n;
}

function parseArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--models') o.models = argv[++i] === 'all' ? suite.map((s) => s.name) : argv[i].split(',');
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--proofs') o.proofs = positive(a, argv[++i]);
    else if (a === '--setup16') o.setup16 = true;
    else if (a === '--no-cold-start') o.coldStart = false;
    else if (a === '--timeout') o.timeoutS = positive(a, argv[++i]);
    else throw new InvalidInputError(`unknown option ${a}; options: --models a,b|all, --out dir, --proofs n, --setup16, --no-cold-start, --timeout s`);
  }
  return o;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  Promise.resolve()
    .then(() => runBench(parseArgs(process.argv.slice(2))))
    .catch((err) => {
      console.error(`error: ${(err as Error).message}`);
      process.exitCode = 1;
    });
}

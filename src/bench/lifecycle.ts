/**
 * `npm run bench:pool-cycles`: many ProvingPool start/prove/stop cycles in the benchmark's style,
 * counting the processes that die. Cycles run in child processes of `perChild` cycles each
 * (src/bench/lifecycle_child.ts), so that a native crash (SIGSEGV, SIGABRT from glibc's heap
 * checks, a V8 fatal error) is counted and the run goes on in a new child from the next cycle.
 *
 *   node dist/src/bench/lifecycle.js [--cycles 200] [--per-child 10] [--workers 1,2] [--batch-per-worker 2]
 *                                    [--build <dir>] [--cycle-timeout <s>] [--out <file.json>]
 *
 * Without --build, iris_mlp is compiled and set up in a temporary folder. Exits non-zero when any
 * child crashed, hung or failed. Before blake-hash's native addon was kept out of our threads
 * (src/commit/blake_hash_js.ts), 47 of 200 cycles killed their process; after, none.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile } from '../compile/compile.js';
import { readSamples } from '../compile/samples.js';
import { modelsDir } from '../paths.js';
import { setup } from '../setup/setup.js';
import type { CycleBatch } from './lifecycle_child.js';

export interface LifecycleOptions {
  cycles?: number;
  perChild?: number;
  /** Pool sizes, in turn: cycle k starts workers[k % workers.length] threads. */
  workers?: number[];
  /** Proofs per worker in each cycle's batch, after one warm-up proof per worker. */
  batchPerWorker?: number;
  /** A build with keys; default: iris_mlp compiled and set up in a temporary folder. */
  build?: string;
  /** A child that finishes no cycle for this long is killed and counted as a hang (default 60 s; a cycle takes 1-2 s). */
  cycleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ChildFailure {
  /** The cycle that was running (the first one the child had not finished). */
  cycle: number;
  /** crash: killed by a signal or aborted (exit >= 128); hang: no progress for cycleTimeoutMs (then killed); failure: an error it reported. */
  kind: 'crash' | 'hang' | 'failure';
  signal: string | null;
  exitCode: number | null;
  /** The last lines of its stderr (glibc's and V8's messages land here). */
  stderr: string;
}

export interface LifecycleResult {
  cycles: number;
  completed: number;
  crashes: number;
  hangs: number;
  failures: ChildFailure[];
  children: number;
  seconds: number;
  node: string;
}

function runChild(batch: CycleBatch, timeoutMs: number, onCycle: (k: number) => void): Promise<{ finished: number; failure?: Omit<ChildFailure, 'cycle'> }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [new URL('./lifecycle_child.js', import.meta.url).pathname, JSON.stringify(batch)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let finished = 0;
    let out = '';
    let err = '';
    let hung = false;
    let watchdog: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, timeoutMs);
    };
    arm();
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('cycle ')) continue;
        finished++;
        arm();
        onCycle(Number(line.slice(6)));
      }
    });
    child.stderr.on('data', (d: Buffer) => (err = (err + d).slice(-4000)));
    child.on('close', (exitCode, signal) => {
      clearTimeout(watchdog);
      if (exitCode === 0 && finished === batch.count) return done({ finished });
      const kind = hung ? 'hang' : signal !== null || (exitCode ?? 0) >= 128 ? 'crash' : 'failure';
      const stderr = err.trim().split('\n').slice(-6).join('\n');
      done({ finished, failure: { kind, signal, exitCode, stderr } });
    });
  });
}

export async function runLifecycle(options: LifecycleOptions = {}): Promise<LifecycleResult> {
  const log = options.log ?? ((l: string) => console.error(l));
  const cycles = options.cycles ?? 200;
  const perChild = Math.max(1, options.perChild ?? 10);
  const workers = options.workers ?? [1, 2];
  const started = performance.now();
  let scratch: string | undefined;
  let build = options.build;
  if (!build) {
    scratch = mkdtempSync(join(tmpdir(), 'zkml-pool-cycles-'));
    build = join(scratch, 'iris_mlp');
    const src = join(modelsDir, 'iris_mlp');
    await compile(join(src, 'model.onnx'), { calibration: join(src, 'calibration.json'), out: build });
    await setup(build);
  }
  const inputs = readSamples(join(modelsDir, 'iris_mlp', 'test.json')).inputs.slice(0, 16);
  const failures: ChildFailure[] = [];
  let completed = 0;
  let children = 0;
  try {
    for (let next = 0; next < cycles; ) {
      const count = Math.min(perChild, cycles - next);
      children++;
      const batch = { build, inputs, from: next, count, workers, batchPerWorker: options.batchPerWorker ?? 2 };
      const { finished, failure } = await runChild(batch, options.cycleTimeoutMs ?? 60_000, () => completed++);
      if (failure) {
        failures.push({ cycle: next + finished, ...failure });
        log(`  cycle ${next + finished}: ${failure.kind} (${failure.signal ?? `exit ${failure.exitCode}`}) ${failure.stderr.split('\n').at(-1) ?? ''}`);
        next += finished + 1; // the cycle it died in is spent; go on from the next one
      } else {
        next += count;
      }
      if (children % 5 === 0 || next >= cycles) log(`${next}/${cycles} cycles, ${failures.length} child(ren) lost`);
    }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  return {
    cycles,
    completed,
    crashes: failures.filter((f) => f.kind === 'crash').length,
    hangs: failures.filter((f) => f.kind === 'hang').length,
    failures,
    children,
    seconds: (performance.now() - started) / 1000,
    node: process.version,
  };
}

function parseArgs(argv: string[]): LifecycleOptions & { out?: string } {
  const o: LifecycleOptions & { out?: string } = {};
  const int = (v: string | undefined, name: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} takes a positive integer, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--cycles') o.cycles = int(argv[++i], a);
    else if (a === '--per-child') o.perChild = int(argv[++i], a);
    else if (a === '--batch-per-worker') o.batchPerWorker = int(argv[++i], a);
    else if (a === '--workers') o.workers = (argv[++i] ?? '').split(',').map((w) => int(w, a));
    else if (a === '--build') o.build = argv[++i];
    else if (a === '--cycle-timeout') o.cycleTimeoutMs = int(argv[++i], a) * 1000;
    else if (a === '--out') o.out = argv[++i];
    else throw new Error(`unknown option ${a}; options: --cycles n, --per-child n, --workers a,b, --batch-per-worker n, --build dir, --cycle-timeout s, --out file.json`);
  }
  return o;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const options = parseArgs(process.argv.slice(2));
    const r = await runLifecycle(options);
    if (options.out) writeFileSync(options.out, JSON.stringify(r, null, 2));
    console.log(`${r.cycles} pool start/prove/stop cycles in ${r.children} processes (node ${r.node}, ${r.seconds.toFixed(0)} s): ${r.completed} completed, ${r.crashes} crashed, ${r.hangs} hung, ${r.failures.length - r.crashes - r.hangs} failed`);
    for (const f of r.failures) console.log(`  cycle ${f.cycle}: ${f.kind}, ${f.signal ?? `exit ${f.exitCode}`}: ${f.stderr.replace(/\n/g, ' | ')}`);
    if (r.failures.length) process.exitCode = 1;
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

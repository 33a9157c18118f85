/**
 * `zkml bench-service`: the proving service under load, against 127.0.0.1. N single-input jobs on
 * one model go through the HTTP API of a `zkml serve` process (embedded store, 2 proving threads),
 * and again through `zkml serve --redis` with two `zkml worker --redis` processes of one thread
 * each (when redis-server is installed). Every job must complete and every proof verify. The
 * baseline, measured in the same run, is `proveBatch` on a 2-thread pool with no service at all.
 * Writes <out>/service.json and service.md, and prints the Markdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as z from '../index.js';
import { modelsDir, packageRoot } from '../paths.js';
import { createApiKey } from '../service/auth.js';
import { percentile } from './stats.js';

export interface ServiceRun {
  mode: string;
  jobs: number;
  completed: number;
  verified: number;
  seconds: number;
  proofsPerSecond: number;
  /** Job latency (accepted to finished, server clock), ms. */
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** One proof's own time (inference, witness, Groth16; the prover's timings), ms. */
  proofP50Ms: number;
  proofP95Ms: number;
  ratio?: number;
  skipped?: string;
}

const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');

/** Starts a CLI process and waits for its JSON `event` line on stdout. */
async function startCli(args: string[], event: string): Promise<{ child: ChildProcess; line: Record<string, string> }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZKML_RPC: '' } });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolveStart, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      for (const l of out.split('\n')) {
        if (l.startsWith('{') && l.includes(`"event":"${event}"`)) return resolveStart({ child, line: JSON.parse(l) });
      }
    });
    child.on('exit', (code) => reject(new Error(`zkml ${args[0]} exited (${code}): ${err}`)));
  });
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

async function startRedisServer(): Promise<{ url: string; child: ChildProcess } | undefined> {
  const port = await freePort();
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolveStart) => {
    let out = '';
    child.on('error', () => resolveStart(undefined));
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolveStart({ url: `redis://127.0.0.1:${port}`, child });
    });
  });
}

/** A JSON request with the benchmark's API key. */
async function json(url: string, token: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });
  const body = await res.json();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Runs `f` over `items` with at most `limit` in flight. */
async function inParallel<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  }));
  return out;
}

/** N single-input jobs through the API at `base`: submit, wait, fetch and verify every proof. */
async function load(base: string, token: string, model: string, buildDir: string, inputs: readonly number[][], log: (l: string) => void): Promise<Omit<ServiceRun, 'mode'>> {
  const ids = await inParallel(inputs, 32, async (input) => (await json(`${base}/v1/jobs`, token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, input }) })).id as string);
  // Jobs run in submission order: wait on the oldest unfinished one, so that polling adds next to no
  // load; then read every job once. Latencies come from the server's timestamps.
  let next = 0;
  while (next < ids.length) {
    const j = await json(`${base}/v1/jobs/${ids[next]}`, token);
    if (j.state === 'completed' || j.state === 'failed') {
      next++;
      if (next % 50 === 0) log(`  ${next}/${ids.length} jobs finished`);
    } else await new Promise((r) => setTimeout(r, 250));
  }
  const jobs = new Map<string, any>();
  await inParallel(ids, 8, async (id) => void jobs.set(id, await json(`${base}/v1/jobs/${id}`, token)));
  if ([...jobs.values()].some((j) => j.state !== 'completed' && j.state !== 'failed')) throw new Error('a job finished out of order and is still running');
  const all = [...jobs.values()];
  const first = Math.min(...all.map((j) => Date.parse(j.createdAt)));
  const last = Math.max(...all.map((j) => Date.parse(j.finishedAt)));
  const latency = all.map((j) => Date.parse(j.finishedAt) - Date.parse(j.createdAt));
  let verified = 0;
  const proofMs: number[] = [];
  await inParallel(ids, 4, async (id) => {
    const [item] = (await json(`${base}/v1/jobs/${id}/results`, token)).items;
    if (item?.result) proofMs.push(item.result.timings.totalMs);
    if (item?.result && (await z.verify(buildDir, item.result, { insecureDevKeys: true })).valid) verified++; // dev keys
  });
  const seconds = (last - first) / 1000;
  return {
    jobs: ids.length,
    completed: all.filter((j) => j.state === 'completed').length,
    verified,
    seconds,
    proofsPerSecond: ids.length / seconds,
    p50Ms: percentile(latency, 50),
    p95Ms: percentile(latency, 95),
    maxMs: Math.max(...latency),
    proofP50Ms: percentile(proofMs, 50),
    proofP95Ms: percentile(proofMs, 95),
  };
}

export async function runServiceBench(options: { model?: string; jobs?: number; out?: string; log?: (l: string) => void } = {}): Promise<ServiceRun[]> {
  const log = options.log ?? (() => {});
  const model = options.model ?? 'digits_mlp';
  const n = options.jobs ?? 500;
  const out = resolve(options.out ?? 'bench');
  mkdirSync(out, { recursive: true });
  const buildDir = join(out, 'service-builds', model);
  const src = join(modelsDir, model);
  log(`compiling and setting up ${model}`);
  await z.compile(join(src, 'model.onnx'), { calibration: join(src, 'calibration.json'), test: join(src, 'test.json'), out: buildDir });
  await z.setup(buildDir);
  const samples = z.readSamples(join(src, 'test.json')).inputs;
  const inputs = Array.from({ length: n }, (_, i) => samples[i % samples.length]);
  const runs: ServiceRun[] = [];

  log(`baseline: a warm 2-thread ProvingPool, ${n} inputs, no service`);
  const pool = new z.ProvingPool(buildDir, 2);
  let batch: z.BatchItem[];
  let baseSeconds: number;
  try {
    await pool.warmUp(inputs[0]);
    const t0 = performance.now();
    batch = await pool.prove(inputs);
    baseSeconds = (performance.now() - t0) / 1000;
  } finally {
    await pool.destroy();
  }
  const baseProof = batch.flatMap((b) => (b.outcome.ok ? [b.outcome.result.timings.totalMs] : []));
  runs.push({
    mode: 'ProvingPool (no service, baseline)',
    jobs: n,
    completed: baseProof.length,
    verified: NaN,
    seconds: baseSeconds,
    proofsPerSecond: n / baseSeconds,
    p50Ms: NaN,
    p95Ms: NaN,
    maxMs: NaN,
    proofP50Ms: percentile(baseProof, 50),
    proofP95Ms: percentile(baseProof, 95),
    ratio: 1,
  });

  const store = mkdtempSync(join(tmpdir(), 'zkml-bench-store-'));
  // One API key for the load (the service refuses to start without keys).
  const keys = join(mkdtempSync(join(tmpdir(), 'zkml-bench-keys-')), 'keys.json');
  const { token } = createApiKey(keys, { name: 'bench', scopes: ['prove', 'read'] });
  log(`zkml serve: embedded store, 2 proving threads; ${n} jobs over HTTP`);
  // The benchmark's build has dev keys, which `zkml serve` refuses without --insecure-dev-keys.
  const local = await startCli(['serve', buildDir, '--port', '0', '--store', store, '--workers', '2', '--insecure-dev-keys', '--api-keys', keys], 'listening');
  try {
    runs.push({ mode: 'zkml serve (embedded store, 2 threads)', ...(await load(local.line.url, token, model, buildDir, inputs, log)) });
  } finally {
    local.child.kill('SIGTERM');
    await once(local.child, 'exit');
  }

  const redis = await startRedisServer();
  if (!redis) runs.push({ mode: 'zkml serve --redis + 2 zkml worker', jobs: n, completed: 0, verified: 0, seconds: NaN, proofsPerSecond: NaN, p50Ms: NaN, p95Ms: NaN, maxMs: NaN, proofP50Ms: NaN, proofP95Ms: NaN, skipped: 'redis-server is not installed' });
  else {
    log(`zkml serve --redis with two zkml worker processes (1 thread each); ${n} jobs over HTTP`);
    const procs: ChildProcess[] = [redis.child];
    try {
      const server = await startCli(['serve', buildDir, '--port', '0', '--redis', redis.url, '--insecure-dev-keys', '--api-keys', keys], 'listening');
      procs.push(server.child);
      for (let i = 0; i < 2; i++) procs.push((await startCli(['worker', buildDir, '--redis', redis.url, '--workers', '1'], 'ready')).child);
      runs.push({ mode: 'zkml serve --redis + 2 zkml worker (1 thread each)', ...(await load(server.line.url, token, model, buildDir, inputs, log)) });
    } finally {
      for (const p of procs.reverse()) {
        p.kill('SIGTERM');
        await once(p, 'exit');
      }
    }
  }
  for (const r of runs) if (r.ratio === undefined && !r.skipped) r.ratio = r.proofsPerSecond / runs[0].proofsPerSecond;
  writeFileSync(join(out, 'service.json'), JSON.stringify({ model, jobs: n, runs }, null, 2));
  writeFileSync(join(out, 'service.md'), serviceMarkdown(model, runs));
  return runs;
}

export function serviceMarkdown(model: string, runs: readonly ServiceRun[]): string {
  const f = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const lines = [
    `## Proving service under load: ${runs[0]?.jobs} single-input jobs on ${model}, HTTP on 127.0.0.1`,
    '',
    'All jobs are submitted at once, so job latency (accepted to finished, server clock) is mostly time in the queue; proof time is the prover\'s own (inference, witness, Groth16).',
    '',
    '| mode | completed | verified | seconds | proofs/s | vs baseline | job latency p50 ms | p95 ms | max ms | proof p50 ms | proof p95 ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map((r) =>
      r.skipped
        ? `| ${r.mode} | skipped: ${r.skipped} | | | | | | | | | |`
        : `| ${r.mode} | ${r.completed}/${r.jobs} | ${Number.isNaN(r.verified) ? '-' : `${r.verified}/${r.jobs}`} | ${f(r.seconds, 1)} | ${f(r.proofsPerSecond, 2)} | ${f(r.ratio ?? NaN, 2)}x | ${f(r.p50Ms)} | ${f(r.p95Ms)} | ${f(r.maxMs)} | ${f(r.proofP50Ms)} | ${f(r.proofP95Ms)} |`,
    ),
  ];
  return lines.join('\n') + '\n';
}

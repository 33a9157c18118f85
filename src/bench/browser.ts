/**
 * `zkml bench-browser`: prove time in Chromium (the `zkml/browser` bundle in a page served by
 * `zkml web`, cross-origin isolated) against Node (the Prover), for bundled models compiled with
 * private input, on the same machine in the same run: the median of several proofs after a
 * warm-up, with every core and on one thread on each side. Also the bundle's size, raw and
 * gzipped (as `zkml web` serves it). Writes <out>/browser.json, browser.md and browser.svg.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as z from '../index.js';
import { browserDist, modelsDir } from '../paths.js';
import { chromiumLaunchArgs, findChromium } from '../web/chromium.js';
import { listFiles } from '../files.js';
import { barChart } from './report.js';
import { percentile } from './stats.js';

export const browserModels = ['iris_mlp', 'breast_cancer_logreg', 'digits_mlp', 'digits_cnn'];

export interface BrowserBenchRow {
  model: string;
  constraints: number;
  zkeyBytes: number;
  /** Median prove time (ms) with every core, and on one thread: Node, then Chromium. */
  nodeMs: number;
  nodeSingleMs: number;
  browserMs: number;
  browserSingleMs: number;
  /** Median total time in Chromium (quantize, float model, witness, proof, check). */
  browserTotalMs: number;
  /** Loading the build in the page: download, key parse, witness calculator, float model. */
  browserLoadMs: number;
}

export interface BrowserBench {
  chromium: string;
  cores: number;
  runs: number;
  rows: BrowserBenchRow[];
  bundle: { file: string; bytes: number; gzipBytes: number }[];
}

function bundleSizes(): BrowserBench['bundle'] {
  return listFiles(browserDist)
    .filter((f) => !f.endsWith('.map'))
    .map((f) => ({ file: f.slice(browserDist.length + 1), bytes: statSync(f).size, gzipBytes: gzipSync(readFileSync(f)).length }))
    .sort((a, b) => b.bytes - a.bytes);
}

export async function runBrowserBench(options: { models?: string[]; runs?: number; out?: string; chromium?: string; log?: (l: string) => void } = {}): Promise<BrowserBench> {
  const log = options.log ?? (() => {});
  const runs = options.runs ?? 5;
  const out = resolve(options.out ?? 'bench');
  const executablePath = options.chromium ?? findChromium();
  if (!executablePath) throw new z.MissingArtifactError('chromium', 'no Chromium found: apt-get install chromium, or pass --chromium <path>');
  // playwright-core is a development dependency: the benchmark runs from a checkout.
  const { chromium } = await import('playwright-core');
  mkdirSync(out, { recursive: true });
  const models = options.models ?? browserModels;
  const dirs: string[] = [];
  const rows: BrowserBenchRow[] = [];
  for (const model of models) {
    const src = join(modelsDir, model);
    const dir = join(out, 'browser-builds', model);
    const m = await z.compile(join(src, 'model.onnx'), { calibration: join(src, 'calibration.json'), test: join(src, 'test.json'), out: dir, visibility: { input: 'private', output: 'public' } });
    await z.setup(dir);
    dirs.push(dir);
    const input = z.readSamples(join(src, 'test.json')).inputs[0];
    const node: number[] = [];
    for (const singleThread of [false, true]) {
      const prover = await z.Prover.load(dir, { singleThread });
      try {
        await prover.prove(input);
        const times: number[] = [];
        for (let i = 0; i < runs; i++) times.push((await prover.prove(input)).timings.proveMs);
        node.push(percentile(times, 50));
      } finally {
        await prover.close();
      }
    }
    rows.push({ model, constraints: m.circuit.constraints, zkeyBytes: statSync(join(dir, 'model.zkey')).size, nodeMs: node[0], nodeSingleMs: node[1], browserMs: 0, browserSingleMs: 0, browserTotalMs: 0, browserLoadMs: 0 });
    log(`${model}: ${m.circuit.constraints} constraints; Node ${node[0].toFixed(0)} ms (1 thread: ${node[1].toFixed(0)} ms)`);
  }
  const web = await z.startWebServer({ builds: dirs });
  const browser = await chromium.launch({ executablePath, ...chromiumLaunchArgs });
  let version = '';
  try {
    version = browser.version();
    const page = await browser.newPage();
    await page.goto(web.url);
    for (const [i, row] of rows.entries()) {
      const m = web.config.models[i];
      const input = z.readSamples(join(modelsDir, row.model, 'test.json')).inputs[0];
      const measured = await page.evaluate(
        async ({ url, input, runs }) => {
          // The page's own module URL: resolved by the browser, not by TypeScript.
          const { loadModel, sharedPart } = (await import(`${location.origin}/zkml.js`)) as typeof import('../browser/index.js');
          const result: { threads: boolean; prove: number; total: number; load: number }[] = [];
          for (const threads of [true, false]) {
            const t0 = performance.now();
            const model = await loadModel(url, { threads, ortWasmUrl: '/ort-wasm-simd-threaded.wasm' });
            const load = performance.now() - t0;
            await model.prove(input);
            const prove: number[] = [];
            const total: number[] = [];
            for (let k = 0; k < runs; k++) {
              const r = await model.prove(input);
              prove.push(r.timings.proveMs);
              total.push(r.timings.totalMs);
            }
            const v = await model.verify(sharedPart(await model.prove(input)));
            if (!v.valid) throw new Error(`${url}: ${v.reason}`);
            model.close();
            const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
            result.push({ threads, prove: mid(prove), total: mid(total), load });
          }
          return result;
        },
        { url: m.url, input, runs },
      );
      row.browserMs = measured[0].prove;
      row.browserTotalMs = measured[0].total;
      row.browserLoadMs = measured[0].load;
      row.browserSingleMs = measured[1].prove;
      log(`${row.model}: Chromium ${row.browserMs.toFixed(0)} ms (1 thread: ${row.browserSingleMs.toFixed(0)} ms), ${(row.browserMs / row.nodeMs).toFixed(2)}x Node`);
    }
  } finally {
    await browser.close();
    await web.close();
  }
  const result: BrowserBench = { chromium: version, cores: (await import('node:os')).availableParallelism(), runs, rows, bundle: bundleSizes() };
  writeFileSync(join(out, 'browser.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(out, 'browser.md'), browserMarkdown(result));
  writeFileSync(join(out, 'browser.svg'), barChart('Prove time (ms), every core: Node and Chromium', rows.map((r) => ({ label: r.model, values: [r.nodeMs, r.browserMs] })), ['Node (Prover)', `Chromium ${version}`]));
  return result;
}

const n = (v: number, d = 0) => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const kb = (b: number) => `${n(b / 1024)} kB`;

export function browserMarkdown(r: BrowserBench): string {
  const lines = [
    '# Proving in the browser',
    '',
    `Chromium ${r.chromium} (headless, cross-origin isolated page from \`zkml web\`) against Node, ${r.cores} cores, private-input builds; median of ${r.runs} proofs after a warm-up. Ratios are Chromium / Node in the same run.`,
    '',
    '| model | constraints | proving key | Node ms | Chromium ms | ratio | Node 1 thread | Chromium 1 thread | ratio | Chromium total ms | page load ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map((x) => `| ${x.model} | ${n(x.constraints)} | ${kb(x.zkeyBytes)} | ${n(x.nodeMs)} | ${n(x.browserMs)} | ${(x.browserMs / x.nodeMs).toFixed(2)}x | ${n(x.nodeSingleMs)} | ${n(x.browserSingleMs)} | ${(x.browserSingleMs / x.nodeSingleMs).toFixed(2)}x | ${n(x.browserTotalMs)} | ${n(x.browserLoadMs)} |`),
    '',
    '| bundle file (dist/browser) | size | gzipped |',
    '|---|---|---|',
    ...r.bundle.map((b) => `| ${b.file} | ${kb(b.bytes)} | ${kb(b.gzipBytes)} |`),
    `| total | ${kb(r.bundle.reduce((a, b) => a + b.bytes, 0))} | ${kb(r.bundle.reduce((a, b) => a + b.gzipBytes, 0))} |`,
  ];
  return lines.join('\n') + '\n';
}

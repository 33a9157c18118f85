/**
 * `zkml bench-batch`: inferences per proof (src/commit/batch.ts). For each model and batch size N
 * (compact mode: hashed input and output, so the public signals are constant), on the same
 * 2-worker pool and the same JSON-RPC node (`hardhat node` on 127.0.0.1): constraints, setup
 * time, prove time per inference as a ratio of N = 1 (one proof per input, measured in the same
 * run), proofs and inferences per second, registry calldata and gas per inference, and what it
 * costs to read one item's result: record it (openItem, then resultOfCommitted is a plain read)
 * or check it in a view (itemOf). The alternative of recording every item at submission is
 * measured too: the batch plus every item opened at once. Writes <out>/batch.json, batch.md and
 * batch_gas.svg.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ethers } from 'ethers';
import * as z from '../index.js';
import { modelsDir } from '../paths.js';
import { requiredPower } from '../setup/ptau.js';
import { createApiKey } from '../service/auth.js';
import { startService } from '../service/service.js';
import { verifyBatchItems } from '../verify/batch.js';
import { barChart } from './report.js';

export const batchSizes = [1, 8, 32, 128];
export const batchModels = ['digits_mlp', 'digits_cnn'];

/** Builds above this are reported as skipped (2^20 is the largest key the dev ptau cache makes; about 2.5 min of setup here). */
const DEFAULT_MAX_CONSTRAINTS = 1_040_000;
const WORKERS = 2;

export interface BatchBenchRow {
  model: string;
  batchSize: number;
  constraints?: number;
  constraintsPerInference?: number;
  power?: number;
  setupS?: number;
  /** Inputs proved on the pool, and its wall time per inference (workers loaded first). */
  inputs?: number;
  proveMsPerInference?: number;
  proofsPerS?: number;
  inferencesPerS?: number;
  calldataBytes?: number;
  submitGas?: number;
  submitGasPerInference?: number;
  /** Recording one item's result (openItem); a single proof's result is recorded by submit itself. */
  openGas?: number;
  /** Reading a recorded result (resultOfCommitted), and checking an unrecorded item (itemOf), as eth_estimateGas of the view. */
  readGas?: number;
  itemViewGas?: number;
  /** The batch and every item opened right away, per inference: what recording every item at submission costs. */
  recordAllGasPerInference?: number;
  skipped?: string;
}

/** A job through the proving service's HTTP API on a batched build, every item's result verified. */
export interface ServiceJobRun {
  model: string;
  batchSize: number;
  inputs: number;
  proofs: number;
  seconds: number;
  inferencesPerS: number;
  /** Items whose stored result verified: its proof's pairing check (once per proof) and its own opening. */
  verified: number;
}

export async function runBatchBench(
  options: { models?: string[]; sizes?: number[]; maxConstraints?: number; out?: string; log?: (l: string) => void; serviceJob?: { model: string; batchSize: number; inputs: number } | false } = {},
): Promise<{ rows: BatchBenchRow[]; service?: ServiceJobRun }> {
  const log = options.log ?? (() => {});
  const out = resolve(options.out ?? 'bench');
  const root = join(out, 'batch-builds');
  const cap = options.maxConstraints ?? DEFAULT_MAX_CONSTRAINTS;
  const sizes = options.sizes ?? batchSizes;
  mkdirSync(out, { recursive: true });
  const node = await z.startHardhatNode();
  const chain = await z.rpcChain(node.url);
  const rows: BatchBenchRow[] = [];
  const job = options.serviceJob === false ? undefined : (options.serviceJob ?? { model: 'digits_mlp', batchSize: 32, inputs: 1000 });
  let service: ServiceJobRun | undefined;
  try {
    const registry = (await z.deployRegistry(chain)).contract as ethers.Contract;
    const recipient = await chain.signer.getAddress();
    for (const model of options.models ?? batchModels) {
      const src = join(modelsDir, model);
      const samples = z.readSamples(join(src, 'test.json')).inputs;
      let perInference: number | undefined;
      for (const n of sizes) {
        const dir = join(root, `${model}_${n}`);
        rmSync(dir, { recursive: true, force: true });
        // The estimate from the last size keeps a build that would pass the cap from being compiled at all.
        if (perInference !== undefined && perInference * n > cap) {
          rows.push({ model, batchSize: n, skipped: `~${Math.round(perInference * n).toLocaleString('en-US')} constraints (cap ${cap.toLocaleString('en-US')}; --max-constraints)` });
          log(`${model} N=${n}: skipped (size)`);
          continue;
        }
        const m = await z.compile(join(src, 'model.onnx'), { calibration: join(src, 'calibration.json'), test: join(src, 'test.json'), out: dir, visibility: { input: 'hashed', output: 'hashed' }, batchSize: n });
        perInference = m.circuit.constraints / n;
        const row: BatchBenchRow = { model, batchSize: n, constraints: m.circuit.constraints, constraintsPerInference: Math.round(perInference) };
        const t0 = performance.now();
        await z.setup(dir);
        row.setupS = (performance.now() - t0) / 1000;
        row.power = requiredPower(m.circuit.constraints, m.circuit.publicSignals);
        log(`${model} N=${n}: ${m.circuit.constraints} constraints, setup ${row.setupS.toFixed(1)} s (2^${row.power})`);

        // The pool: workers load the build first, then M inputs, at least two proofs per worker.
        const inputs = Array.from({ length: Math.max(64, 2 * WORKERS * n) }, (_, i) => samples[i % samples.length]);
        const pool = new z.ProvingPool(dir, WORKERS);
        let proofs: { proof: z.ProofResult['proof']; publicSignals: string[]; batch?: z.BatchProofResult }[] = [];
        try {
          await pool.warmUp(inputs[0]);
          const t1 = performance.now();
          if (n === 1) {
            const done = await pool.prove(inputs, undefined, { recipient });
            proofs = done.map((d) => {
              if (!d.outcome.ok) throw new Error(`${model}: ${d.outcome.error.message}`);
              return d.outcome.result;
            });
          } else {
            const done = await pool.proveBatched(inputs, undefined, { recipient });
            proofs = done.map((d) => {
              if (!d.outcome.ok) throw new Error(`${model} N=${n}: ${d.outcome.error.message}`);
              return { ...d.outcome.result, batch: d.outcome.result };
            });
          }
          const seconds = (performance.now() - t1) / 1000;
          Object.assign(row, { inputs: inputs.length, proveMsPerInference: (seconds * 1000) / inputs.length, proofsPerS: proofs.length / seconds, inferencesPerS: inputs.length / seconds });
        } finally {
          await pool.destroy();
        }
        const first = proofs[0];
        const verified = await z.verify(dir, first.batch ?? first, { insecureDevKeys: true }); // dev keys: measured, not trusted
        if (!verified.valid) throw new Error(`${model} N=${n}: ${verified.reason}`);

        const artifact = await z.verifierArtifact(dir);
        const verifier = await z.deployVerifier(chain, artifact);
        const vkey = JSON.parse(readFileSync(join(dir, 'verification_key.json'), 'utf8'));
        const { modelId } = await z.registerModel(registry, z.registrationFor(m, vkey, verifier.address, `zkml://${model}/batch-${n}`));
        if (!first.batch) {
          row.calldataBytes = (z.submitCalldata(modelId, first.proof, first.publicSignals).length - 2) / 2;
          const sub = await z.submitProof(registry, modelId, first.proof, first.publicSignals);
          row.submitGas = Number(sub.gasUsed);
          row.submitGasPerInference = row.submitGas;
          row.readGas = await viewGas(registry.resultOfCommitted.estimateGas(modelId, sub.inputKey, sub.recipient, sub.outputCommitment!));
          row.recordAllGasPerInference = row.submitGas;
        } else {
          const b = first.batch;
          row.calldataBytes = (z.submitBatchCalldata(modelId, b.proof, b.publicSignals).length - 2) / 2;
          const sub = await z.submitBatch(registry, modelId, b.proof, b.publicSignals);
          row.submitGas = Number(sub.gasUsed);
          row.submitGasPerInference = row.submitGas / b.batch.count;
          row.itemViewGas = await viewGas(registry.itemOf.estimateGas(modelId, z.batchItemArg(m, b, 0)));
          let opened = 0;
          for (const it of b.items) {
            const o = await z.openItem(registry, modelId, z.batchItemArg(m, b, it.index));
            opened += Number(o.gasUsed);
            if (it.index === 0) {
              row.openGas = Number(o.gasUsed);
              row.readGas = await viewGas(registry.resultOfCommitted.estimateGas(modelId, o.inputKey, o.recipient, o.outputCommitment!));
            }
          }
          row.recordAllGasPerInference = (row.submitGas + opened) / b.batch.count;
        }
        rows.push(row);
        if (job && job.model === model && job.batchSize === n) {
          service = await serviceJob(dir, model, n, Array.from({ length: job.inputs }, (_, i) => samples[i % samples.length]), log);
        }
        log(`${model} N=${n}: ${row.proveMsPerInference!.toFixed(0)} ms per inference on ${WORKERS} workers, submit ${row.submitGas} gas (${Math.round(row.submitGasPerInference!)} per inference)`);
        rmSync(join(dir, 'model.zkey'), { force: true });
      }
    }
  } finally {
    await chain.close();
    await node.stop();
    await z.releaseCurves();
  }
  writeFileSync(join(out, 'batch.json'), JSON.stringify({ startedAt: new Date().toISOString(), workers: WORKERS, rows, service }, null, 2));
  writeFileSync(join(out, 'batch.md'), batchMarkdown(rows, service));
  writeFileSync(
    join(out, 'batch_gas.svg'),
    barChart(
      'Registry gas per inference: submission, and recording every item',
      rows.filter((r) => !r.skipped).map((r) => ({ label: `${r.model} N=${r.batchSize}`, values: [r.submitGasPerInference, r.recordAllGasPerInference] })),
      ['submit (batch recorded; items opened when needed)', 'submit + open every item'],
    ),
  );
  return { rows, service };
}

/**
 * The proving service (embedded store, 2 workers) proves `inputs` as one job on a batched build;
 * every item's stored result is then read over HTTP and verified: the pairing check once per
 * proof, and each item's opening (keys, path, input and output) against its proof's statement.
 */
async function serviceJob(dir: string, model: string, batchSize: number, inputs: number[][], log: (l: string) => void): Promise<ServiceJobRun> {
  const keys = join(mkdtempSync(join(tmpdir(), 'zkml-bench-keys-')), 'keys.json');
  const { token } = createApiKey(keys, { name: 'bench', scopes: ['prove', 'read'] });
  const store = mkdtempSync(join(tmpdir(), 'zkml-bench-store-'));
  const running = await startService({ builds: [dir], port: 0, store, workers: WORKERS, insecureDevKeys: true, apiKeys: keys });
  const call = async (path: string, body?: unknown) => {
    const res = await fetch(running.url + path, { method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  try {
    const name = dir.split('/').at(-1)!;
    log(`service: a ${inputs.length}-input job on ${name} (${batchSize} per proof)`);
    const t0 = performance.now();
    const { id } = await call('/v1/jobs', { model: name, inputs, salt: '1' });
    for (;;) {
      const j = await call(`/v1/jobs/${id}`);
      if (j.state !== 'queued' && j.state !== 'running') {
        if (j.state !== 'completed') throw new Error(`service job ${j.state}: ${JSON.stringify(j.progress)}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (performance.now() - t0) / 1000;
    const results: z.BatchItemProof[] = [];
    for (let offset: number | undefined = 0; offset !== undefined; ) {
      const page = await call(`/v1/jobs/${id}/results?offset=${offset}&limit=1000`);
      results.push(...page.items.map((it: { result: z.BatchItemProof }) => it.result));
      offset = page.next;
    }
    const build = z.loadBuild(dir);
    const paired = new Map<string, boolean>();
    let verified = 0;
    for (const r of results) {
      const key = JSON.stringify(r.proof) + r.publicSignals.join();
      if (!paired.has(key)) paired.set(key, (await z.verify(dir, r, { insecureDevKeys: true })).valid);
      if (paired.get(key) && (await verifyBatchItems(build, r)).valid) verified++;
    }
    log(`service: ${inputs.length} inferences in ${paired.size} proofs, ${seconds.toFixed(1)} s; ${verified} verified`);
    return { model, batchSize, inputs: inputs.length, proofs: paired.size, seconds, inferencesPerS: inputs.length / seconds, verified };
  } finally {
    await running.close(1000);
  }
}

/** A view's own cost: eth_estimateGas less the 21,000 of a transaction. */
async function viewGas(estimate: Promise<bigint>): Promise<number> {
  return Number(await estimate) - 21_000;
}

const n = (v: number | undefined, d = 0) => (v === undefined ? '-' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));

export function batchMarkdown(rows: readonly BatchBenchRow[], service?: ServiceJobRun): string {
  const lines = [
    '# Inferences per proof',
    '',
    `Compact builds (hashed input and output: 3 public signals whatever N is), ${WORKERS} single-threaded workers, a hardhat node. Ratios are against N = 1 (one proof per input) of the same model in the same run. Gas per inference divides by the items in the proof.`,
    '',
    '| model | N | constraints | per inference | key | setup s | prove ms / inference | vs N = 1 | proofs/s | inferences/s | calldata B | submit gas | per inference | vs N = 1 | record one item | read it | check it (view) | record every item, per inference |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (r.skipped) {
      lines.push(`| ${r.model} | ${r.batchSize} | skipped: ${r.skipped} |${' |'.repeat(15)}`);
      continue;
    }
    const base = rows.find((b) => b.model === r.model && b.batchSize === 1 && !b.skipped);
    const ratio = (a?: number, b?: number) => (a !== undefined && b ? `${(a / b).toFixed(2)}x` : '-');
    lines.push(
      `| ${r.model} | ${r.batchSize} | ${n(r.constraints)} | ${n(r.constraintsPerInference)} | 2^${r.power} | ${n(r.setupS, 1)} | ${n(r.proveMsPerInference, 0)} | ${ratio(r.proveMsPerInference, base?.proveMsPerInference)} | ${n(r.proofsPerS, 2)} | ${n(r.inferencesPerS, 2)} | ${n(r.calldataBytes)} | ${n(r.submitGas)} | ${n(r.submitGasPerInference)} | ${ratio(r.submitGasPerInference, base?.submitGasPerInference)} | ${r.batchSize === 1 ? 'in submit' : n(r.openGas)} | ${n(r.readGas)} | ${n(r.itemViewGas)} | ${n(r.recordAllGasPerInference)} |`,
    );
  }
  if (service) {
    lines.push(
      '',
      `Proving service (embedded store, ${WORKERS} workers): one job of ${service.inputs.toLocaleString('en-US')} inputs on ${service.model} at N = ${service.batchSize}: ${service.proofs} proofs in ${service.seconds.toFixed(1)} s (${service.inferencesPerS.toFixed(2)} inferences/s); ${service.verified.toLocaleString('en-US')} of ${service.inputs.toLocaleString('en-US')} stored results verified (each proof's pairing check, each item's opening).`,
    );
  }
  return lines.join('\n') + '\n';
}

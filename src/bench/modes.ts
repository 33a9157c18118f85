/**
 * `zkml bench-modes`: every bundled model under each privacy mode, through the registry on a
 * real JSON-RPC node (`hardhat node` on 127.0.0.1). Per model and mode: constraints, public
 * signals, prove time, verifier gas and registry submit gas, with each mode's gas as a ratio of
 * the public/public/fixed baseline measured in the same run. Writes <out>/modes.json, modes.md and
 * modes_gas.svg, and prints the Markdown.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ethers } from 'ethers';
import * as z from '../index.js';
import { modeName, parseVisibility, type Visibility } from '../commit/visibility.js';
import { modelsDir } from '../paths.js';
import { barChart } from './report.js';
import { timed } from './stats.js';
import { suite } from './suite.js';

export const benchModes: Visibility[] = [
  parseVisibility({}),
  parseVisibility({ input: 'private' }),
  parseVisibility({ input: 'hashed' }),
  parseVisibility({ input: 'hashed', output: 'hashed' }),
  parseVisibility({ weights: 'hashed' }),
  parseVisibility({ input: 'hashed', output: 'hashed', weights: 'hashed' }),
];

/** The suite's bundled models, without the scaling series. */
export const bundled = suite.filter((m) => !m.series).map((m) => m.name);

/** Hashed weights cost a product and a range check per weight: builds estimated above this are skipped (2^17 keys). */
const MAX_CONSTRAINTS = 120_000;

export interface ModeResult {
  model: string;
  mode: string;
  constraints?: number;
  publicSignals?: number;
  proveMs?: number;
  verifierGas?: number;
  submitGas?: number;
  verifierBytes?: number;
  skipped?: string;
}

export async function runModesBench(options: { models?: string[]; out?: string; log?: (l: string) => void } = {}): Promise<ModeResult[]> {
  const log = options.log ?? (() => {});
  const out = resolve(options.out ?? 'bench');
  const root = join(out, 'mode-builds');
  mkdirSync(out, { recursive: true });
  const node = await z.startHardhatNode();
  const chain = await z.rpcChain(node.url);
  const results: ModeResult[] = [];
  try {
    const registry = (await z.deployRegistry(chain)).contract;
    for (const model of options.models ?? bundled) {
      const src = join(modelsDir, model);
      const input = z.readSamples(join(src, 'input.json')).inputs[0];
      let weights = 0;
      for (const v of benchModes) {
        const mode = modeName(v);
        const dir = join(root, `${model}__${mode.replace(/\//g, '_')}`);
        if (v.weights === 'hashed' && weights > MAX_CONSTRAINTS) {
          results.push({ model, mode, skipped: `~${weights.toLocaleString('en-US')} constraints for hashed weights (cap ${MAX_CONSTRAINTS.toLocaleString('en-US')})` });
          log(`${model} ${mode}: skipped`);
          continue;
        }
        rmSync(dir, { recursive: true, force: true });
        const m = await z.compile(join(src, 'model.onnx'), { calibration: join(src, 'calibration.json'), out: dir, visibility: v });
        if (v.weights === 'fixed' && weights === 0) weights = hashedWeightsEstimate(dir, m.circuit.constraints);
        await z.setup(dir);
        const prover = await z.Prover.load(dir);
        // The first proof of the process also builds snarkjs' curve: keep it out of the timings.
        if (results.length === 0) await prover.prove(input);
        // Bound to the submitting account, as a real submission is (a non-zero address costs calldata gas).
        const recipient = BigInt(await chain.signer.getAddress());
        const [proof, proveMs] = await timed(() => prover.prove(input, { recipient })).finally(() => prover.close());
        const valid = await z.verify(dir, proof, { insecureDevKeys: true }); // dev keys: measured, not trusted
        if (!valid.valid) throw new Error(`${model} ${mode}: ${valid.reason}`);
        const artifact = await z.verifierArtifact(dir);
        const r: ModeResult = { model, mode, constraints: m.circuit.constraints, publicSignals: m.circuit.publicSignals, proveMs, verifierBytes: artifact.codeSize };
        if (artifact.codeSize <= 24_576) {
          const d = await z.deployVerifier(chain, artifact);
          r.verifierGas = Number((await z.verifyOnChain(d.contract, proof.proof, proof.publicSignals)).gas);
          const vkey = JSON.parse(readFileSync(join(dir, 'verification_key.json'), 'utf8'));
          const { modelId } = await z.registerModel(registry as ethers.Contract, z.registrationFor(m, vkey, d.address, `zkml://${model}`));
          r.submitGas = Number((await z.submitProof(registry, modelId, proof.proof, proof.publicSignals)).gasUsed);
        }
        results.push(r);
        log(`${model} ${mode}: ${r.constraints} constraints, ${r.publicSignals} public, prove ${proveMs.toFixed(0)} ms, verifier gas ${r.verifierGas ?? '-'}, submit gas ${r.submitGas ?? '-'}`);
        rmSync(join(dir, 'model.zkey'), { force: true });
      }
    }
  } finally {
    await chain.close();
    await node.stop();
    await z.releaseCurves();
  }
  writeFileSync(join(out, 'modes.json'), JSON.stringify({ startedAt: new Date().toISOString(), results }, null, 2));
  const md = modesMarkdown(results);
  writeFileSync(join(out, 'modes.md'), md);
  const compact = modeName(benchModes[3]);
  writeFileSync(
    join(out, 'modes_gas.svg'),
    barChart(
      'Registry submit gas: public/public/fixed vs compact (hashed input and output)',
      [...new Set(results.map((r) => r.model))].map((model) => ({
        label: model,
        values: [results.find((r) => r.model === model && r.mode === modeName(benchModes[0]))?.submitGas, results.find((r) => r.model === model && r.mode === compact)?.submitGas],
      })),
      ['public/public/fixed', `${compact} (constant signals)`],
    ),
  );
  return results;
}

/** Constraints a hashed-weights build would have: the fixed build's plus a product and a range check per parameter. */
function hashedWeightsEstimate(dir: string, constraints: number): number {
  const program = z.loadBuild(dir).program;
  return program.ops.reduce((a, op) => (op.kind === 'linear' ? a + (op.weight.length + op.bias.length) * 12 : a), constraints);
}

const n = (v: number | undefined) => (v === undefined ? '-' : v.toLocaleString('en-US'));

export function modesMarkdown(results: readonly ModeResult[]): string {
  const modes = [...new Set(results.map((r) => r.mode))];
  const models = [...new Set(results.map((r) => r.model))];
  const cell = (model: string, mode: string, f: (r: ModeResult) => string) => {
    const r = results.find((x) => x.model === model && x.mode === mode);
    return !r ? '-' : r.skipped ? 'skipped' : f(r);
  };
  const base = (model: string) => results.find((x) => x.model === model && x.mode === modes[0]);
  const lines = ['# Privacy modes: cost and gas', '', 'Modes are input/output/weights visibility. Gas is a ratio of the public/public/fixed baseline of the same model, measured in the same run.', ''];
  lines.push('## Registry submit gas (verify + checks + record)', '', `| model | ${modes.join(' | ')} |`, `|---|${modes.map(() => '---|').join('')}`);
  for (const model of models) {
    lines.push(`| ${model} | ${modes.map((mode) => cell(model, mode, (r) => (r.submitGas === undefined ? `over EIP-170 (${n(r.publicSignals)} signals)` : `${n(r.submitGas)}${base(model)?.submitGas && mode !== modes[0] ? ` (${(r.submitGas / base(model)!.submitGas!).toFixed(2)}x)` : ''}`))).join(' | ')} |`);
  }
  lines.push('', '## Verifier gas alone (verifyProof)', '', `| model | ${modes.join(' | ')} |`, `|---|${modes.map(() => '---|').join('')}`);
  for (const model of models) lines.push(`| ${model} | ${modes.map((mode) => cell(model, mode, (r) => n(r.verifierGas))).join(' | ')} |`);
  lines.push('', '## Constraints / public signals / prove ms (one proof, prover loaded)', '', `| model | ${modes.join(' | ')} |`, `|---|${modes.map(() => '---|').join('')}`);
  for (const model of models) lines.push(`| ${model} | ${modes.map((mode) => cell(model, mode, (r) => `${n(r.constraints)} / ${r.publicSignals} / ${r.proveMs!.toFixed(0)}`)).join(' | ')} |`);
  const compact = results.filter((r) => r.mode === modes[3] && r.submitGas !== undefined);
  if (compact.length > 1) {
    const gas = compact.map((r) => r.submitGas!);
    lines.push('', `Constant-signal mode (${modes[3]}): submit gas from ${n(Math.min(...gas))} to ${n(Math.max(...gas))} over ${compact.length} models, a spread of ${(((Math.max(...gas) - Math.min(...gas)) / Math.min(...gas)) * 100).toFixed(2)}%.`);
  }
  return lines.join('\n') + '\n';
}

/**
 * `zkml bench-int8`: the bundled int8 models (PyTorch FX, QDQ) and onnxruntime's fused QOperator
 * form of each, against the same float model compiled by zkml's own quantizer, measured in the
 * same run: constraints, fidelity to onnxruntime ('disabled' and 'all'), and for builds up to
 * --max-constraints the Groth16 setup, one proof and the on-chain verifier's gas. Input private
 * (a 28x28 input as public signals would not fit a verifier contract). Writes <out>/int8.json and
 * int8.md, and prints the Markdown.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from '../index.js';
import { modelsDir } from '../paths.js';
import { fuseWithOnnxruntime, int8Fidelity, type Fidelity } from './int8_fidelity.js';
import { percentile, timed } from './stats.js';

/** Proofs timed per build (the median is reported). */
const PROOFS = 3;

/** Each int8 model with the float model it was quantized from. */
export const int8Pairs = [
  { int8: 'digits_cnn_int8', float: 'digits_cnn' },
  { int8: 'digits_res_cnn_int8', float: 'digits_res_cnn' },
  { int8: 'lenet5_int8', float: 'lenet5' },
] as const;

export interface Int8Result {
  model: string;
  /** 'QDQ' (PyTorch's export), 'QOperator' (onnxruntime's fusion of it) or 'float (zkml quantizer)'. */
  form: string;
  constraints: number;
  fidelity?: { disabled: Fidelity; all: Fidelity };
  setupMs?: number;
  proveMs?: number;
  verifierGas?: number;
  labelAccuracy?: number;
  skipped?: string;
}

export async function runInt8Bench(options: { out?: string; maxConstraints?: number; log?: (l: string) => void } = {}): Promise<Int8Result[]> {
  const log = options.log ?? (() => {});
  const out = resolve(options.out ?? 'bench');
  const root = join(out, 'int8-builds');
  mkdirSync(root, { recursive: true });
  const max = options.maxConstraints ?? 300_000;
  const visibility = { input: 'private' } as const;
  const chain = await z.embeddedChain();
  const results: Int8Result[] = [];
  try {
    for (const pair of int8Pairs) {
      const src = (name: string, file: string) => join(modelsDir, name, file);
      const test = z.readSamples(src(pair.int8, 'test.json'));
      const forms: [string, string, string][] = [
        [pair.float, 'float (zkml quantizer)', src(pair.float, 'model.onnx')],
        [pair.int8, 'QDQ', src(pair.int8, 'model.onnx')],
        [pair.int8, 'QOperator', await fuseWithOnnxruntime(src(pair.int8, 'model.onnx'), join(root, `${pair.int8}_qoperator.onnx`))],
      ];
      for (const [name, form, file] of forms) {
        const dir = join(root, `${name}__${form.split(' ')[0]}`);
        rmSync(dir, { recursive: true, force: true });
        const m = await z.compile(file, { calibration: src(name, 'calibration.json'), test: src(name, 'test.json'), out: dir, visibility, task: 'classification' });
        const r: Int8Result = { model: pair.int8, form, constraints: m.circuit.constraints, ...(m.accuracy.labelAccuracy !== undefined ? { labelAccuracy: m.accuracy.labelAccuracy } : {}) };
        if (form !== 'float (zkml quantizer)') r.fidelity = { disabled: await int8Fidelity(file, test.inputs, 'disabled'), all: await int8Fidelity(file, test.inputs, 'all') };
        if (m.circuit.constraints > max) r.skipped = `over --max-constraints ${max.toLocaleString('en-US')}`;
        else {
          const [, setupMs] = await timed(() => z.setup(dir));
          const prover = await z.Prover.load(dir);
          await prover.prove(test.inputs[0]); // the first proof builds snarkjs' curve: not timed
          // The median of three proofs (one proof's time varies by a third on a shared 2-core machine).
          const runs: [Awaited<ReturnType<typeof prover.prove>>, number][] = [];
          try {
            for (const x of test.inputs.slice(1, 1 + PROOFS)) runs.push(await timed(() => prover.prove(x)));
          } finally {
            await prover.close();
          }
          const proveMs = percentile(runs.map(([, ms]) => ms), 50);
          const [proof] = runs[0];
          const valid = await z.verify(dir, proof, { insecureDevKeys: true }); // dev keys: measured, not trusted
          if (!valid.valid) throw new Error(`${name} ${form}: ${valid.reason}`);
          const d = await z.deployVerifier(chain, await z.verifierArtifact(dir), { insecureDevKeys: true });
          const onChain = await z.verifyOnChain(d.contract, proof.proof, proof.publicSignals);
          if (!onChain.valid) throw new Error(`${name} ${form}: the on-chain verifier refused the proof`);
          Object.assign(r, { setupMs, proveMs, verifierGas: Number(onChain.gas) });
          rmSync(join(dir, 'model.zkey'), { force: true });
        }
        results.push(r);
        log(`${pair.int8} ${form}: ${r.constraints} constraints${r.proveMs ? `, prove ${r.proveMs.toFixed(0)} ms` : ''}`);
      }
    }
  } finally {
    await chain.close();
    await z.releaseCurves();
  }
  writeFileSync(join(out, 'int8.json'), JSON.stringify({ startedAt: new Date().toISOString(), results }, null, 2));
  writeFileSync(join(out, 'int8.md'), int8Markdown(results));
  return results;
}

const n = (v: number | undefined) => (v === undefined ? '-' : Math.round(v).toLocaleString('en-US'));
const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(a === b ? 0 : 2)}%`;

export function int8Markdown(results: readonly Int8Result[]): string {
  const lines = [
    '# Int8 models: constraints, fidelity and proof cost',
    '',
    "Each int8 model (PyTorch FX post-training quantization, exported as QDQ; and onnxruntime's fusion of it to QLinearConv / QGemm / QLinearAdd ...) against the float model it was quantized from, compiled by zkml's own quantizer, in the same run. Input private. Fidelity: proved int8 activations and outputs identical to onnxruntime's at graph optimisation `disabled` / `all`, on the held-out samples.",
    '',
    '| model | form | constraints | vs float | activations identical | outputs identical | top-1 = onnxruntime | setup s | prove ms (median of 3) | verifier gas |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const float = results.find((x) => x.model === r.model && x.form.startsWith('float'));
    const f = r.fidelity;
    const both = (g: (x: Fidelity) => string) => (f ? `${g(f.disabled)} / ${g(f.all)}` : '-');
    lines.push(
      `| ${r.model} | ${r.form} | ${n(r.constraints)} | ${float && r !== float ? `${(r.constraints / float.constraints).toFixed(2)}x` : '1x'} | ${both((x) => pct(x.activations.identical, x.activations.total))} | ${both((x) => pct(x.outputs.identical, x.outputs.total))} | ${both((x) => pct(x.top1, x.samples))} | ${r.setupMs === undefined ? (r.skipped ?? '-') : (r.setupMs / 1000).toFixed(1)} | ${n(r.proveMs)} | ${n(r.verifierGas)} |`,
    );
  }
  const differing = results.flatMap((r) => (r.fidelity ? [['disabled', r.fidelity.disabled], ['all', r.fidelity.all]] as const : []).filter(([, f]) => Object.keys(f.differingByTensor).length > 0).map(([level, f]) => `- ${r.model} (${r.form}, ${level}): ${Object.entries(f.differingByTensor).map(([t, k]) => `${t} ${k}`).join(', ')}`));
  if (differing.length) lines.push('', 'Differing activations per tensor (the first is where they start; later ones inherit them):', '', ...differing);
  return lines.join('\n') + '\n';
}

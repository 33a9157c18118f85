import type { ColdStartResult, ModelResult } from './measure.js';
import type { SuiteModel } from './suite.js';

export interface BenchResults {
  machine: { cpu: string; cores: number; memoryGb: number; os: string; node: string };
  versions: Record<string, string>;
  commit: string;
  startedAt: string;
  models: ModelResult[];
  coldStart?: ColdStartResult;
  setup16?: ColdStartResult;
}

const n = (v: number, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

/** The Markdown report: one table per concern, ratios against the baselines measured or quoted. */
export function markdown(r: BenchResults, suite: readonly SuiteModel[]): string {
  const info = new Map(suite.map((m) => [m.name, m]));
  const lines = [
    `# zkml benchmark`,
    '',
    `${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGb} GB, ${r.machine.os}, Node ${r.machine.node}; commit ${r.commit}; ${r.startedAt}`,
    `Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    '## Cost per model',
    '',
    '| model | constraints | floor | vs circomlib-ml | agreement | rel. error | bits in/w/act | compile s | setup s | witness ms p50/p95 | prove ms p50/p95 | verify ms | proof B | calldata B | verify gas | peak MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const m of r.models) {
    const base = info.get(m.model)?.circomlibMl;
    lines.push(
      `| ${m.model} | ${n(m.constraints)} | ${n(m.floor)} | ${base ? `${(base / m.constraints).toFixed(1)}x fewer (${n(base)})` : '-'} | ${m.accuracy.decisionAgreement !== undefined ? `${(m.accuracy.decisionAgreement * 100).toFixed(1)}%` : '-'} | ${(m.accuracy.relativeError * 100).toFixed(2)}% | ${m.precision.inputBits}/${m.precision.weightBits}/${m.precision.activationBits} | ${m.compileS.toFixed(2)} | ${m.setupS.toFixed(2)} | ${m.witnessMs.p50.toFixed(1)} / ${m.witnessMs.p95.toFixed(1)} | ${m.proveMs.p50.toFixed(0)} / ${m.proveMs.p95.toFixed(0)} | ${m.verifyMs.toFixed(1)} | ${m.proofBytes} | ${n(m.calldataBytes)} | ${m.verifyGas === null ? 'over EVM code limit' : n(m.verifyGas)} | ${n(m.peakRssMb)} |`,
    );
  }
  const workers = [...new Set(r.models.flatMap((m) => m.throughput.map((t) => t.workers)))].sort((a, b) => a - b);
  lines.push('', '## Batch throughput (proofs/s, steady state after one warm-up proof per worker)', '', `| model | ${workers.map((w) => `${w} worker${w > 1 ? 's' : ''}`).join(' | ')} | speed-up |`, `|---|${workers.map(() => '---|').join('')}---|`);
  for (const m of r.models) {
    const t = (w: number) => m.throughput.find((x) => x.workers === w)?.proofsPerS;
    const first = t(workers[0]);
    const lastW = t(workers[workers.length - 1]);
    lines.push(`| ${m.model} | ${workers.map((w) => (t(w) ? t(w)!.toFixed(2) : '-')).join(' | ')} | ${first && lastW ? `${(lastW / first).toFixed(2)}x` : '-'} |`);
  }
  const ezkl = r.models.filter((m) => info.get(m.model)?.ezkl);
  if (ezkl.length) {
    lines.push('', '## Against EZKL 21.0.0 (wasm engine, published figures for the same architectures)', '', '| model | our prove p50 | our proof | EZKL prove | EZKL proof |', '|---|---|---|---|---|');
    for (const m of ezkl) {
      const e = info.get(m.model)!.ezkl!;
      lines.push(`| ${m.model} | ${(m.proveMs.p50 / 1000).toFixed(3)} s | ${m.proofBytes} B (calldata ${n(m.calldataBytes)} B) | ${e.prove} | ~${n(e.proofBytes)} B |`);
    }
  }
  const series = r.models.filter((m) => info.get(m.model)?.series);
  if (series.length) {
    const first = series[0];
    lines.push('', `## Scaling series: ${info.get(first.model)!.series!.name}`, '', '| width | constraints | x | setup s | prove ms p50 | x | verify gas |', '|---|---|---|---|---|---|---|');
    for (const m of series) {
      lines.push(`| ${info.get(m.model)!.series!.width} | ${n(m.constraints)} | ${(m.constraints / first.constraints).toFixed(1)} | ${m.setupS.toFixed(1)} | ${m.proveMs.p50.toFixed(0)} | ${(m.proveMs.p50 / first.proveMs.p50).toFixed(1)} | ${m.verifyGas === null ? '-' : n(m.verifyGas)} |`);
    }
  }
  for (const [title, c] of [['Cold start (empty build folder and ptau cache; model.onnx to a proof verified on-chain)', r.coldStart], ['Dev setup of a 2^16 circuit from nothing to a verified proof', r.setup16]] as const) {
    if (!c) continue;
    lines.push('', `## ${title}`, '', '| model | ptau | compile s | setup s (incl. ptau) | prove s | deploy + verify on-chain s | total s | valid |', '|---|---|---|---|---|---|---|---|');
    lines.push(`| ${c.model} | 2^${c.ptauPower} | ${c.compileS.toFixed(1)} | ${c.setupS.toFixed(1)} | ${c.proveS.toFixed(1)} | ${c.verifyOnChainS.toFixed(1)} | ${c.totalS.toFixed(1)} | ${c.valid} |`);
    if (c.ptauVerify) lines.push('', `\`snarkjs powersoftau verify\` on the generated ptau: ${c.ptauVerify.valid} (${c.ptauVerify.seconds.toFixed(1)} s, not counted above).`);
  }
  return lines.join('\n') + '\n';
}

/** A horizontal bar chart, optionally on a log scale, with up to two series per row. */
export function barChart(title: string, rows: { label: string; values: (number | undefined)[] }[], series: string[], log = false): string {
  const colors = ['#2b6cb0', '#c05621'];
  const rowH = 18 * series.length + 8;
  const left = 170;
  const width = 720;
  const plotW = width - left - 90;
  const height = 40 + rows.length * rowH + 30;
  const max = Math.max(...rows.flatMap((r) => r.values.filter((v): v is number => v !== undefined)), 1);
  const scale = (v: number) => (log ? (Math.log10(Math.max(v, 1)) / Math.log10(max)) * plotW : (v / max) * plotW);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`, `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}${log ? ' (log scale)' : ''}</text>`];
  rows.forEach((r, i) => {
    const y = 36 + i * rowH;
    parts.push(`<text x="${left - 6}" y="${y + rowH / 2}" text-anchor="end">${esc(r.label)}</text>`);
    r.values.forEach((v, k) => {
      if (v === undefined) return;
      const w = Math.max(1, scale(v));
      parts.push(`<rect x="${left}" y="${y + k * 18}" width="${w.toFixed(1)}" height="15" fill="${colors[k % 2]}"/>`, `<text x="${(left + w + 4).toFixed(1)}" y="${y + k * 18 + 12}">${n(v, v < 10 ? 2 : 0)}</text>`);
    });
  });
  series.forEach((s, k) => parts.push(`<rect x="${left + k * 200}" y="${height - 20}" width="12" height="12" fill="${colors[k % 2]}"/>`, `<text x="${left + k * 200 + 16}" y="${height - 10}">${esc(s)}</text>`));
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Lines on log-log axes (one per series), with decade gridlines: growth exponents read as slopes. */
export function logLogChart(title: string, xLabel: string, series: { name: string; points: [number, number][] }[]): string {
  const colors = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b7791f', '#c53030'];
  const [width, height, left, top, right, bottom] = [760, 440 + 18 * Math.ceil(series.length / 2), 60, 40, 20, 60 + 18 * Math.ceil(series.length / 2)];
  const all = series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0);
  const decades = (vs: number[]) => [Math.floor(Math.log10(Math.min(...vs))), Math.ceil(Math.log10(Math.max(...vs)))];
  const [x0, x1] = decades(all.map(([x]) => x));
  const [y0, y1] = decades(all.map(([, y]) => y));
  const px = (x: number) => left + ((Math.log10(x) - x0) / Math.max(1, x1 - x0)) * (width - left - right);
  const py = (y: number) => height - bottom - ((Math.log10(y) - y0) / Math.max(1, y1 - y0)) * (height - top - bottom);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`, `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`];
  for (let d = x0; d <= x1; d++) parts.push(`<line x1="${px(10 ** d)}" y1="${top}" x2="${px(10 ** d)}" y2="${height - bottom}" stroke="#ddd"/>`, `<text x="${px(10 ** d)}" y="${height - bottom + 14}" text-anchor="middle">1e${d}</text>`);
  for (let d = y0; d <= y1; d++) parts.push(`<line x1="${left}" y1="${py(10 ** d)}" x2="${width - right}" y2="${py(10 ** d)}" stroke="#ddd"/>`, `<text x="${left - 4}" y="${py(10 ** d) + 4}" text-anchor="end">1e${d}</text>`);
  parts.push(`<text x="${(left + width - right) / 2}" y="${height - bottom + 30}" text-anchor="middle">${esc(xLabel)}</text>`);
  series.forEach((s, k) => {
    const c = colors[k % colors.length];
    const pts = s.points.filter(([x, y]) => x > 0 && y > 0).sort((a, b) => a[0] - b[0]);
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"/>`);
    const lx = left + (k % 2) * 340;
    const ly = height - bottom + 46 + Math.floor(k / 2) * 18;
    parts.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${c}"/>`, `<text x="${lx + 16}" y="${ly}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

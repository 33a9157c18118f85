import { runCase, listCases } from './dist/test/helpers/conformance.js';
const re = new RegExp(process.argv[2]);
const suite = process.argv[3] ?? 'node';
const computed = Number(process.argv[4] ?? 1);
for (const dir of listCases(suite, re)) {
  const r = await runCase(dir, computed);
  console.log(r.ok ? 'PASS' : 'FAIL', r.name, r.reason ?? '', r.maxError?.toExponential(2) ?? '', r.tolerance?.toExponential(2) ?? '', r.constraints ?? '');
}

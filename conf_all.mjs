import { runCase, listCases } from './dist/test/helpers/conformance.js';
import { caseGroups } from './dist/test/conformance_cases.js';
import fs from 'node:fs';
const only = process.argv[2] ? new RegExp(process.argv[2]) : null;
const results = [];
for (const g of caseGroups) {
  if (only && !only.test(g.op)) continue;
  for (const dir of listCases(g.suite, g.pattern)) {
    const t = Date.now();
    const r = await runCase(dir, g.computed ?? 1);
    results.push({ op: g.op, ...r, ms: Date.now() - t });
    console.log(r.ok ? 'PASS' : 'FAIL', g.op, r.name, r.reason ?? '', r.constraints ?? '', Date.now() - t, 'ms');
  }
}
fs.writeFileSync('/tmp/conf_results.json', JSON.stringify(results, null, 1));

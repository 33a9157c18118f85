import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { caseGroups, excluded } from './conformance_cases.js';
import { listCases, runCase, TESTDATA, type CaseResult } from './helpers/conformance.js';

/**
 * ONNX's own backend tests through import -> quantize -> circuit -> witness. Every matched case
 * must pass unless it is in the exclusion list with its reason; a regression fails the test.
 */
describe('ONNX backend conformance (libonnx-testdata)', { skip: existsSync(TESTDATA) ? false : `${TESTDATA} is missing (apt-get install libonnx-testdata)` }, () => {
  const tally = new Map<string, { pass: number; total: number }>();
  after(() => {
    const rows = [...tally].map(([op, t]) => `  ${op.padEnd(24)} ${String(t.pass).padStart(3)}/${t.total}`);
    console.log(`conformance, passed/run per op:\n${rows.join('\n')}\n  excluded with reasons: ${Object.keys(excluded).length}`);
  });

  for (const group of caseGroups) {
    const cases = listCases(group.suite, group.pattern);
    it(`${group.op}: ${cases.length} cases`, async () => {
      assert.ok(cases.length > 0, `no ${group.op} cases found`);
      const failures: CaseResult[] = [];
      let pass = 0;
      let total = 0;
      for (const dir of cases) {
        const name = dir.split('/').slice(-2).join('/');
        if (excluded[name]) continue;
        total++;
        const r = await runCase(dir, group.computedInputs ?? group.computed ?? 1, group.exact);
        if (r.ok) pass++;
        else failures.push(r);
      }
      tally.set(group.op, { pass, total });
      assert.deepEqual(failures.map((f) => `${f.name}: ${f.reason}`), []);
    });
  }
});

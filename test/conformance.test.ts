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
      const run = cases.filter((dir) => !excluded[dir.split('/').slice(-2).join('/')]);
      // Two cases at a time: a case spends much of its time in a circom child process (one core).
      const results = await inParallel(run, 2, (dir) => runCase(dir, group.computedInputs ?? group.computed ?? 1, group.exact));
      const failures: CaseResult[] = results.filter((r) => !r.ok);
      const [pass, total] = [results.length - failures.length, results.length];
      tally.set(group.op, { pass, total });
      assert.deepEqual(failures.map((f) => `${f.name}: ${f.reason}`), []);
    });
  }
});


/** f over items with at most `limit` calls in flight, results in the items' order. */
async function inParallel<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await f(items[k]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

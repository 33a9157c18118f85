/**
 * Proving pools started and stopped over and over must not crash the process. The long version is
 * `npm run bench:pool-cycles` (200 cycles); this one runs 12 in 3 processes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runLifecycle } from '../src/bench/lifecycle.js';
import { ProvingPool } from '../src/prove/pool.js';
import { testSamples, withKeys } from './helpers/fixtures.js';

describe('proving pool lifecycle', () => {
  it('12 start/prove/stop cycles in the benchmark style, in 3 processes, without a crash', async () => {
    const { dir } = await withKeys('iris_mlp');
    const r = await runLifecycle({ build: dir, cycles: 12, perChild: 4, log: () => {} });
    assert.deepEqual(r.failures, []);
    assert.equal(r.completed, 12);
  });

  it("keeps blake-hash's native addon out of the process, main thread and workers", { skip: process.platform !== 'linux' && 'reads /proc/self/maps' }, async () => {
    // It corrupts the heap when more than one thread loads it (src/commit/blake_hash_js.ts).
    const { dir } = await withKeys('iris_mlp');
    const pool = new ProvingPool(dir, 2);
    try {
      const items = await pool.prove(testSamples('iris_mlp').inputs.slice(0, 2));
      assert.ok(items.every((i) => i.outcome.ok));
      const natives = readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .filter((l) => l.endsWith('.node'))
        .map((l) => l.split(/\s+/).at(-1));
      assert.ok(natives.length > 0, 'onnxruntime-node is loaded');
      assert.deepEqual(natives.filter((f) => f!.includes('blake-hash')), []);
    } finally {
      await pool.destroy();
    }
  });
});

/**
 * A worker thread that dies makes the operation waiting on it fail with a typed error, in bounded
 * time, instead of hanging: the proving pool (piscina), the setup's fixed-base pool and snarkjs'
 * curve threads. Faults are injected with ZKML_FAULT (src/fault.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compile } from '../src/compile/compile.js';
import { WorkerCrashedError } from '../src/errors.js';
import { ProvingPool } from '../src/prove/pool.js';
import { Prover } from '../src/prove/prover.js';
import { releaseCurves } from '../src/setup/curve.js';
import { setup } from '../src/setup/setup.js';
import { verify } from '../src/verify/verify.js';
import { modelFile, scratchDir, testSamples, withKeys } from './helpers/fixtures.js';

/** Runs `fn` with ZKML_FAULT=<kind>:<token>: the first thread or process to claim the token gets the fault. */
async function withFault<T>(kind: string, fn: () => Promise<T>): Promise<T> {
  const token = join(scratchDir('fault'), kind);
  writeFileSync(token, '');
  process.env.ZKML_FAULT = `${kind}:${token}`;
  try {
    return await fn();
  } finally {
    delete process.env.ZKML_FAULT;
  }
}

/** `p`, or a failure after `ms`: a hang is the bug these tests look for. */
async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a worker thread that dies fails its operation with WorkerCrashedError, never a hang', () => {
  let dir: string;
  const inputs = testSamples('iris_mlp').inputs.slice(0, 3);

  before(async () => {
    ({ dir } = await withKeys('iris_mlp'));
  });
  after(async () => {
    await releaseCurves();
  });

  for (const fault of ['crash', 'throw'] as const) {
    const what = fault === 'crash' ? 'exits' : 'throws an uncaught exception';
    it(`proving pool: a worker that ${what} mid-proof fails that input (WORKER_CRASHED); the others prove`, async () => {
      const pool = await withFault(fault, async () => new ProvingPool(dir, 2));
      try {
        const items = await within(60_000, pool.prove(inputs), 'pool.prove');
        const failed = items.filter((i) => !i.outcome.ok);
        assert.equal(failed.length, 1, JSON.stringify(failed));
        const outcome = failed[0].outcome;
        assert.ok(!outcome.ok && outcome.error.code === 'WORKER_CRASHED', JSON.stringify(outcome));
        assert.ok(pool.restarts >= 1);
        // The replacement thread proves.
        const again = await within(60_000, pool.prove([inputs[0]]), 'pool.prove after the loss');
        assert.ok(again[0].outcome.ok);
      } finally {
        await pool.destroy();
      }
    });
  }

  it('proving pool: a worker that fails to start before it has a task neither takes this process down nor stops the pool', async () => {
    const pool = await withFault('start-throw', async () => new ProvingPool(dir, 2));
    try {
      // piscina emits a start failure with no task to fail on the pool: an uncaught 'error' without a listener.
      await within(
        60_000,
        (async () => {
          while (pool.restarts < 1) await new Promise((r) => setTimeout(r, 50));
        })(),
        'the failed start',
      );
      const items = await within(60_000, pool.prove(inputs), 'pool.prove');
      assert.ok(items.every((i) => i.outcome.ok), JSON.stringify(items));
    } finally {
      await pool.destroy();
    }
  });

  it('setup: a fixed-base thread that dies fails setup(); no keys are left behind', async () => {
    const build = join(scratchDir('setup-fault'), 'iris_mlp');
    await compile(modelFile('iris_mlp', 'model.onnx'), { calibration: modelFile('iris_mlp', 'calibration.json'), out: build });
    const started = performance.now();
    await withFault('setup-crash', () =>
      assert.rejects(within(60_000, setup(build, { log: () => {} }), 'setup'), (err: unknown) => {
        assert.ok(err instanceof WorkerCrashedError, String(err));
        assert.equal(err.code, 'WORKER_CRASHED');
        assert.match(err.message, /fixed-base setup worker thread died: thread \d+ exited with code 70/);
        return true;
      }),
    );
    assert.ok(performance.now() - started < 60_000);
    assert.ok(!existsSync(join(build, 'model.zkey')));
  });

  it("snarkjs' curve: a thread that dies holding a job fails the proof; the next proof gets a new curve", async () => {
    const prover = await Prover.load(dir); // in-process: snarkjs' multi-threaded curve
    try {
      await prover.prove(inputs[0]);
      await withFault('curve-crash', () =>
        assert.rejects(within(60_000, prover.prove(inputs[1]), 'prove'), (err: unknown) => {
          assert.ok(err instanceof WorkerCrashedError, String(err));
          assert.match(err.message, /snarkjs curve worker thread died: thread \d+ of \d+ exited/);
          return true;
        }),
      );
      const result = await within(60_000, prover.prove(inputs[1]), 'prove after the loss');
      assert.ok((await verify(dir, result, { insecureDevKeys: true })).valid);
    } finally {
      await prover.close();
    }
  });
});

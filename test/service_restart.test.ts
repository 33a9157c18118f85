import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { releaseCurves } from '../src/setup/curve.js';
import { verify } from '../src/verify/verify.js';
import { zkml } from './helpers/cli.js';
import { scratchDir, testSamples, withKeys } from './helpers/fixtures.js';
import { apiKeys, CliProcess, client, freePort } from './helpers/service.js';

/**
 * The service as a real process, killed and restarted: `zkml serve` on an embedded store. A job
 * must survive SIGKILL mid-batch (each item proved to completion once; finished results kept as
 * they were) and SIGTERM (running proofs finish, queued ones wait for the next start).
 */
describe('proving service: restarts', () => {
  let build: string;
  let model: string;
  const inputs = testSamples('iris_mlp').inputs;
  const batch = Array.from({ length: 40 }, (_, i) => inputs[i % inputs.length]);
  const running: CliProcess[] = [];
  const keys = apiKeys();

  const serve = async (store: string, port: number) => {
    // The test build has dev keys, which `zkml serve` refuses without --insecure-dev-keys.
    const p = new CliProcess(['serve', build, '--port', String(port), '--store', store, '--workers', '2', '--drain-timeout', '20000', '--insecure-dev-keys', '--api-keys', keys.file]);
    running.push(p);
    const { url } = await p.event('listening');
    return { p, api: client(url, keys.tokens.test) };
  };
  const progressOf = async (api: ReturnType<typeof client>, id: string) => (await api.get(`/v1/jobs/${id}`)).body.progress;
  const waitFor = async (check: () => Promise<boolean>) => {
    while (!(await check())) await new Promise((r) => setTimeout(r, 20));
  };

  before(async () => {
    // A hashed-input build: an item proved again after a restart must prove the same statement (its salt was fixed at submission).
    build = (await withKeys('iris_mlp', { input: 'hashed', output: 'hashed' })).dir;
    model = basename(build);
  });
  after(async () => {
    for (const p of running) p.kill('SIGKILL');
    await releaseCurves();
  });

  it('SIGKILL mid-batch, then restart: every item completes exactly once and finished results are kept', async () => {
    const store = join(scratchDir('restart'), 'jobs');
    const port = await freePort();
    const first = await serve(store, port);
    const { id } = (await first.api.post('/v1/jobs', { model, inputs: batch })).body;
    await waitFor(async () => (await progressOf(first.api, id)).succeeded >= 15);
    const before = await first.api.allItems(id);
    first.p.kill('SIGKILL');
    await first.p.exited;
    const doneBefore = before.filter((i) => i.state === 'succeeded');
    assert.ok(doneBefore.length >= 15 && doneBefore.length < batch.length, `${doneBefore.length} proved before the kill`);

    const second = await serve(store, port);
    const job = await second.api.finished(id);
    assert.equal(job.state, 'completed');
    assert.deepEqual(job.progress, { queued: 0, running: 0, succeeded: batch.length, failed: 0 });
    const items = await second.api.allItems(id);
    assert.equal(items.length, batch.length);
    for (const old of doneBefore) assert.deepEqual(items[old.index], old, `item ${old.index} proved before the kill is unchanged`);
    let retried = 0;
    for (const item of items) {
      assert.ok(item.attempts === 1 || item.attempts === 2, `item ${item.index}: ${item.attempts} attempts`);
      retried += item.attempts - 1;
      const v = await verify(build, item.result, { insecureDevKeys: true });
      assert.equal(v.valid, true, `item ${item.index}: ${v.reason}`);
      assert.deepEqual(v.opened, { input: true, output: true }, 'the salt, input and output open the commitments');
    }
    assert.ok(retried <= 4, `at most the two items claimed per thread were interrupted (${retried})`);
    assert.match(second.p.stderr, /resuming \d+ queued and \d+ interrupted proofs/);
    second.p.kill('SIGTERM');
    assert.equal(await second.p.exited, 0);
  });

  it('SIGTERM drains: running proofs finish, queued ones resume on the next start, none is retried', async () => {
    const store = join(scratchDir('drain'), 'jobs');
    const port = await freePort();
    const first = await serve(store, port);
    const { id } = (await first.api.post('/v1/jobs', { model, inputs: batch })).body;
    await waitFor(async () => (await progressOf(first.api, id)).succeeded >= 5);
    first.p.kill('SIGTERM');
    // While running proofs drain, the port stays open: a new job gets 503, not a refused connection.
    let answer: number | string = 202;
    while (answer === 202) answer = await first.api.post('/v1/jobs', { model, input: batch[0] }).then((r) => r.status, (e: Error) => e.message);
    assert.equal(answer, 503);
    assert.equal(await first.p.exited, 0, first.p.stderr);
    assert.match(first.p.stderr, /SIGTERM: shutting down[\s\S]*stopped/);

    const second = await serve(store, port);
    const job = await second.api.finished(id);
    assert.equal(job.state, 'completed');
    const items = await second.api.allItems(id);
    assert.deepEqual(new Set(items.map((i) => i.attempts)), new Set([1]), 'no proof was interrupted');
    assert.match(second.p.stderr, /resuming \d+ queued and 0 interrupted proofs/);
    second.p.kill('SIGTERM');
    await second.p.exited;
  });

  it('one service per store: a second one on the same store is refused', async () => {
    const store = join(scratchDir('lock'), 'jobs');
    const first = await serve(store, await freePort());
    const second = await zkml('serve', build, '--port', '0', '--store', store, '--insecure-dev-keys', '--api-keys', keys.file);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /in use by process \d+; one service per store/);
    first.p.kill('SIGTERM');
    await first.p.exited;
  });
});

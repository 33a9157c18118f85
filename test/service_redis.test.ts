import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { releaseCurves } from '../src/setup/curve.js';
import { verify } from '../src/verify/verify.js';
import { zkml } from './helpers/cli.js';
import { modelFile, scratchDir, testSamples, withKeys } from './helpers/fixtures.js';
import { compile } from '../src/compile/compile.js';
import { setup } from '../src/setup/setup.js';
import { apiKeys, CliProcess, client, freePort, startRedis } from './helpers/service.js';

/**
 * Scale-out on a real Redis (Debian's redis-server on 127.0.0.1): `zkml serve --redis` queues,
 * two `zkml worker --redis` processes prove. Each worker prints one line per item BullMQ accepted
 * as completed, so an item proved twice would show up twice.
 */
describe('proving service on Redis (BullMQ), two worker processes', () => {
  let build: string;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const processes: CliProcess[] = [];
  const keys = apiKeys({ test: ['prove', 'read', 'metrics'], other: ['prove', 'read'] });
  const inputs = testSamples('iris_mlp').inputs;
  const start = (args: string[], env: Record<string, string> = {}) => {
    const p = new CliProcess(args, env);
    processes.push(p);
    return p;
  };
  const completions = (workers: CliProcess[]) => workers.flatMap((w) => w.events.filter((e) => e.event === 'completed'));

  before(async () => {
    build = (await withKeys('iris_mlp')).dir;
    redis = await startRedis();
  });
  after(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await redis?.stop();
    await releaseCurves();
  });

  it('shares a batch over two workers; a worker killed mid-batch and a server restart lose nothing; each item is proved once', async () => {
    const port = await freePort();
    // The test build has dev keys, which `zkml serve` refuses without --insecure-dev-keys.
    const serveArgs = ['serve', build, '--redis', redis.url, '--port', String(port), '--insecure-dev-keys', '--api-keys', keys.file];
    let server = start(serveArgs);
    const workerArgs = ['worker', build, '--redis', redis.url, '--workers', '1', '--lock-duration', '2000'];
    const [a, b] = [start(workerArgs), start(workerArgs)];
    await Promise.all([server.event('listening'), a.event('ready'), b.event('ready')]);
    let api = client((await server.event('listening')).url, keys.tokens.test);

    const batch = Array.from({ length: 80 }, (_, i) => inputs[i % inputs.length]);
    const accepted = await api.post('/v1/jobs', { model: 'iris_mlp', inputs: batch });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const { id } = accepted.body;

    // Both workers take items; then one dies in the middle of a proof.
    while (completions([a]).length < 5 || completions([b]).length < 5) await new Promise((r) => setTimeout(r, 20));
    a.kill('SIGKILL');
    // The server holds no state: a new one answers for the same job.
    server.kill('SIGKILL');
    await server.exited;
    server = start(serveArgs);
    api = client((await server.event('listening')).url, keys.tokens.test);

    const job = await api.finished(id, 120_000);
    assert.equal(job.state, 'completed', JSON.stringify(job));
    assert.deepEqual(job.progress, { queued: 0, running: 0, succeeded: batch.length, failed: 0 });

    const done = completions([a, b]).map((e) => e.item as string);
    assert.equal(done.length, batch.length, 'one completion per item across both workers');
    assert.equal(new Set(done).size, batch.length, 'no item completed twice');
    assert.ok(completions([a]).length >= 5 && completions([b]).length >= 5, 'both workers proved part of the batch');

    const items = await api.allItems(id);
    const retried = items.filter((i) => i.attempts > 1);
    assert.ok(retried.length <= 2, `only the killed worker's items (two per thread) were retried: ${JSON.stringify(retried.map((i) => [i.index, i.attempts]))}`);
    for (const item of items) {
      assert.equal(item.state, 'succeeded');
      assert.equal((await verify(build, item.result, { insecureDevKeys: true })).valid, true, `item ${item.index}`);
    }
    const metrics: string = (await api.get('/metrics')).body;
    assert.match(metrics, /zkml_proofs\{state="succeeded",backend="redis"\} 80/);
    assert.match(metrics, /zkml_queue_depth\{backend="redis"\} 0/);
    // Graceful stops: nothing left holding the processes open.
    b.kill('SIGTERM');
    server.kill('SIGTERM');
    assert.equal(await b.exited, 0, b.stderr);
    assert.equal(await server.exited, 0, server.stderr);
  });

  it('a batched build: one BullMQ job per group, one proof each; every item reads its own result, which verifies', async () => {
    const dir = join(scratchDir('redis-batch'), 'iris_batch4');
    await compile(modelFile('iris_mlp', 'model.onnx'), { calibration: modelFile('iris_mlp', 'calibration.json'), out: dir, visibility: { input: 'hashed', output: 'hashed' }, batchSize: 4 });
    await setup(dir);
    const server = start(['serve', dir, '--redis', redis.url, '--port', '0', '--insecure-dev-keys', '--api-keys', keys.file]);
    const worker = start(['worker', dir, '--redis', redis.url, '--workers', '1']);
    await worker.event('ready');
    const api = client((await server.event('listening')).url, keys.tokens.test);
    const job = await api.finished((await api.post('/v1/jobs', { model: 'iris_batch4', inputs: inputs.slice(0, 10), salt: '3' })).body.id, 60_000);
    assert.equal(job.state, 'completed', JSON.stringify(job));
    assert.deepEqual(job.progress, { queued: 0, running: 0, succeeded: 10, failed: 0 });
    assert.equal(worker.events.filter((e) => e.event === 'completed').length, 3, 'three proofs: 4 + 4 + 2 items');
    const items = await api.allItems(job.id);
    assert.deepEqual(items.map((i) => [i.index, i.result.index, i.result.publicSignals[2]]), inputs.slice(0, 10).map((_, i) => [i, i % 4, i < 8 ? '4' : '2']));
    for (const item of items) assert.equal((await verify(dir, item.result, { insecureDevKeys: true })).valid, true, `item ${item.index}`);
    worker.kill('SIGTERM');
    server.kill('SIGTERM');
    await Promise.all([worker.exited, server.exited]);
  });

  it('bad requests get the same answers as on the embedded store; an unreachable Redis is a clear error', async () => {
    const server = start(['serve', build, '--redis', redis.url, '--port', '0', '--max-queue', '3', '--insecure-dev-keys', '--api-keys', keys.file]);
    const api = client((await server.event('listening')).url, keys.tokens.test);
    assert.equal((await api.post('/v1/jobs', { model: 'nope', input: inputs[0] })).status, 404);
    assert.equal((await api.post('/v1/jobs', { model: 'iris_mlp', input: [1] })).status, 422);
    assert.equal((await api.post('/v1/jobs', { model: 'iris_mlp', inputs: Array(4).fill(inputs[0]) })).status, 413);
    assert.equal((await api.get('/v1/jobs/0000000000000000000aa')).status, 404);
    assert.equal((await api.get('/health')).body.status, 'ok');

    // An item that never finishes in time fails after BullMQ's attempts, with the reason.
    const worker = start(['worker', build, '--redis', redis.url, '--workers', '1']);
    await worker.event('ready');
    const slow = await api.finished((await api.post('/v1/jobs', { model: 'iris_mlp', input: inputs[0], timeoutMs: 1 })).body.id);
    assert.equal(slow.state, 'failed');
    const [item] = await api.allItems(slow.id);
    assert.equal(item.error.code, 'TIMEOUT');
    assert.equal(item.attempts, 3);
    assert.equal((await api.finished((await api.post('/v1/jobs', { model: 'iris_mlp', input: inputs[0] })).body.id)).state, 'completed');
    worker.kill('SIGTERM');
    await worker.exited;

    const dead = await zkml('serve', build, '--redis', `redis://127.0.0.1:${await freePort()}`, '--port', '0', '--insecure-dev-keys', '--api-keys', keys.file);
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
    const notUrl = await zkml('worker', build, '--redis', 'localhost:6379');
    assert.equal(notUrl.code, 1);
    assert.match(notUrl.stderr, /is not a redis:\/\/ URL/);
  });

  it('jobs belong to their key; Idempotency-Key replays; cancel stops queued and running items; delete and retention clean the index', async () => {
    const server = start(['serve', build, '--redis', redis.url, '--port', '0', '--insecure-dev-keys', '--api-keys', keys.file]);
    const url = (await server.event('listening')).url;
    const api = client(url, keys.tokens.test);
    const other = client(url, keys.tokens.other);
    // No worker runs yet: jobs stay queued.
    const body = { model: 'iris_mlp', inputs: [inputs[0], inputs[1]] };
    const headers = { 'idempotency-key': 'redis-once' };
    const first = await api.post('/v1/jobs', body, { headers });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const { id } = first.body;
    const again = await api.post('/v1/jobs', body, { headers });
    assert.deepEqual([again.status, again.body.id, again.headers.get('idempotent-replayed')], [202, id, 'true']);
    const changed = await api.post('/v1/jobs', { ...body, inputs: [inputs[2]] }, { headers });
    assert.deepEqual([changed.status, changed.body.error.code], [422, 'IDEMPOTENCY_KEY_REUSED']);
    const others = await other.post('/v1/jobs', body, { headers });
    assert.equal(others.status, 202);
    assert.notEqual(others.body.id, id, 'idempotency keys are per API key');
    for (const [what, r] of [
      ['job', await other.get(`/v1/jobs/${id}`)],
      ['results', await other.get(`/v1/jobs/${id}/results`)],
      ['cancel', await other.post(`/v1/jobs/${id}/cancel`)],
      ['delete', await other.delete(`/v1/jobs/${id}`)],
    ] as const) {
      assert.equal(r.status, 403, `${what}: ${JSON.stringify(r.body)}`);
      assert.ok(!JSON.stringify(r.body).includes('"input"'), what);
    }

    // Cancel queued items: removed from BullMQ, they read as CANCELLED; then delete.
    assert.equal((await api.delete(`/v1/jobs/${id}`)).status, 409, 'unfinished');
    assert.equal((await api.post(`/v1/jobs/${id}/cancel`)).status, 200);
    assert.equal((await other.post(`/v1/jobs/${others.body.id}/cancel`)).status, 200);
    const cancelled = await api.get(`/v1/jobs/${id}`);
    assert.equal(cancelled.body.state, 'cancelled');
    assert.deepEqual((await api.allItems(id)).map((i) => i.error.code), ['CANCELLED', 'CANCELLED']);
    assert.equal((await api.delete(`/v1/jobs/${id}`)).status, 204);
    assert.equal((await api.get(`/v1/jobs/${id}`)).status, 404);
    const index = new Redis(redis.url);
    try {
      assert.equal(await index.hexists('zkml:jobs', id), 0, 'the job index is cleaned');

      // A running proof: the worker's first task hangs; a cancel stops it within about a second.
      const token = join(scratchDir('fault'), 'hang');
      writeFileSync(token, '');
      const worker = start(['worker', build, '--redis', redis.url, '--workers', '1'], { ZKML_FAULT: `hang:${token}` });
      await worker.event('ready');
      const hung = (await api.post('/v1/jobs', { model: 'iris_mlp', input: inputs[0] })).body.id;
      while ((await api.get(`/v1/jobs/${hung}`)).body.progress.running === 0) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await api.post(`/v1/jobs/${hung}/cancel`)).status, 200);
      const stopped = await api.finished(hung, 20_000);
      assert.equal(stopped.state, 'cancelled');
      const [item] = await api.allItems(hung);
      assert.deepEqual([item.state, item.error.code, item.attempts], ['failed', 'CANCELLED', 1], JSON.stringify(item));

      // Retention: a server with --retention 1s deletes finished jobs, their items and their index entries.
      const done = await api.finished((await api.post('/v1/jobs', { model: 'iris_mlp', input: inputs[1] })).body.id);
      assert.equal(done.state, 'completed');
      const sweeper = start(['serve', build, '--redis', redis.url, '--port', '0', '--insecure-dev-keys', '--api-keys', keys.file, '--retention', '1s']);
      await sweeper.event('listening');
      const deadline = Date.now() + 20_000;
      while ((await api.get(`/v1/jobs/${done.id}`)).status === 200) {
        assert.ok(Date.now() < deadline, 'swept within 20 s');
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(await index.hexists('zkml:jobs', done.id), 0);
      assert.equal(await index.hexists('zkml:jobs', hung), 0, 'a cancelled job is finished, and swept too');
      assert.deepEqual(await index.keys('zkml:idem:*'), [], 'idempotency records go with their jobs');
    } finally {
      index.disconnect();
    }
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { releaseCurves } from '../src/setup/curve.js';
import { startService, type RunningService, type ServiceOptions } from '../src/service/service.js';
import { zkml } from './helpers/cli.js';
import { scratchDir, testSamples, withKeys } from './helpers/fixtures.js';
import { apiKeys, client, type Reply } from './helpers/service.js';

/** A metric's value in Prometheus text, by name and label text, summed over other labels. */
function metric(text: string, name: string, labels = ''): number {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(labels));
  assert.ok(lines.length, `metric ${name}{${labels}} in:\n${text}`);
  return lines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/**
 * Access control and job hygiene of `zkml serve` on the embedded store: API keys and scopes,
 * ownership of jobs, idempotency keys, cancel, delete, retention and the running counters.
 */
describe('proving service: API keys, ownership, idempotency, cancel, delete, retention', () => {
  let build: string;
  let model: string;
  const services: RunningService[] = [];
  const inputs = testSamples('iris_mlp').inputs;
  const keys = apiKeys({
    alice: ['prove', 'read'],
    bob: ['prove', 'read', 'submit'],
    prover: ['prove'],
    reader: ['read'],
    ops: ['metrics'],
  });
  const serve = async (options: Partial<ServiceOptions> = {}) => {
    const s = await startService({ builds: [build], port: 0, store: join(scratchDir('store'), 'jobs'), workers: 1, insecureDevKeys: true, apiKeys: keys.file, ...options });
    services.push(s);
    return s;
  };
  let service: RunningService;
  let alice: ReturnType<typeof client>;
  let bob: ReturnType<typeof client>;

  before(async () => {
    // A hashed build: its results carry the salt that opens the input commitment, which must not leak.
    build = (await withKeys('iris_mlp', { input: 'hashed', output: 'hashed' })).dir;
    model = basename(build);
    service = await serve();
    alice = client(service.url, keys.tokens.alice);
    bob = client(service.url, keys.tokens.bob);
  });
  after(async () => {
    for (const s of services) await s.close(1000);
    await releaseCurves();
  });

  /** Every operation of the OpenAPI description, with its path filled in and the scopes it documents (undefined: open). */
  const operations = async (job: string) => {
    const doc = (await client(service.url).get('/openapi.json')).body;
    return Object.entries(doc.paths as Record<string, Record<string, { security: { apiKey?: string[] }[] }>>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase(),
        path: path.replace('{id}', job).replace('{name}', model).replace('{index}', '0'),
        scopes: op.security.length ? op.security[0].apiKey! : undefined,
      })),
    );
  };
  const send = (api: ReturnType<typeof client>, method: string, path: string): Promise<Reply> =>
    api.call(method, path, method === 'POST' ? (path === '/v1/jobs' ? { model, input: inputs[0] } : {}) : undefined);

  it('every route but /health and /openapi.json needs a key: none, a forged one or a malformed header is 401 with WWW-Authenticate', async () => {
    const { id } = (await alice.post('/v1/jobs', { model, input: inputs[0] })).body;
    assert.match(id, /^[0-9a-z]{9}[0-9a-f]{32}$/, 'job id: a time prefix and 128 random bits');
    const ops = await operations(id);
    assert.deepEqual(ops.filter((o) => !o.scopes).map((o) => o.path).sort(), ['/health', '/openapi.json']);
    assert.ok(ops.length >= 13, `${ops.length} operations`);
    const forged = client(service.url, `zkml_${randomBytes(32).toString('base64url')}`);
    for (const o of ops) {
      const anonymous = await send(client(service.url), o.method, o.path);
      if (!o.scopes) {
        assert.equal(anonymous.status, 200, `${o.method} ${o.path} is open`);
        continue;
      }
      assert.equal(anonymous.status, 401, `${o.method} ${o.path} without a key: ${JSON.stringify(anonymous.body)}`);
      assert.equal(anonymous.body.error.code, 'UNAUTHENTICATED');
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="zkml"');
      const bad = await send(forged, o.method, o.path);
      assert.equal(bad.status, 401, `${o.method} ${o.path} with a forged key`);
      assert.match(bad.headers.get('www-authenticate')!, /error="invalid_token"/);
      const basic = await client(service.url).call(o.method, o.path, undefined, { headers: { authorization: `Basic ${keys.tokens.alice}` } });
      assert.equal(basic.status, 401, `${o.method} ${o.path} with Basic auth`);
    }
    await alice.finished(id);
  });

  it('a key without the scope a route documents gets 403 insufficient_scope; with it, not', async () => {
    const { id } = (await alice.post('/v1/jobs', { model, input: inputs[1] })).body;
    await alice.finished(id);
    const ops = (await operations(id)).filter((o) => o.scopes?.length);
    for (const [name, scopes] of Object.entries({ prover: ['prove'], reader: ['read'], ops: ['metrics'] })) {
      const api = client(service.url, keys.tokens[name]);
      for (const o of ops) {
        const r = await send(api, o.method, o.path);
        if (o.scopes!.some((s) => scopes.includes(s))) {
          assert.notEqual(r.status, 401, `${name}: ${o.method} ${o.path}`);
          if (r.status === 403) assert.equal(r.body.error.message, `job ${id} belongs to another API key`, `${name}: ${o.method} ${o.path} has the scope`);
        } else {
          assert.equal(r.status, 403, `${name} (${scopes}): ${o.method} ${o.path} needs ${o.scopes}: ${JSON.stringify(r.body)}`);
          assert.equal(r.body.error.code, 'FORBIDDEN');
          assert.match(r.headers.get('www-authenticate')!, /error="insufficient_scope", scope="/);
        }
      }
    }
    assert.equal((await client(service.url, keys.tokens.ops).get('/metrics')).status, 200);
    assert.equal((await alice.get('/metrics')).status, 403);
  });

  it('another key cannot read, cancel, delete or submit a job, and never sees its input or salt', async () => {
    const input = inputs[2];
    const accepted = await alice.post('/v1/jobs', { model, input });
    assert.equal(accepted.status, 202);
    const { id } = accepted.body;
    const job = await alice.finished(id);
    assert.equal(job.owner, accepted.body.owner);
    const [item] = await alice.allItems(id);
    assert.equal(item.state, 'succeeded', JSON.stringify(item));
    assert.ok(item.result.salt, 'the owner gets the salt');
    assert.deepEqual(item.result.input, input);
    const secrets = [item.result.salt, JSON.stringify(item.result.publicSignals)];
    const calls: [string, () => Promise<Reply>][] = [
      ['job', () => bob.get(`/v1/jobs/${id}`)],
      ['results', () => bob.get(`/v1/jobs/${id}/results`)],
      ['one result', () => bob.get(`/v1/jobs/${id}/results/0`)],
      ['cancel', () => bob.post(`/v1/jobs/${id}/cancel`)],
      ['delete', () => bob.delete(`/v1/jobs/${id}`)],
      // bob may submit (scope submit), but not alice's proof by reference: 403 before "no chain".
      ['submit', () => bob.post('/v1/submit', { job: id, index: 0 })],
    ];
    for (const [name, call] of calls) {
      const r = await call();
      assert.equal(r.status, 403, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.message, `job ${id} belongs to another API key`);
      for (const s of secrets) assert.ok(!JSON.stringify(r.body).includes(s), `${name}: no secret in the answer`);
    }
    assert.equal((await alice.get(`/v1/jobs/${id}`)).status, 200, 'still there for its owner');
  });

  it('an Idempotency-Key replays the job it created (per key); the same key with another body is 422', async () => {
    const key = `order-${randomBytes(4).toString('hex')}`;
    const body = { model, inputs: [inputs[3], inputs[4]] };
    const headers = { 'idempotency-key': key };
    const first = await alice.post('/v1/jobs', body, { headers });
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    // The same JSON with its keys in another order is the same request.
    const again = await alice.post('/v1/jobs', { inputs: body.inputs, model }, { headers });
    assert.equal(again.status, 202);
    assert.equal(again.body.id, first.body.id, 'the same job, not a second one');
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const other = await alice.post('/v1/jobs', { model, input: inputs[5] }, { headers });
    assert.equal(other.status, 422);
    assert.equal(other.body.error.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.match(other.body.error.message, new RegExp(`Idempotency-Key "${key}" was already used for job ${first.body.id}`));
    // Keys are per API key: bob's request with the same key is his own job.
    const bobs = await bob.post('/v1/jobs', body, { headers });
    assert.equal(bobs.status, 202);
    assert.notEqual(bobs.body.id, first.body.id);
    assert.equal((await alice.post('/v1/jobs', body, { headers: { 'idempotency-key': 'a b' } })).status, 400, 'malformed key');
    await alice.finished(first.body.id);
    await bob.finished(bobs.body.id);
    // Deleting the job frees its key.
    assert.equal((await alice.delete(`/v1/jobs/${first.body.id}`)).status, 204);
    const fresh = await alice.post('/v1/jobs', body, { headers });
    assert.equal(fresh.status, 202);
    assert.notEqual(fresh.body.id, first.body.id);
    await alice.finished(fresh.body.id);
  });

  it('cancel stops the queued items (and the running proof); delete removes the job and its results, then 404', async () => {
    const accepted = await alice.post('/v1/jobs', { model, inputs: Array.from({ length: 12 }, (_, i) => inputs[i % inputs.length]) });
    const { id } = accepted.body;
    assert.equal((await alice.delete(`/v1/jobs/${id}`)).status, 409, 'an unfinished job is not deleted');
    const cancelled = await alice.post(`/v1/jobs/${id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.ok(cancelled.body.cancelledAt);
    const job = await alice.finished(id);
    assert.equal(job.state, 'cancelled');
    const items = await alice.allItems(id);
    const stopped = items.filter((i) => i.error?.code === 'CANCELLED');
    assert.ok(stopped.length >= 10, `at most the two items claimed by the one thread ran: ${JSON.stringify(job.progress)}`);
    for (const i of stopped) assert.equal(i.result, undefined);
    assert.equal(job.progress.succeeded + stopped.length, 12);
    // Nothing of it is proved later, and the thread is free for the next job.
    const next = await alice.finished((await alice.post('/v1/jobs', { model, input: inputs[0] })).body.id);
    assert.equal(next.state, 'completed');
    assert.deepEqual((await alice.get(`/v1/jobs/${id}`)).body.progress, job.progress);
    assert.equal((await alice.post(`/v1/jobs/${id}/cancel`)).status, 200, 'cancelling twice is harmless');
    assert.equal((await alice.post(`/v1/jobs/${next.id}/cancel`)).status, 409, 'a completed job has nothing to cancel');

    assert.equal((await alice.delete(`/v1/jobs/${next.id}`)).status, 204);
    for (const path of [`/v1/jobs/${next.id}`, `/v1/jobs/${next.id}/results`, `/v1/jobs/${next.id}/results/0`]) {
      const r = await alice.get(path);
      assert.equal(r.status, 404, path);
      assert.match(r.body.error.message, /no job/);
    }
    assert.equal((await alice.delete(`/v1/jobs/${next.id}`)).status, 404);
  });

  it('counters for /metrics and /health follow jobs as they finish, are deleted, and across a restart', async () => {
    const store = join(scratchDir('counts'), 'jobs');
    let s = await serve({ store });
    const api = client(s.url, keys.tokens.bob);
    const ops = () => client(s.url, keys.tokens.ops);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await api.post('/v1/jobs', { model, inputs: inputs.slice(0, n) })).body.id);
    for (const id of ids) await api.finished(id);
    const counts = async () => {
      const text: string = (await ops().get('/metrics')).body;
      return { jobs: metric(text, 'zkml_jobs', 'state="completed"'), proofs: metric(text, 'zkml_proofs', 'state="succeeded"'), queued: metric(text, 'zkml_proofs', 'state="queued"') };
    };
    assert.deepEqual(await counts(), { jobs: 3, proofs: 6, queued: 0 });
    const health = (await client(s.url).get('/health')).body;
    assert.deepEqual([health.status, health.queueDepth, health.running], ['ok', 0, 0]);
    assert.equal((await api.delete(`/v1/jobs/${ids[2]}`)).status, 204);
    assert.deepEqual(await counts(), { jobs: 2, proofs: 3, queued: 0 });
    await s.close(1000);
    s = await serve({ store });
    assert.deepEqual(await counts(), { jobs: 2, proofs: 3, queued: 0 }, 'after a restart');
  });

  it('retention deletes finished jobs with their inputs, salts, results and idempotency records; the default keeps them', async () => {
    const s = await serve({ retentionMs: 1000 });
    const api = client(s.url, keys.tokens.alice);
    const { id } = (await api.post('/v1/jobs', { model, input: inputs[0] }, { headers: { 'idempotency-key': 'kept-for-retention' } })).body;
    // Only finished jobs are swept: it is proved, then deleted about a second later.
    const states = new Set<string>();
    const deadline = Date.now() + 30_000;
    for (let r = await api.get(`/v1/jobs/${id}`); r.status === 200; r = await api.get(`/v1/jobs/${id}`)) {
      states.add(r.body.state);
      assert.ok(Date.now() < deadline, `deleted within 30 s: ${JSON.stringify(r.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(states.has('queued') || states.has('running'), 'seen unfinished, and kept then');
    assert.equal((await api.get(`/v1/jobs/${id}/results/0`)).status, 404);
    const text: string = (await client(s.url, keys.tokens.ops).get('/metrics')).body;
    assert.equal(metric(text, 'zkml_jobs', 'state="completed"'), 0);
    assert.equal(metric(text, 'zkml_proofs', 'state="succeeded"'), 0);
    // Its idempotency record went with it.
    const again = await api.post('/v1/jobs', { model, input: inputs[1] }, { headers: { 'idempotency-key': 'kept-for-retention' } });
    assert.equal(again.status, 202);
    assert.notEqual(again.body.id, id);
    // The main service keeps jobs (7 days): the first job of this file is still there.
    const kept = await alice.post('/v1/jobs', { model, input: inputs[0] });
    await alice.finished(kept.body.id);
    assert.equal((await alice.get(`/v1/jobs/${kept.body.id}`)).status, 200);
    await api.finished(again.body.id);
  });

  it('refuses to start without keys, and opens access only on a loopback address when told', async () => {
    await assert.rejects(startService({ builds: [build], port: 0, store: join(scratchDir('store'), 'jobs'), insecureDevKeys: true }), /needs API keys.*--api-keys/);
    await assert.rejects(startService({ builds: [build], host: '0.0.0.0', port: 0, store: join(scratchDir('store'), 'jobs'), insecureDevKeys: true, insecureNoAuth: true }), /only allowed on a loopback address/);
    const open = await serve({ apiKeys: undefined, insecureNoAuth: true });
    const anyone = client(open.url);
    assert.equal((await anyone.get('/v1/models')).status, 200);
    assert.equal((await anyone.get('/metrics')).status, 200);
    // A web page whose name was rebound to 127.0.0.1 reaches the port, but not the service.
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${open.url}/v1/models`, { headers: { host: 'attacker.example:8080' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /answers only requests addressed to localhost/);
  });

  it('one salt for a batch gives each item its own salts: the same input twice has two commitments', async () => {
    const input = inputs[0];
    const { body } = await alice.post('/v1/jobs', { model, inputs: [input, input], salt: '42' });
    await alice.finished(body.id);
    const [a, b] = await alice.allItems(body.id);
    assert.notEqual(a.result.salt, b.result.salt);
    assert.notEqual(a.result.publicSignals[1], b.result.publicSignals[1], 'distinct input commitments');
    // The same job's salts again from the same salt: proofs of a batch can be reproduced.
    const again = await alice.post('/v1/jobs', { model, inputs: [input, input], salt: '42' });
    await alice.finished(again.body.id);
    assert.deepEqual((await alice.allItems(again.body.id)).map((i) => i.result.salt), [a.result.salt, b.result.salt]);
  });

  it('zkml api-key: create prints the token once and stores only its hash; list; revoke takes effect on the running service', async () => {
    const file = join(scratchDir('cli-keys'), 'keys.json');
    const created = await zkml('api-key', 'create', '--file', file, '--name', 'carol', '--scopes', 'prove,read');
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^zkml_[A-Za-z0-9_-]{43}$/);
    assert.ok(!readFileSync(file, 'utf8').includes(token), 'the file holds no token');
    assert.equal((await zkml('api-key', 'create', '--file', file, '--name', 'dave', '--scopes', 'prove,admin')).code, 1, 'unknown scope');
    const listed = await zkml('api-key', 'list', '--file', file, '--json');
    const [carol] = JSON.parse(listed.stdout);
    assert.deepEqual([carol.name, carol.scopes, carol.sha256], ['carol', ['prove', 'read'], undefined]);

    const s = await serve({ apiKeys: file });
    const api = client(s.url, token);
    assert.equal((await api.get('/v1/models')).status, 200);
    const revoked = await zkml('api-key', 'revoke', 'carol', '--file', file);
    assert.equal(revoked.code, 0, revoked.stderr);
    const r = await api.get('/v1/models');
    assert.equal(r.status, 401);
    assert.match(r.body.error.message, /revoked/);
    // A keys file that cannot be read fails closed: no key, revoked or not, is accepted until it can be.
    const erin = (await zkml('api-key', 'create', '--file', file, '--name', 'erin', '--scopes', 'read')).stdout.trim();
    assert.equal((await client(s.url, erin).get('/v1/models')).status, 200);
    writeFileSync(file, '{"format": "zkml-api-keys/1", "keys": [');
    assert.equal((await client(s.url, erin).get('/v1/models')).status, 401);
    rmSync(file);
    assert.equal((await client(s.url, erin).get('/v1/models')).status, 401);
  });

});

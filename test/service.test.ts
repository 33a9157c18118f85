import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureDeployed, recordOf, writeDeployment } from '../src/chain/deployment.js';
import { startHardhatNode, type LocalNode } from '../src/chain/local_node.js';
import { rpcChain, type Chain } from '../src/chain/network.js';
import { loadBuild } from '../src/compile/manifest.js';
import { decodeOutput, quantizeInput } from '../src/quant/io.js';
import { referenceOutput } from '../src/quant/reference.js';
import { releaseCurves } from '../src/setup/curve.js';
import { startService, type RunningService } from '../src/service/service.js';
import { verify } from '../src/verify/verify.js';
import { scratchDir, testSamples, withKeys } from './helpers/fixtures.js';
import { apiKeys, client, type Reply } from './helpers/service.js';

/** The test builds have dev keys, which verify() refuses unless told (test/provenance.test.ts). */
const DEV_KEYS = { insecureDevKeys: true };

/** One key with every scope: these tests are about proving; test/service_auth.test.ts is about access. */
const keys = apiKeys();

/** A metric's value in Prometheus text, by name and label text (e.g. 'state="succeeded"'), summed over other labels. */
function metric(text: string, name: string, labels = ''): number {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(labels));
  assert.ok(lines.length, `metric ${name}{${labels}} in:\n${text}`);
  return lines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('proving service over HTTP (embedded store, piscina pool)', () => {
  let iris: { dir: string };
  let digits: { dir: string };
  let service: RunningService;
  let api: ReturnType<typeof client>;
  const irisInputs = testSamples('iris_mlp').inputs;
  const digitsInputs = testSamples('digits_mlp').inputs;

  before(async () => {
    iris = await withKeys('iris_mlp');
    digits = await withKeys('digits_mlp');
    // The test builds have dev keys, which the service refuses unless told (test/provenance.test.ts).
    service = await startService({ builds: [iris.dir, digits.dir], port: 0, store: join(scratchDir('store'), 'jobs'), workers: 2, bodyLimitBytes: 256 * 1024, insecureDevKeys: true, apiKeys: keys.file });
    api = client(service.url, keys.tokens.test);
  });
  after(async () => {
    await service?.close(1000);
    await releaseCurves();
  });

  it('lists its models and describes every route in OpenAPI', async () => {
    const models = await api.get('/v1/models');
    assert.equal(models.status, 200);
    assert.deepEqual(models.body.models.map((m: { name: string }) => m.name).sort(), ['digits_mlp', 'iris_mlp']);
    const one = await api.get('/v1/models/digits_mlp');
    assert.equal(one.body.inputSize, 64);
    assert.equal(one.body.constraints, loadBuild(digits.dir).manifest.circuit.constraints);
    const doc = await api.get('/openapi.json');
    assert.equal(doc.body.openapi, '3.1.0');
    for (const path of ['/v1/models', '/v1/models/{name}', '/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/results', '/v1/jobs/{id}/results/{index}', '/v1/jobs/{id}/cancel', '/v1/verify', '/v1/submit', '/metrics', '/health']) {
      assert.ok(doc.body.paths[path], `OpenAPI describes ${path}`);
    }
    assert.equal((await api.get('/health')).body.status, 'ok');
  });

  it('proves a batch: each output is the integer reference\'s, each proof verifies, a tampered one does not', async () => {
    const inputs = irisInputs.slice(0, 6);
    const accepted = await api.post('/v1/jobs', { model: 'iris_mlp', inputs });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.headers.get('location'), `/v1/jobs/${accepted.body.id}`);
    assert.equal(accepted.body.total, 6);
    const job = await api.finished(accepted.body.id);
    assert.equal(job.state, 'completed');
    assert.deepEqual(job.progress, { queued: 0, running: 0, succeeded: 6, failed: 0 });
    const items = await api.allItems(job.id);
    const { program } = loadBuild(iris.dir);
    for (const [i, item] of items.entries()) {
      assert.equal(item.state, 'succeeded');
      assert.equal(item.attempts, 1);
      assert.deepEqual(item.result.output, decodeOutput(program, referenceOutput(program, quantizeInput(program, inputs[i]))));
      assert.ok(item.result.timings.proveMs > 0);
      assert.equal((await verify(iris.dir, item.result, DEV_KEYS)).valid, true);
      const remote = await api.post('/v1/verify', { model: 'iris_mlp', proof: item.result.proof, publicSignals: item.result.publicSignals });
      assert.equal(remote.status, 200);
      assert.equal(remote.body.valid, true);
    }
    const single = await api.get(`/v1/jobs/${job.id}/results/3`);
    assert.deepEqual(single.body.result.publicSignals, items[3].result.publicSignals);
    const forged = [...items[0].result.publicSignals];
    forged[0] = String(BigInt(forged[0]) + 1n);
    const bad = await api.post('/v1/verify', { model: 'iris_mlp', proof: items[0].result.proof, publicSignals: forged });
    assert.equal(bad.body.valid, false);
    // A proof of one model is not a proof of another.
    const cross = await api.post('/v1/verify', { model: 'digits_mlp', proof: items[0].result.proof, publicSignals: items[0].result.publicSignals });
    assert.equal(cross.body.valid, false);
  });

  it('load: 80 single-input jobs on the digits MLP over HTTP; every one completes and verifies', async () => {
    const n = 80;
    const started = performance.now();
    const ids = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const r = await api.post('/v1/jobs', { model: 'digits_mlp', input: digitsInputs[i % digitsInputs.length] });
        assert.equal(r.status, 202, JSON.stringify(r.body));
        return r.body.id as string;
      }),
    );
    const jobs = await Promise.all(ids.map((id) => api.finished(id)));
    const seconds = (performance.now() - started) / 1000;
    assert.ok(jobs.every((j) => j.state === 'completed'));
    for (const [k, id] of ids.entries()) {
      const [item] = await api.allItems(id);
      assert.equal((await verify(digits.dir, item.result, DEV_KEYS)).valid, true, `job ${k}`);
    }
    const latency = jobs.map((j) => Date.parse(j.finishedAt) - Date.parse(j.createdAt)).sort((a, b) => a - b);
    console.log(`# ${n} jobs in ${seconds.toFixed(1)} s: ${(n / seconds).toFixed(2)} proofs/s, p50 ${latency[Math.floor(n * 0.5)]} ms, p95 ${latency[Math.floor(n * 0.95)]} ms`);
  });

  it('answers bad requests with the right status and a message, and stays healthy', async () => {
    const irisInput = irisInputs[0];
    const cases: [string, () => Promise<Reply>, number, RegExp][] = [
      ['unknown model', () => api.post('/v1/jobs', { model: 'nope', input: irisInput }), 404, /unknown model "nope"/],
      ['wrong input length', () => api.post('/v1/jobs', { model: 'iris_mlp', input: [1, 2, 3] }), 422, /inputs\[0\]: input: expected 4 values/],
      ['one bad input in a batch', () => api.post('/v1/jobs', { model: 'iris_mlp', inputs: [irisInput, [1, 2]] }), 422, /inputs\[1\]/],
      ['NaN (not JSON)', () => api.post('/v1/jobs', undefined, { raw: '{"model":"iris_mlp","input":[NaN,1,1,1]}' }), 400, /not valid JSON/],
      ['1e999 (parses to Infinity)', () => api.post('/v1/jobs', undefined, { raw: '{"model":"iris_mlp","input":[1e999,1,1,1]}' }), 400, /body\/input\/0 must be number/],
      ['out of the compiled range', () => api.post('/v1/jobs', { model: 'iris_mlp', input: [1e6, 1, 1, 1] }), 422, /outside the range/],
      ['a string for a number', () => api.post('/v1/jobs', { model: 'iris_mlp', input: ['1', 1, 1, 1] }), 400, /must be number/],
      ['input and inputs', () => api.post('/v1/jobs', { model: 'iris_mlp', input: irisInput, inputs: [irisInput] }), 400, /exactly one of/],
      ['neither', () => api.post('/v1/jobs', { model: 'iris_mlp' }), 400, /exactly one of/],
      ['unknown field', () => api.post('/v1/jobs', { model: 'iris_mlp', input: irisInput, priority: 1 }), 400, /additional properties/],
      ['empty batch', () => api.post('/v1/jobs', { model: 'iris_mlp', inputs: [] }), 400, /fewer than 1/],
      ['bad salt', () => api.post('/v1/jobs', { model: 'iris_mlp', input: irisInput, salt: 'pepper' }), 400, /salt/],
      ['bad recipient', () => api.post('/v1/jobs', { model: 'iris_mlp', input: irisInput, recipient: '0x1234' }), 400, /recipient "0x1234" is not an address/],
      ['not JSON at all', () => api.post('/v1/jobs', undefined, { raw: '{"model":' }), 400, /not valid JSON/],
      ['wrong content type', () => api.post('/v1/jobs', undefined, { raw: 'model=iris_mlp', contentType: 'application/x-www-form-urlencoded' }), 415, /content-type|Unsupported Media Type/i],
      ['oversize body', () => api.post('/v1/jobs', { model: 'digits_mlp', inputs: Array.from({ length: 3000 }, () => digitsInputs[0]) }), 413, /body is too large/i],
      ['unknown job', () => api.get('/v1/jobs/0000000000000000000aa'), 404, /no job/],
      ['malformed job id', () => api.get('/v1/jobs/..%2Fetc'), 400, /params\/id/],
      ['unknown route', () => api.get('/v2/everything'), 404, /no route/],
      ['page past the limit', () => api.get('/v1/jobs/0000000000000000000aa/results?limit=5000'), 400, /querystring\/limit/],
      ['verify: not a proof', () => api.post('/v1/verify', { model: 'iris_mlp', proof: { pi_a: 'x' }, publicSignals: [] }), 400, /body\/proof/],
      ['submit an unknown job', () => api.post('/v1/submit', { job: '0000000000000000000aa', index: 0 }), 404, /no job/],
      ['submit with no chain', () => api.post('/v1/submit', { model: 'iris_mlp', proof: { pi_a: ['1', '2'], pi_b: [['1', '2'], ['3', '4']], pi_c: ['1', '2'] }, publicSignals: ['1'] }), 503, /--rpc/],
    ];
    for (const [name, call, status, message] of cases) {
      const r = await call();
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error.message, message, name);
      assert.equal(typeof r.body.error.code, 'string', name);
    }
    const ok = await api.post('/v1/jobs', { model: 'iris_mlp', input: irisInput });
    assert.equal(ok.status, 202);
    assert.equal((await api.finished(ok.body.id)).state, 'completed');
    assert.equal((await api.get('/health')).body.status, 'ok');
  });

  it('exports Prometheus metrics: queue depth, proofs and jobs by state, latency histogram, worker restarts, requests', async () => {
    const text: string = (await api.get('/metrics')).body;
    assert.equal(metric(text, 'zkml_queue_depth'), 0);
    assert.equal(metric(text, 'zkml_proofs', 'state="succeeded"'), 6 + 80 + 1);
    assert.equal(metric(text, 'zkml_jobs', 'state="completed"'), 1 + 80 + 1);
    assert.equal(metric(text, 'zkml_proof_duration_seconds_count', 'result="ok"'), 87);
    assert.equal(metric(text, 'zkml_worker_restarts'), 0);
    assert.ok(metric(text, 'zkml_http_requests_total', 'status="422"') >= 3);
  });
});

describe('proving service: backpressure and worker faults', () => {
  let iris: { dir: string };
  const input = testSamples('iris_mlp').inputs[0];
  const services: RunningService[] = [];
  const serve = async (options: Partial<Parameters<typeof startService>[0]>) => {
    const s = await startService({ builds: [iris.dir], port: 0, store: join(scratchDir('store'), 'jobs'), workers: 1, insecureDevKeys: true, apiKeys: keys.file, ...options });
    services.push(s);
    return { service: s, api: client(s.url, keys.tokens.test) };
  };
  /** A service whose pool's first proving task crashes or hangs (ZKML_FAULT, read as the threads start). */
  const serveWithFault = async (fault: 'crash' | 'hang', options: Partial<Parameters<typeof startService>[0]>) => {
    const token = join(scratchDir('fault'), fault);
    writeFileSync(token, '');
    process.env.ZKML_FAULT = `${fault}:${token}`;
    try {
      return await serve(options);
    } finally {
      delete process.env.ZKML_FAULT;
    }
  };

  before(async () => {
    iris = await withKeys('iris_mlp');
  });
  after(async () => {
    for (const s of services) await s.close(1000);
    await releaseCurves();
  });

  it('bounds the queue: a job past it gets 429 with Retry-After, one larger than the queue 413', async () => {
    const { api } = await serve({ maxQueue: 10 });
    const first = await api.post('/v1/jobs', { model: 'iris_mlp', inputs: Array(10).fill(input) });
    assert.equal(first.status, 202);
    // At most two items per thread leave the queue before their proofs; nine more cannot fit until most are proved.
    const full = await api.post('/v1/jobs', { model: 'iris_mlp', inputs: Array(9).fill(input) });
    assert.equal(full.status, 429, JSON.stringify(full.body));
    assert.match(full.body.error.message, /queue is full/);
    assert.ok(Number(full.headers.get('retry-after')) >= 1);
    const huge = await api.post('/v1/jobs', { model: 'iris_mlp', inputs: Array(11).fill(input) });
    assert.equal(huge.status, 413);
    assert.equal((await api.finished(first.body.id)).state, 'completed');
    assert.equal((await api.post('/v1/jobs', { model: 'iris_mlp', inputs: Array(9).fill(input) })).status, 202, 'accepted once drained');
  });

  it('a worker thread that dies mid-proof is replaced and its item retried; nothing else is affected', async () => {
    const { api } = await serveWithFault('crash', { workers: 2 });
    const job = await api.finished((await api.post('/v1/jobs', { model: 'iris_mlp', inputs: Array(4).fill(input) })).body.id);
    assert.equal(job.state, 'completed');
    const items = await api.allItems(job.id);
    assert.deepEqual(items.map((i) => i.attempts).sort(), [1, 1, 1, 2], 'one item took a second attempt');
    for (const item of items) assert.equal((await verify(iris.dir, item.result, DEV_KEYS)).valid, true);
    assert.equal(metric((await api.get('/metrics')).body, 'zkml_worker_restarts'), 1);
  });

  it('a hung proof is terminated at its time limit and retried', async () => {
    const { api } = await serveWithFault('hang', { workers: 1 });
    const job = await api.finished((await api.post('/v1/jobs', { model: 'iris_mlp', input, timeoutMs: 4000 })).body.id);
    assert.equal(job.state, 'completed');
    const [item] = await api.allItems(job.id);
    assert.equal(item.attempts, 2);
    assert.equal(metric((await api.get('/metrics')).body, 'zkml_worker_restarts'), 1);
  });

  it('an item that never finishes in time fails after the attempt limit, with the reason', async () => {
    const { api } = await serve({ workers: 1, maxAttempts: 2 });
    const job = await api.finished((await api.post('/v1/jobs', { model: 'iris_mlp', input, timeoutMs: 1 })).body.id);
    assert.equal(job.state, 'failed');
    const [item] = await api.allItems(job.id);
    assert.equal(item.attempts, 2);
    assert.equal(item.error.code, 'TIMEOUT');
    assert.match(item.error.message, /time limit of 1 ms.*attempt 2 of 2/);
    // The service still proves.
    assert.equal((await api.finished((await api.post('/v1/jobs', { model: 'iris_mlp', input })).body.id)).state, 'completed');
  });
});

describe('proving service: submitting proofs to the registry on a JSON-RPC node', () => {
  let node: LocalNode;
  let chain: Chain;
  let service: RunningService;
  let api: ReturnType<typeof client>;
  let iris: { dir: string };

  before(async () => {
    iris = await withKeys('iris_mlp');
    const digits = await withKeys('digits_mlp');
    node = await startHardhatNode();
    chain = await rpcChain(node.url);
    // As `zkml register --rpc` does: deploy, register, record the addresses for this RPC URL.
    const d = await ensureDeployed(chain, { build: iris.dir, register: true });
    await writeDeployment(iris.dir, chain, await recordOf(chain, iris.dir, d));
    service = await startService({ builds: [iris.dir, digits.dir], port: 0, store: join(scratchDir('store'), 'jobs'), workers: 1, rpc: node.url, insecureDevKeys: true, apiKeys: keys.file });
    api = client(service.url, keys.tokens.test);
  });
  after(async () => {
    await service?.close(1000);
    await chain?.close();
    await node?.stop();
    await releaseCurves();
  });

  it('submits a job\'s proof; the registry records it once; forged and unregistered proofs are refused', async () => {
    const input = testSamples('iris_mlp').inputs[0];
    // Bound to an applicant: the service's key sends the transaction, the applicant is credited.
    const applicant = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    const job = await api.finished((await api.post('/v1/jobs', { model: 'iris_mlp', input, recipient: applicant })).body.id);
    const sent = await api.post('/v1/submit', { job: job.id, index: 0 });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.recipient, applicant);
    assert.match(sent.body.txHash, /^0x[0-9a-f]{64}$/);
    assert.ok(Number(sent.body.gasUsed) > 200_000);
    const [item] = await api.allItems(job.id);
    assert.deepEqual(sent.body.result.output, item.result.publicSignals.slice(0, 3), 'the registry recorded the proven output');
    assert.equal(item.result.recipient, applicant.toLowerCase());

    const again = await api.post('/v1/submit', { model: 'iris_mlp', proof: item.result.proof, publicSignals: item.result.publicSignals });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /ResultExists/);
    const forged = [...item.result.publicSignals];
    forged[3] = String(BigInt(forged[3]) + 1n);
    const bad = await api.post('/v1/submit', { model: 'iris_mlp', proof: item.result.proof, publicSignals: forged });
    assert.equal(bad.status, 422);
    assert.match(bad.body.error.message, /InvalidProof/);
    const unregistered = await api.post('/v1/submit', { model: 'digits_mlp', proof: item.result.proof, publicSignals: item.result.publicSignals });
    assert.equal(unregistered.status, 409);
    assert.match(unregistered.body.error.message, /not registered on http:\/\/127\.0\.0\.1:\d+/);
    const notDone = await api.post('/v1/submit', { job: job.id, index: 5 });
    assert.equal(notDone.status, 404);
  });
});

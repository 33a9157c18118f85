/**
 * The HTTP API's request and response schemas (JSON Schema), in one place: the server validates
 * requests with the request schemas, and the OpenAPI description is built from all of them.
 */
import { batchDepth, MAX_BATCH, pathLength } from '../commit/batch.js';

const decimal = { type: 'string', pattern: '^[0-9]+$', maxLength: 80 } as const;
const vector = { type: 'array', items: { type: 'number' }, maxItems: 1_000_000 } as const;
const error = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
} as const;

const groth16Proof = {
  type: 'object',
  required: ['pi_a', 'pi_b', 'pi_c'],
  properties: {
    pi_a: { type: 'array', items: decimal, minItems: 2, maxItems: 3 },
    pi_b: { type: 'array', items: { type: 'array', items: decimal, minItems: 2, maxItems: 2 }, minItems: 2, maxItems: 3 },
    pi_c: { type: 'array', items: decimal, minItems: 2, maxItems: 3 },
    protocol: { type: 'string' },
    curve: { type: 'string' },
  },
} as const;

const publicSignals = { type: 'array', items: decimal, maxItems: 100_000 } as const;

export const submitJobBody = {
  type: 'object',
  additionalProperties: false,
  required: ['model'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 200, description: 'model name, as GET /v1/models lists it' },
    input: { ...vector, description: 'one input: the model inputs flattened and concatenated' },
    inputs: { type: 'array', items: vector, minItems: 1, maxItems: 100_000, description: 'a batch of inputs: one proof each, or, for a batched build (batchSize above 1), one proof per batchSize inputs, each input\'s result carrying the shared proof and its own opening' },
    salt: { type: 'string', maxLength: 80, description: 'master salt of the commitments and nullifier (salted builds; decimal or 0x-hex): of the input, or, for a batch, each input\'s is derived from it (Poseidon(salt, 3, index)); default: random per input' },
    recipient: { type: 'string', maxLength: 42, description: 'the address every proof of the job is bound to (0x and 40 hex digits): the registry credits the result to it, and no copy of the proof can credit anyone else; default: none' },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000, description: 'time limit of each proving attempt; default and cap: the server\'s --proof-timeout' },
  },
} as const;

export const verifyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'proof', 'publicSignals'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 200 },
    proof: groth16Proof,
    publicSignals,
    salt: { type: 'string', maxLength: 80, description: 'the master salt: with input and outputRaw, opens the commitments' },
    salts: {
      type: 'object',
      additionalProperties: false,
      description: 'or the derived salts alone: output (with outputRaw) opens only the output commitment',
      properties: { input: { type: 'string', pattern: '^[0-9]+$', maxLength: 80 }, output: { type: 'string', pattern: '^[0-9]+$', maxLength: 80 } },
    },
    input: vector,
    outputRaw: { type: 'array', items: { type: 'string', pattern: '^-?[0-9]+$', maxLength: 80 } },
    // One item of a batch proof (a batched build's job result): its position, keys and path in the batch's tree.
    index: { type: 'integer', minimum: 0, description: 'batched builds: the item\'s position in its batch' },
    inputKey: { type: 'string', pattern: '^[0-9]+$', maxLength: 80 },
    outputCommitment: { type: 'string', pattern: '^[0-9]+$', maxLength: 80 },
    path: { type: 'array', maxItems: pathLength(batchDepth(MAX_BATCH)), items: { type: 'string', pattern: '^[0-9]+$', maxLength: 80 } },
    batch: { type: 'object', description: 'batched builds: {size, count, root}, informational (the public signals are authoritative)' },
    floatOutput: { type: 'array', items: { type: 'number' } },
    output: { type: 'array', items: { type: 'number' } },
    recipient: { type: 'string', maxLength: 42 },
    circuitSha256: { type: 'string', maxLength: 64 },
    timings: { type: 'object' },
  },
} as const;

export const chainSubmitBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 200 },
    proof: groth16Proof,
    publicSignals,
    job: { type: 'string', maxLength: 64, description: 'instead of model/proof/publicSignals: a proof this service made' },
    index: { type: 'integer', minimum: 0 },
  },
} as const;

export const jobParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-z]{1,64}$' } } } as const;
export const itemParams = {
  type: 'object',
  required: ['id', 'index'],
  properties: { id: jobParams.properties.id, index: { type: 'string', pattern: '^[0-9]{1,9}$' } },
} as const;
export const modelParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 200 } } } as const;
export const resultsQuery = {
  type: 'object',
  additionalProperties: false,
  // Strings: the API validates without type coercion (so that a body's "1" is never 1); the route converts.
  properties: { offset: { type: 'string', pattern: '^[0-9]{1,9}$' }, limit: { type: 'string', pattern: '^(1000|[1-9][0-9]{0,2})$' } },
} as const;

const progress = {
  type: 'object',
  properties: { queued: { type: 'integer' }, running: { type: 'integer' }, succeeded: { type: 'integer' }, failed: { type: 'integer' } },
} as const;

const job = {
  type: 'object',
  required: ['id', 'model', 'state', 'total', 'progress', 'createdAt'],
  properties: {
    id: { type: 'string' },
    model: { type: 'string' },
    circuitSha256: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'running', 'completed', 'failed', 'cancelled'] },
    total: { type: 'integer' },
    progress,
    timeoutMs: { type: 'integer' },
    owner: { type: 'string', description: 'id of the API key that created the job (the only one that may see, cancel or delete it)' },
    createdAt: { type: 'string', format: 'date-time' },
    cancelledAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time', description: 'when the last item finished; the job is deleted --retention after it' },
  },
} as const;

const proofResult = {
  type: 'object',
  description: 'what `zkml prove` writes: proof, public signals, decoded output, float output, timings (and the salt of hashed builds)',
  properties: {
    proof: groth16Proof,
    publicSignals,
    output: { type: 'array', items: { type: 'number' } },
    outputRaw: { type: 'array', items: { type: 'string' } },
    floatOutput: { type: 'array', items: { type: 'number' } },
    input: { type: 'array', items: { type: 'number' } },
    salt: { type: 'string' },
    salts: { type: 'object', properties: { input: { type: 'string' }, output: { type: 'string' } } },
    recipient: { type: 'string' },
    circuitSha256: { type: 'string' },
    timings: { type: 'object', additionalProperties: true },
    index: { type: 'integer', description: 'batched builds: the item\'s position in its batch (its leaf)' },
    inputKey: { type: 'string', description: 'batched builds: the item\'s input commitment or nullifier' },
    outputCommitment: { type: 'string', description: 'batched builds: the item\'s output commitment' },
    path: { type: 'array', items: { type: 'string' }, description: 'batched builds: the path from the item\'s keys to the batch\'s root (src/commit/batch.ts)' },
    batch: { type: 'object', description: 'batched builds: the batch\'s size, count of real items and root; proof and publicSignals are the batch\'s' },
  },
} as const;

const item = {
  type: 'object',
  required: ['index', 'state', 'attempts'],
  properties: {
    index: { type: 'integer' },
    state: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] },
    attempts: { type: 'integer' },
    error: error.properties.error,
    result: proofResult,
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const model = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    circuitSha256: { type: 'string' },
    constraints: { type: 'integer' },
    publicSignals: { type: 'integer' },
    visibility: { type: 'string', description: 'input/output/weights visibility' },
    usesSalt: { type: 'boolean' },
    inputSize: { type: 'integer' },
    inputs: { type: 'array', items: { type: 'object' } },
    outputSize: { type: 'integer' },
    weightsCommitment: { type: 'string' },
  },
} as const;

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      json(error, {
        400: 'malformed request: invalid JSON, a field of the wrong type, an unknown field, a malformed Idempotency-Key',
        401: 'no API key, or an unknown or revoked one (WWW-Authenticate: Bearer)',
        403: 'the API key lacks the scope the route needs (WWW-Authenticate: Bearer error="insufficient_scope"), or the job is another key\'s',
        404: 'unknown model, job or item',
        409: 'a conflict: the model is not registered on the chain or the result is already recorded (submit); the job already finished (cancel) or has not (delete); a request with this Idempotency-Key is still being accepted',
        413: 'body larger than the limit, or a batch larger than the queue',
        415: 'not application/json',
        422: 'an input the model cannot take (wrong number of values, not finite, out of the compiled range); an Idempotency-Key already used with another body (IDEMPOTENCY_KEY_REUSED)',
        429: 'the queue is full; the Retry-After header says when to retry',
        503: 'shutting down, or the queue backend is unreachable',
      }[c] ?? 'error'),
    ]),
  );

/**
 * Who may call an operation: `security: []` is open; otherwise a bearer API key, with the scopes
 * listed (any one of them suffices; OpenAPI 3.1 allows role names for non-OAuth schemes).
 */
const open = { security: [] };
const key = (...scopes: string[]) => ({ security: [{ apiKey: scopes }], ...(scopes.length ? { 'x-scopes-any-of': scopes } : {}) });
const authErrors = (...codes: number[]) => errors(401, 403, ...codes);

const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'retry-safe submission: the same key (per API key) with the same body returns the job it created (Idempotent-Replayed: true) instead of a new one, for as long as that job is kept; with another body it is a 422',
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
};

const securitySchemes = {
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key from `zkml api-key create`, sent as "Authorization: Bearer <token>". Scopes: prove (create jobs; see, cancel and delete one\'s own jobs), read (one\'s own jobs\' results: proofs, public signals, inputs, salts), submit (POST /v1/submit: a transaction signed and paid by the service), metrics (GET /metrics). Any valid key may list models and verify. A job is visible only to the key that created it.',
  },
};

/** The OpenAPI 3.1 description served at GET /openapi.json. */
export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'zkml proving service',
      version,
      description: 'Groth16 proofs that an ONNX model produced an output. Jobs are queued, proved by a worker pool, and kept until deleted or until the retention period after they finish.',
    },
    security: [{ apiKey: [] }],
    paths: {
      '/health': { get: { summary: 'liveness and queue depth', ...open, responses: { 200: json({ type: 'object' }, 'healthy') } } },
      '/openapi.json': { get: { summary: 'this document', ...open, responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', ...key('metrics'), responses: { 200: { description: 'text exposition format', content: { 'text/plain': {} } }, ...authErrors() } } },
      '/v1/models': { get: { summary: 'models this service proves', ...key(), responses: { 200: json({ type: 'object', properties: { models: { type: 'array', items: model } } }, 'models'), ...errors(401) } } },
      '/v1/models/{name}': {
        get: { summary: 'one model', ...key(), parameters: [pathParam('name')], responses: { 200: json(model, 'the model'), ...errors(401, 404) } },
      },
      '/v1/jobs': {
        post: {
          summary: 'submit a proving job: one input or a batch',
          ...key('prove'),
          parameters: [idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: submitJobBody } } },
          responses: { 202: json(job, 'accepted and stored (or, with a used Idempotency-Key and the same body, the job it created); poll GET /v1/jobs/{id}'), ...authErrors(400, 404, 409, 413, 415, 422, 429, 503) },
        },
      },
      '/v1/jobs/{id}': {
        get: { summary: 'job status and progress', ...key('prove', 'read'), parameters: [pathParam('id')], responses: { 200: json(job, 'the job'), ...authErrors(404) } },
        delete: {
          summary: 'delete a finished job with its inputs, salts and results (cancel an unfinished one first)',
          ...key('prove'),
          parameters: [pathParam('id')],
          responses: { 204: { description: 'deleted; the job is 404 from now on' }, ...authErrors(404, 409) },
        },
      },
      '/v1/jobs/{id}/cancel': {
        post: {
          summary: 'cancel a job: its queued inputs fail with CANCELLED and its running proofs are stopped (on Redis within a second); finished results are kept',
          ...key('prove'),
          parameters: [pathParam('id')],
          responses: { 200: json(job, 'the job, cancelled once no proof of it runs'), ...authErrors(404, 409) },
        },
      },
      '/v1/jobs/{id}/results': {
        get: {
          summary: 'proofs, public signals, decoded outputs and timings of a job\'s items, a page at a time',
          ...key('read'),
          parameters: [pathParam('id'), queryParam('offset'), queryParam('limit')],
          responses: { 200: json({ type: 'object', properties: { job, items: { type: 'array', items: item }, next: { type: 'integer' } } }, 'a page of items'), ...authErrors(400, 404) },
        },
      },
      '/v1/jobs/{id}/results/{index}': {
        get: { summary: 'one item', ...key('read'), parameters: [pathParam('id'), pathParam('index')], responses: { 200: json(item, 'the item'), ...authErrors(404) } },
      },
      '/v1/verify': {
        post: {
          summary: 'verify a proof off-chain against a model\'s verification key',
          ...key(),
          requestBody: { required: true, content: { 'application/json': { schema: verifyBody } } },
          responses: { 200: json({ type: 'object', properties: { valid: { type: 'boolean' }, reason: { type: 'string' } } }, 'the verdict (an invalid proof is a 200 with valid: false)'), ...errors(400, 401, 404, 413) },
        },
      },
      '/v1/submit': {
        post: {
          summary: 'submit a proof to the on-chain registry (server started with --rpc; model deployed and registered there); {job, index} only for the job\'s own key',
          ...key('submit'),
          requestBody: { required: true, content: { 'application/json': { schema: chainSubmitBody } } },
          responses: { 200: json({ type: 'object' }, 'the transaction and the recorded result'), ...authErrors(400, 404, 409, 503) },
        },
      },
    },
    components: { securitySchemes, schemas: { Error: error, Job: job, Item: item, Model: model, ProofResult: proofResult } },
  };
}

function pathParam(name: string) {
  return { name, in: 'path', required: true, schema: { type: name === 'index' ? 'integer' : 'string' } };
}
function queryParam(name: string) {
  return { name, in: 'query', required: false, schema: { type: 'integer', minimum: name === 'limit' ? 1 : 0 } };
}

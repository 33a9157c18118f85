/**
 * The HTTP API's request and response schemas (JSON Schema), in one place: the server validates
 * requests with the request schemas, and the OpenAPI description is built from all of them.
 */

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
    inputs: { type: 'array', items: vector, minItems: 1, maxItems: 100_000, description: 'a batch of inputs, one proof each' },
    salt: { type: 'string', maxLength: 80, description: 'commitment salt for every input (hashed builds; decimal or 0x-hex); default: random per input' },
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
    salt: { type: 'string', maxLength: 80, description: 'with input and outputRaw: opens the commitments' },
    input: vector,
    outputRaw: { type: 'array', items: { type: 'string', pattern: '^-?[0-9]+$', maxLength: 80 } },
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
    state: { type: 'string', enum: ['queued', 'running', 'completed', 'failed'] },
    total: { type: 'integer' },
    progress,
    timeoutMs: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
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
    circuitSha256: { type: 'string' },
    timings: { type: 'object', additionalProperties: true },
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
        400: 'malformed request: invalid JSON, a field of the wrong type, an unknown field',
        404: 'unknown model, job or item',
        409: 'conflicts with the chain: model not registered, result already recorded',
        413: 'body larger than the limit, or a batch larger than the queue',
        415: 'not application/json',
        422: 'an input the model cannot take: wrong number of values, not finite, out of the compiled range',
        429: 'the queue is full; the Retry-After header says when to retry',
        503: 'shutting down, or the queue backend is unreachable',
      }[c] ?? 'error'),
    ]),
  );

/** The OpenAPI 3.1 description served at GET /openapi.json. */
export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'zkml proving service',
      version,
      description: 'Groth16 proofs that an ONNX model produced an output. Jobs are queued, proved by a worker pool, and kept until fetched.',
    },
    paths: {
      '/health': { get: { summary: 'liveness and queue depth', responses: { 200: json({ type: 'object' }, 'healthy') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format', content: { 'text/plain': {} } } } } },
      '/v1/models': { get: { summary: 'models this service proves', responses: { 200: json({ type: 'object', properties: { models: { type: 'array', items: model } } }, 'models') } } },
      '/v1/models/{name}': {
        get: { summary: 'one model', parameters: [pathParam('name')], responses: { 200: json(model, 'the model'), ...errors(404) } },
      },
      '/v1/jobs': {
        post: {
          summary: 'submit a proving job: one input or a batch',
          requestBody: { required: true, content: { 'application/json': { schema: submitJobBody } } },
          responses: { 202: json(job, 'accepted and stored; poll GET /v1/jobs/{id}'), ...errors(400, 404, 413, 415, 422, 429, 503) },
        },
      },
      '/v1/jobs/{id}': { get: { summary: 'job status and progress', parameters: [pathParam('id')], responses: { 200: json(job, 'the job'), ...errors(404) } } },
      '/v1/jobs/{id}/results': {
        get: {
          summary: 'proofs, public signals, decoded outputs and timings of a job\'s items, a page at a time',
          parameters: [pathParam('id'), queryParam('offset'), queryParam('limit')],
          responses: { 200: json({ type: 'object', properties: { job, items: { type: 'array', items: item }, next: { type: 'integer' } } }, 'a page of items'), ...errors(400, 404) },
        },
      },
      '/v1/jobs/{id}/results/{index}': {
        get: { summary: 'one item', parameters: [pathParam('id'), pathParam('index')], responses: { 200: json(item, 'the item'), ...errors(404) } },
      },
      '/v1/verify': {
        post: {
          summary: 'verify a proof off-chain against a model\'s verification key',
          requestBody: { required: true, content: { 'application/json': { schema: verifyBody } } },
          responses: { 200: json({ type: 'object', properties: { valid: { type: 'boolean' }, reason: { type: 'string' } } }, 'the verdict (an invalid proof is a 200 with valid: false)'), ...errors(400, 404, 413) },
        },
      },
      '/v1/submit': {
        post: {
          summary: 'submit a proof to the on-chain registry (server started with --rpc; model deployed and registered there)',
          requestBody: { required: true, content: { 'application/json': { schema: chainSubmitBody } } },
          responses: { 200: json({ type: 'object' }, 'the transaction and the recorded result'), ...errors(400, 404, 409, 503) },
        },
      },
    },
    components: { schemas: { Error: error, Job: job, Item: item, Model: model, ProofResult: proofResult } },
  };
}

function pathParam(name: string) {
  return { name, in: 'path', required: true, schema: { type: name === 'index' ? 'integer' : 'string' } };
}
function queryParam(name: string) {
  return { name, in: 'query', required: false, schema: { type: 'integer', minimum: name === 'limit' ? 1 : 0 } };
}

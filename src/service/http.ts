import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Groth16Proof, PublicSignals } from 'snarkjs';
import type { BatchItemProof } from '../prove/prover.js';
import { parseRecipient, parseSalt, recipientAddress } from '../commit/statement.js';
import { ZkmlError } from '../errors.js';
import { verify } from '../verify/verify.js';
import { chainSubmitBody, itemParams, jobParams, modelParams, openApiDocument, resultsQuery, submitJobBody, verifyBody } from './api.js';
import { isLoopback, type Authenticator, type Principal, type Scope } from './auth.js';
import type { ChainSubmitter } from './chain_submit.js';
import { ForbiddenError, InvalidRequestError, NotFoundError, QueueFullError, ServiceError, UnauthorizedError, UnavailableError } from './errors.js';
import { bodyHash, type JobBackend } from './jobs.js';
import type { serviceMetrics } from './metrics.js';
import { checkInputs, describeModel, findModel, type ServedModel } from './models.js';

/**
 * Who may call a route: everyone ('public'), any valid API key ('key'), or a key with one of the
 * listed scopes. Each route says so in its config; a route that does not is treated as 'key'.
 */
export type Access = 'public' | 'key' | readonly Scope[];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** Set by the auth hook on every route that is not public. */
    principal: Principal;
  }
}

export interface AppContext {
  models: ReadonlyMap<string, ServedModel>;
  backend: JobBackend;
  /** API keys (KeyRing), or openAccess with --insecure-no-auth. */
  auth: Authenticator;
  metrics: ReturnType<typeof serviceMetrics>;
  chain?: ChainSubmitter;
  /** POST /v1/verify accepts proofs against keys anyone can forge (dev keys). */
  insecureDevKeys?: boolean;
  /** Default and cap of a job's per-attempt time limit. */
  proofTimeoutMs: number;
  bodyLimitBytes: number;
  version: string;
  /** True once shutdown began: new jobs get 503. */
  draining: () => boolean;
}

/** Fastify's own client errors, renamed for the API. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
};

/** The HTTP API (see api.ts for the schemas and the OpenAPI description). */
export function createApp(ctx: AppContext): FastifyInstance {
  const app = Fastify({
    bodyLimit: ctx.bodyLimitBytes,
    // Strict JSON: no "1" for 1, no silently dropped fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    logger: false,
    // Every route declares its access; no implicit HEAD twins.
    exposeHeadRoutes: false,
  });

  // Authentication and scopes, before the body is read: a request without a valid key costs no parsing.
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (req) => {
    // Shutting down: running proofs drain, every route but /health answers 503 until the port closes.
    if (ctx.draining() && req.url !== '/health') throw new UnavailableError('the service is shutting down; retry after it restarts (or on another instance)');
    // Without keys, only requests addressed to a loopback name are served: a web page's DNS-rebound name is not.
    if (ctx.auth.open && !isLoopback((req.headers.host ?? '').replace(/:\d+$/, ''))) {
      throw new ForbiddenError('this service runs without authentication (--insecure-no-auth) and answers only requests addressed to localhost or a loopback address');
    }
    if (req.is404) return;
    const access = req.routeOptions.config.access ?? 'key';
    if (access === 'public') return;
    req.principal = ctx.auth.authenticate(req.headers.authorization);
    if (access !== 'key' && !access.some((s) => req.principal.scopes.has(s))) {
      throw new ForbiddenError(`API key ${req.principal.name} (${req.principal.id}) lacks the scope this route needs: ${access.join(' or ')}`, access.join(' '));
    }
  });
  /** Only the key that created a job may use it: another key's job is 403, never its inputs, salts or results. */
  const owned = async (req: { principal: Principal }, id: string): Promise<void> => {
    if ((await ctx.backend.owner(id)) !== req.principal.id) throw new ForbiddenError(`job ${id} belongs to another API key`);
  };
  const config = (access: Access) => ({ config: { access } });

  app.addHook('onResponse', async (req, reply) => ctx.metrics.request(req.routeOptions.url ?? 'unmatched', reply.statusCode));

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    let status = 500;
    let code = 'INTERNAL';
    let message = err.message;
    if (err instanceof ServiceError) {
      status = err.status;
      code = err.code;
      if (err instanceof QueueFullError) reply.header('retry-after', String(err.retryAfterSeconds));
      if (err instanceof UnauthorizedError) reply.header('www-authenticate', `Bearer realm="zkml"${err.tokenGiven ? ', error="invalid_token"' : ''}`);
      if (err instanceof ForbiddenError && err.scope) reply.header('www-authenticate', `Bearer realm="zkml", error="insufficient_scope", scope="${err.scope}"`);
    } else if (err.validation) {
      status = 400;
      code = 'INVALID_REQUEST';
      message = `${err.validationContext ?? 'request'}${err.validation[0]?.instancePath ?? ''} ${err.validation[0]?.message ?? err.message}`;
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      code = FASTIFY_CODES[err.code] ?? 'BAD_REQUEST';
      if (code === 'INVALID_JSON') message = `the body is not valid JSON (NaN and Infinity are not JSON numbers): ${err.message}`;
    } else if (err instanceof ZkmlError) {
      status = 422;
      code = err.code;
    } else {
      console.error(err);
    }
    void reply.code(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((req, reply) => void reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } }));

  app.get('/health', config('public'), async () => {
    const s = await ctx.backend.stats();
    return { status: ctx.draining() ? 'draining' : 'ok', backend: ctx.backend.kind, models: ctx.models.size, queueDepth: s.queueDepth, running: s.running };
  });
  app.get('/openapi.json', config('public'), async () => openApiDocument(ctx.version));
  app.get('/metrics', config(['metrics']), async (_req, reply) => reply.type('text/plain; version=0.0.4').send(await ctx.metrics.text()));

  app.get('/v1/models', config('key'), async () => ({ models: [...ctx.models.values()].map(describeModel) }));
  app.get<{ Params: { name: string } }>('/v1/models/:name', { schema: { params: modelParams }, ...config('key') }, async (req) => describeModel(findModel(ctx.models, req.params.name)));

  app.post<{ Body: { model: string; input?: number[]; inputs?: number[][]; salt?: string; recipient?: string; timeoutMs?: number } }>(
    '/v1/jobs',
    { schema: { body: submitJobBody }, ...config(['prove']) },
    async (req, reply) => {
      if (ctx.draining()) throw new UnavailableError('the service is shutting down');
      const body = req.body;
      const idempotencyKey = req.headers['idempotency-key'];
      if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey))) {
        throw new InvalidRequestError('the Idempotency-Key header must be one value of 1 to 255 visible ASCII characters (a UUID, say)');
      }
      if ((body.input === undefined) === (body.inputs === undefined)) throw new InvalidRequestError('give exactly one of "input" (one proof) or "inputs" (a batch)');
      const model = findModel(ctx.models, body.model);
      const inputs = body.inputs ?? [body.input!];
      checkInputs(model, inputs);
      let salt: string | undefined;
      try {
        salt = body.salt === undefined ? undefined : String(parseSalt(body.salt));
      } catch (err) {
        throw new InvalidRequestError(`salt: ${(err as Error).message}`);
      }
      let recipient: string | undefined;
      try {
        recipient = body.recipient === undefined ? undefined : recipientAddress(parseRecipient(body.recipient));
      } catch (err) {
        throw new InvalidRequestError(`recipient: ${(err as Error).message}`);
      }
      const timeoutMs = Math.min(body.timeoutMs ?? ctx.proofTimeoutMs, ctx.proofTimeoutMs);
      const { job, replayed } = await ctx.backend.submit({
        model,
        inputs,
        salt,
        recipient,
        timeoutMs,
        owner: req.principal.id,
        ...(idempotencyKey === undefined ? {} : { idempotency: { key: idempotencyKey, bodyHash: bodyHash(body) } }),
      });
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(job);
    },
  );

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', { schema: { params: jobParams }, ...config(['prove', 'read']) }, async (req) => {
    await owned(req, req.params.id);
    return ctx.backend.job(req.params.id);
  });
  app.post<{ Params: { id: string } }>('/v1/jobs/:id/cancel', { schema: { params: jobParams }, ...config(['prove']) }, async (req) => {
    await owned(req, req.params.id);
    return ctx.backend.cancel(req.params.id);
  });
  app.delete<{ Params: { id: string } }>('/v1/jobs/:id', { schema: { params: jobParams }, ...config(['prove']) }, async (req, reply) => {
    await owned(req, req.params.id);
    await ctx.backend.remove(req.params.id);
    return reply.code(204).send();
  });
  app.get<{ Params: { id: string }; Querystring: { offset?: string; limit?: string } }>(
    '/v1/jobs/:id/results',
    { schema: { params: jobParams, querystring: resultsQuery }, ...config(['read']) },
    async (req) => {
      await owned(req, req.params.id);
      const job = await ctx.backend.job(req.params.id);
      const offset = Number(req.query.offset ?? 0);
      const limit = Number(req.query.limit ?? 100);
      const items = await ctx.backend.items(req.params.id, offset, limit);
      return { job, items, ...(offset + limit < job.total ? { next: offset + limit } : {}) };
    },
  );
  app.get<{ Params: { id: string; index: string } }>('/v1/jobs/:id/results/:index', { schema: { params: itemParams }, ...config(['read']) }, async (req) => {
    await owned(req, req.params.id);
    const [item] = await ctx.backend.items(req.params.id, Number(req.params.index), 1);
    if (!item) throw new NotFoundError(`job ${req.params.id} has no item ${req.params.index}`);
    return item;
  });

  app.post<{ Body: { model: string; proof: Groth16Proof; publicSignals: PublicSignals; salt?: string; salts?: { input?: string; output?: string }; input?: number[]; outputRaw?: string[] } }>(
    '/v1/verify',
    { schema: { body: verifyBody }, ...config('key') },
    async (req) => {
      const { model: name, ...doc } = req.body;
      return verify(findModel(ctx.models, name).dir, doc, { insecureDevKeys: ctx.insecureDevKeys });
    },
  );

  app.post<{ Body: { model?: string; proof?: Groth16Proof; publicSignals?: PublicSignals; job?: string; index?: number } }>(
    '/v1/submit',
    { schema: { body: chainSubmitBody }, ...config(['submit']) },
    async (req) => {
      const b = req.body;
      if (b.job !== undefined) {
        if (b.index === undefined || b.model !== undefined || b.proof !== undefined) throw new InvalidRequestError('give either {job, index} or {model, proof, publicSignals}');
        await owned(req, b.job);
        const job = await ctx.backend.job(b.job);
        if (!ctx.chain) throw new UnavailableError('this service has no chain; start it with --rpc <url>');
        const [item] = await ctx.backend.items(b.job, b.index, 1);
        if (!item?.result) throw new NotFoundError(`job ${b.job} item ${b.index} has no proof${item ? ` (it is ${item.state})` : ''}`);
        const model = findModel(ctx.models, job.model);
        return ctx.chain.submit(model, item.result.proof, item.result.publicSignals, model.build.manifest.batch ? (item.result as BatchItemProof) : undefined);
      }
      if (!b.model || !b.proof || !b.publicSignals) throw new InvalidRequestError('give either {job, index} or {model, proof, publicSignals}');
      if (!ctx.chain) throw new UnavailableError('this service has no chain; start it with --rpc <url>');
      return ctx.chain.submit(findModel(ctx.models, b.model), b.proof, b.publicSignals);
    },
  );
  return app;
}

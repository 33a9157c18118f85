/**
 * zkml/service: the proving service as a library (`zkml serve` and `zkml worker` are thin CLIs
 * over it). A separate entry point so that `import 'zkml'` does not load the HTTP server, LMDB or
 * BullMQ.
 *
 *   const { token } = createApiKey('keys.json', { name: 'app', scopes: ['prove', 'read'] });
 *   const service = await startService({ builds: ['artifacts/build'], port: 8080, apiKeys: 'keys.json' });
 *   // POST {service.url}/v1/jobs with "Authorization: Bearer <token>" ...
 *   await service.close();
 */
export { startService, parseDuration, SERVICE_DEFAULTS, type ServiceOptions, type RunningService } from './service.js';
export { createApiKey, revokeApiKey, readKeyFile, parseScopes, KeyRing, SCOPES, type Scope, type StoredKey, type KeyFile, type Principal } from './auth.js';
export { startRedisWorker, type RedisWorkerOptions, type RunningWorker } from './redis_worker.js';
export { openApiDocument } from './api.js';
export type { JobView, ItemView, JobState, ItemState, Progress } from './jobs.js';

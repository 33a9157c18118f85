/**
 * zkml/service: the proving service as a library (`zkml serve` and `zkml worker` are thin CLIs
 * over it). A separate entry point so that `import 'zkml'` does not load the HTTP server, LMDB or
 * BullMQ.
 *
 *   const service = await startService({ builds: ['artifacts/build'], port: 8080 });
 *   // POST {service.url}/v1/jobs ...
 *   await service.close();
 */
export { startService, SERVICE_DEFAULTS, type ServiceOptions, type RunningService } from './service.js';
export { startRedisWorker, type RedisWorkerOptions, type RunningWorker } from './redis_worker.js';
export { openApiDocument } from './api.js';
export type { JobView, ItemView, JobState, ItemState, Progress } from './jobs.js';

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rpcChain } from '../chain/network.js';
import { packageRoot } from '../paths.js';
import { ChainSubmitter } from './chain_submit.js';
import { createApp } from './http.js';
import type { JobBackend } from './jobs.js';
import { LocalBackend } from './local_backend.js';
import { serviceMetrics } from './metrics.js';
import { loadModels } from './models.js';
import { RedisBackend } from './redis_backend.js';

export interface ServiceOptions {
  /** Build folders, or folders of build folders. */
  builds: string[];
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Proving threads (embedded store only; on Redis, `zkml worker` processes prove). */
  workers?: number;
  /** Folder of the embedded job store. */
  store?: string;
  /** BullMQ on this Redis instead of the embedded store and in-process pool. */
  redis?: string;
  maxQueue?: number;
  maxAttempts?: number;
  proofTimeoutMs?: number;
  bodyLimitBytes?: number;
  /** JSON-RPC node for POST /v1/submit, and the signer's key (default: the node's first account). */
  rpc?: string;
  privateKey?: string;
  log?: (line: string) => void;
}

export interface RunningService {
  url: string;
  backend: JobBackend;
  /** Stops taking requests and jobs; running proofs get `drainMs` to finish, then go back to the queue. */
  close(drainMs?: number): Promise<void>;
}

export const SERVICE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  workers: 2,
  store: join('artifacts', 'jobs'),
  maxQueue: 10_000,
  maxAttempts: 3,
  proofTimeoutMs: 300_000,
  bodyLimitBytes: 8 * 1024 * 1024,
  drainMs: 30_000,
};

const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** `zkml serve`: the HTTP API over a job backend (embedded store + pool, or BullMQ on Redis). */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const o = { ...SERVICE_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof SERVICE_DEFAULTS & ServiceOptions;
  const log = o.log ?? (() => {});
  const models = loadModels(o.builds, (dir, reason) => log(`skipping ${dir}: ${reason}`));
  const backend: JobBackend = o.redis
    ? await RedisBackend.connect(models, { url: o.redis, maxQueue: o.maxQueue, maxAttempts: o.maxAttempts })
    : await LocalBackend.start(models, { store: o.store, workers: o.workers, maxQueue: o.maxQueue, maxAttempts: o.maxAttempts, log });
  let chain: ChainSubmitter | undefined;
  try {
    if (o.rpc) chain = new ChainSubmitter(await rpcChain(o.rpc, o.privateKey), o.rpc);
  } catch (err) {
    await backend.close(0);
    throw err;
  }
  let draining = false;
  const metrics = serviceMetrics(backend);
  const app = createApp({ models, backend, metrics, chain, proofTimeoutMs: o.proofTimeoutMs, bodyLimitBytes: o.bodyLimitBytes, version, draining: () => draining });
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    await backend.close(0);
    await chain?.chain.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  log(`zkml service at ${url} (${backend.kind === 'redis' ? `BullMQ on ${o.redis}` : `store ${o.store}, ${o.workers} workers`}): ${[...models.keys()].join(', ') || 'no models'}`);
  let closed: Promise<void> | undefined;
  return {
    url,
    backend,
    close(drainMs = o.drainMs) {
      closed ??= (async () => {
        draining = true;
        await app.close();
        await backend.close(drainMs);
        await chain?.chain.close();
      })();
      return closed;
    },
  };
}

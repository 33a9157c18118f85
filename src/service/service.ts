import { join } from 'node:path';
import { rpcChain } from '../chain/network.js';
import { InvalidInputError } from '../errors.js';
import { packageVersion as version } from '../paths.js';
import { isLoopback, KeyRing, openAccess, type Authenticator } from './auth.js';
import { ChainSubmitter } from './chain_submit.js';
import { createApp } from './http.js';
import type { JobBackend } from './jobs.js';
import { LocalBackend } from './local_backend.js';
import { serviceMetrics } from './metrics.js';
import { loadModels, refuseInsecureModels } from './models.js';
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
  /** The API keys file (`zkml api-key create`); required unless `insecureNoAuth`. */
  apiKeys?: string;
  /** Let every request in, with every scope (CLI --insecure-no-auth). Refused unless `host` is a loopback address. */
  insecureNoAuth?: boolean;
  /** Finished jobs (inputs, salts, results, idempotency records) are deleted this long after they finish; 0 keeps them. */
  retentionMs?: number;
  /**
   * Serve (and accept proofs in POST /v1/verify for) builds whose keys anyone can forge proofs
   * for, such as dev keys (CLI --insecure-dev-keys). Without it they are skipped, and the service
   * refuses to start if nothing is left.
   */
  insecureDevKeys?: boolean;
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
  retentionMs: 7 * 24 * 3600 * 1000,
};

/** "7d", "12h", "30m", "45s", "500ms" in milliseconds; "0" and "forever" are 0 (keep). Throws InvalidInputError otherwise. */
export function parseDuration(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === '0' || t === 'forever') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(t);
  if (!m) throw new InvalidInputError(`"${text}" is not a duration: write a number with a unit (500ms, 45s, 30m, 12h, 7d), or 0 / forever`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd']);
}

/** How often the retention sweep runs: a quarter of the retention, from 250 ms to 10 minutes. */
export const sweepIntervalMs = (retentionMs: number) => Math.min(600_000, Math.max(250, Math.floor(retentionMs / 4)));

/**
 * The service's access control: a keys file, or open access on a loopback address only. Without
 * either it does not start: a proving service that relays proofs with its own key and returns
 * inputs and salts must not be open by accident.
 */
export function authenticator(o: { host: string; apiKeys?: string; insecureNoAuth?: boolean; log?: (line: string) => void }): Authenticator {
  if (o.apiKeys && o.insecureNoAuth) throw new InvalidInputError('give either --api-keys <file> or --insecure-no-auth, not both');
  if (o.apiKeys) return KeyRing.open(o.apiKeys, o.log);
  if (!o.insecureNoAuth) {
    throw new InvalidInputError('the service needs API keys: create a key with `zkml api-key create --file keys.json --name <who> --scopes prove,read` and pass --api-keys keys.json (or, for local development on 127.0.0.1 only, --insecure-no-auth)');
  }
  if (!isLoopback(o.host)) throw new InvalidInputError(`--insecure-no-auth is only allowed on a loopback address (127.0.0.1, ::1, localhost), not ${o.host}; use --api-keys`);
  o.log?.('WARNING: --insecure-no-auth: every client may prove, read every job\'s inputs, salts and results, and submit on-chain with this service\'s key');
  return openAccess;
}


/** `zkml serve`: the HTTP API over a job backend (embedded store + pool, or BullMQ on Redis). */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const o = { ...SERVICE_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof SERVICE_DEFAULTS & ServiceOptions;
  const log = o.log ?? (() => {});
  const auth = authenticator({ host: o.host, apiKeys: o.apiKeys, insecureNoAuth: o.insecureNoAuth, log });
  const skip = (dir: string, reason: string) => log(`skipping ${dir}: ${reason}`);
  const models = loadModels(o.builds, skip);
  await refuseInsecureModels(models, { insecureDevKeys: o.insecureDevKeys, skip, warn: log });
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
  const app = createApp({ models, backend, auth, metrics, chain, insecureDevKeys: o.insecureDevKeys, proofTimeoutMs: o.proofTimeoutMs, bodyLimitBytes: o.bodyLimitBytes, version, draining: () => draining });
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
  // Retention: finished jobs older than retentionMs are deleted, by a sweep that reads only them.
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = o.retentionMs > 0
    ? setInterval(() => {
        sweeping = backend.sweep(Date.now() - o.retentionMs).then(
          (n) => n && log(`retention: deleted ${n} jobs finished more than ${o.retentionMs / 1000} s ago`),
          (err) => log(`retention sweep: ${(err as Error).message}`),
        );
      }, sweepIntervalMs(o.retentionMs))
    : undefined;
  sweep?.unref();
  log(`zkml service at ${url} (${backend.kind === 'redis' ? `BullMQ on ${o.redis}` : `store ${o.store}, ${o.workers} workers`}): ${[...models.keys()].join(', ') || 'no models'}`);
  let closed: Promise<void> | undefined;
  return {
    url,
    backend,
    close(drainMs = o.drainMs) {
      closed ??= (async () => {
        draining = true;
        clearInterval(sweep);
        await sweeping;
        // The port stays open while running proofs drain, so clients get 503, not connection refused.
        await backend.close(drainMs);
        await app.close();
        await chain?.chain.close();
      })();
      return closed;
    },
  };
}

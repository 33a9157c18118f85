import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { createApiKey, SCOPES, type Scope } from '../../src/service/auth.js';
import { scratchDir } from './fixtures.js';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** An API keys file in a scratch folder with one key per name (all scopes unless given); returns the file and each key's token. */
export function apiKeys(keys: Record<string, readonly Scope[]> = { test: SCOPES }): { file: string; tokens: Record<string, string> } {
  const file = join(scratchDir('keys'), 'keys.json');
  const tokens = Object.fromEntries(Object.entries(keys).map(([name, scopes]) => [name, createApiKey(file, { name, scopes }).token]));
  return { file, tokens };
}

export interface CallInit {
  /** A body sent as given (for malformed requests). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A JSON client for the service, authenticated with `token` when given. */
export function client(base: string, token?: string) {
  const call = async <T = any>(method: string, path: string, body?: unknown, init: CallInit = {}): Promise<Reply<T>> => {
    const payload = init.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(payload === undefined ? {} : { 'content-type': init.contentType ?? 'application/json' }),
        ...init.headers,
      },
      body: payload,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* text (metrics) */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
  return {
    call,
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body?: unknown, init?: CallInit) => call<T>('POST', path, body, init),
    delete: <T = any>(path: string) => call<T>('DELETE', path),
    /** Polls a job until it is finished (completed, failed or cancelled). */
    async finished(id: string, timeoutMs = 120_000): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await call('GET', `/v1/jobs/${id}`);
        if (r.status !== 200) throw new Error(`GET /v1/jobs/${id}: ${r.status} ${JSON.stringify(r.body)}`);
        if (r.body.state === 'completed' || r.body.state === 'failed' || r.body.state === 'cancelled') return r.body;
        if (Date.now() > deadline) throw new Error(`job ${id} not finished after ${timeoutMs} ms: ${JSON.stringify(r.body)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    /** Every item of a job, with results, across pages. */
    async allItems(id: string): Promise<any[]> {
      const items: any[] = [];
      let offset: number | undefined = 0;
      while (offset !== undefined) {
        const r: Reply = await call('GET', `/v1/jobs/${id}/results?offset=${offset}&limit=100`);
        items.push(...r.body.items);
        offset = r.body.next;
      }
      return items;
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

/** A long-running CLI command (serve, worker) in a child process; its stdout JSON lines are collected. */
export class CliProcess {
  readonly events: any[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [join(packageRoot, 'dist', 'src', 'cli', 'main.js'), ...args], {
      cwd: packageRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ZKML_RPC: '', ZKML_PRIVATE_KEY: '', ...env },
    });
    let buffer = '';
    this.child.stdout!.on('data', (d) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          this.events.push(JSON.parse(line));
        } catch {
          /* not an event */
        }
      }
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  async event(name: string, timeoutMs = 60_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.event === name);
      if (e) return e;
      if (this.child.exitCode !== null) throw new Error(`process exited (${this.child.exitCode}) before "${name}": ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no "${name}" event after ${timeoutMs} ms: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** A real Redis server (Debian's redis-server) on a free loopback port, with no persistence files outside a scratch folder. */
export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = scratchDir('redis');
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const failed = new Promise<never>((_, reject) => {
    child.on('error', (err) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${err.message}`)));
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  failed.catch(() => {}); // after start, an exit is the stop below
  const ready = (async () => {
    while (!out.includes('Ready to accept connections')) await new Promise((r) => setTimeout(r, 50));
  })();
  await Promise.race([ready, failed]);
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit').catch(() => {});
    },
  };
}

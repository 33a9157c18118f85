import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isLoopbackHost } from '../chain/network.js';
import { InvalidInputError } from '../errors.js';
import { UnauthorizedError } from './errors.js';

/**
 * API keys: bearer tokens with scopes, kept in a file the operator manages (`zkml api-key`).
 * The file holds the SHA-256 of each token, never the token; a request's token is hashed and
 * compared with every key's hash in constant time.
 *
 *   prove    create jobs; see, cancel and delete one's own jobs
 *   read     fetch one's own jobs' results (proofs, public signals, inputs, salts)
 *   submit   POST /v1/submit: a transaction paid and signed by the service's key
 *   metrics  GET /metrics
 *
 * Any valid key may list models and verify proofs; /health and /openapi.json are open.
 */
export const SCOPES = ['prove', 'read', 'submit', 'metrics'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who made a request: a key, or everyone when the service runs with --insecure-no-auth. */
export interface Principal {
  /** Owner of the jobs it creates: the key's id ("anonymous" without auth). */
  id: string;
  name: string;
  scopes: ReadonlySet<Scope>;
}

/** One entry of the keys file. */
export interface StoredKey {
  id: string;
  name: string;
  scopes: Scope[];
  /** Hex SHA-256 of the token. */
  sha256: string;
  createdAt: string;
  revokedAt?: string;
}

export interface KeyFile {
  format: typeof KEY_FILE_FORMAT;
  keys: StoredKey[];
}

const KEY_FILE_FORMAT = 'zkml-api-keys/1';
const TOKEN_PREFIX = 'zkml_';

export const ANONYMOUS: Principal = { id: 'anonymous', name: 'anonymous', scopes: new Set(SCOPES) };

export interface Authenticator {
  /** True when every request is let in (--insecure-no-auth). */
  readonly open: boolean;
  /** The principal of an `Authorization` header; throws UnauthorizedError for a missing, malformed, unknown or revoked token. */
  authenticate(authorization: string | undefined): Principal;
}

/** --insecure-no-auth: every request acts as one anonymous principal with every scope. */
export const openAccess: Authenticator = { open: true, authenticate: () => ANONYMOUS };

const sha256 = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * The keys of a keys file. The file is read again when it changes (a key created or revoked takes
 * effect on the next request); a file that cannot be read or parsed is reported and the keys read
 * last stay in force.
 */
export class KeyRing implements Authenticator {
  readonly open = false;
  private keys: { key: StoredKey; hash: Buffer }[] = [];
  private stamp = '';

  private constructor(readonly file: string, private readonly log: (line: string) => void) {}

  static open(file: string, log: (line: string) => void = () => {}): KeyRing {
    const ring = new KeyRing(file, log);
    ring.stamp = fileStamp(file);
    ring.keys = load(file);
    const active = ring.keys.filter((k) => !k.key.revokedAt).length;
    if (active === 0) log(`api keys: ${file} has no active key; every request but /health and /openapi.json will get 401 (create one with \`zkml api-key create\`)`);
    return ring;
  }

  get size(): number {
    return this.keys.filter((k) => !k.key.revokedAt).length;
  }

  authenticate(authorization: string | undefined): Principal {
    if (!authorization) throw new UnauthorizedError('this route needs an API key: send "Authorization: Bearer <token>"', false);
    const m = /^Bearer +([\x21-\x7e]{1,200})\s*$/i.exec(authorization);
    if (!m) throw new UnauthorizedError('the Authorization header must be "Bearer <token>"', true);
    this.reloadIfChanged();
    const digest = sha256(m[1]);
    // Every key is compared, each in constant time: the time taken does not depend on which key (if any) matched.
    let found: StoredKey | undefined;
    for (const { key, hash } of this.keys) if (timingSafeEqual(hash, digest) && !found) found = key;
    if (!found) throw new UnauthorizedError('unknown API key', true);
    if (found.revokedAt) throw new UnauthorizedError(`API key ${found.id} was revoked at ${found.revokedAt}`, true);
    return { id: found.id, name: found.name, scopes: new Set(found.scopes) };
  }

  private reloadIfChanged(): void {
    let stamp: string;
    try {
      stamp = fileStamp(this.file);
      if (stamp === this.stamp) return;
      this.keys = load(this.file);
      this.log(`api keys: reloaded ${this.file} (${this.size} active)`);
    } catch (err) {
      // Fail closed: a keys file that cannot be read (deleted, half-edited) must not keep a revoked key alive.
      if (this.stamp !== 'failed') this.log(`api keys: cannot read ${this.file}, so every request gets 401 until it can: ${(err as Error).message}`);
      this.keys = [];
      this.stamp = 'failed';
      return;
    }
    this.stamp = stamp;
  }
}

function fileStamp(file: string): string {
  const s = statSync(file);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

function load(file: string): { key: StoredKey; hash: Buffer }[] {
  return readKeyFile(file).keys.map((key) => ({ key, hash: Buffer.from(key.sha256, 'hex') }));
}

/** Reads and checks a keys file; throws InvalidInputError naming the file and the problem. */
export function readKeyFile(file: string): KeyFile {
  if (!existsSync(file)) throw new InvalidInputError(`API keys file ${file} does not exist; create it with \`zkml api-key create --file ${file} --name <who> --scopes prove,read\``);
  let doc: KeyFile;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
  } catch (err) {
    throw new InvalidInputError(`API keys file ${file}: not JSON: ${(err as Error).message}`);
  }
  const bad = (why: string) => new InvalidInputError(`API keys file ${file}: ${why}`);
  if (doc?.format !== KEY_FILE_FORMAT || !Array.isArray(doc.keys)) throw bad(`expected {"format": "${KEY_FILE_FORMAT}", "keys": [...]}`);
  const ids = new Set<string>();
  doc.keys.forEach((k, i) => {
    if (typeof k?.id !== 'string' || !k.id || ids.has(k.id)) throw bad(`keys[${i}]: missing or duplicate "id"`);
    ids.add(k.id);
    if (typeof k.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(k.sha256)) throw bad(`keys[${i}] (${k.id}): "sha256" must be 64 lowercase hex digits (the SHA-256 of the token)`);
    if (!Array.isArray(k.scopes) || k.scopes.some((s) => !SCOPES.includes(s))) throw bad(`keys[${i}] (${k.id}): "scopes" must be a list of ${SCOPES.join(', ')}`);
  });
  return doc;
}

function writeKeyFile(file: string, doc: KeyFile): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/** Parses "prove,read" into scopes; throws InvalidInputError naming an unknown one. */
export function parseScopes(list: string): Scope[] {
  const scopes = list.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => !SCOPES.includes(s as Scope));
  if (unknown.length || scopes.length === 0) throw new InvalidInputError(`scopes: ${unknown.length ? `unknown scope "${unknown[0]}"` : 'none given'}; choose from ${SCOPES.join(', ')}`);
  return [...new Set(scopes as Scope[])];
}

/**
 * Adds a key to `file` (created if missing) and returns its token, which is not stored anywhere:
 * the caller shows it once.
 */
export function createApiKey(file: string, options: { name: string; scopes: readonly Scope[] }): { token: string; key: StoredKey } {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(options.name)) throw new InvalidInputError(`key name "${options.name}": use 1 to 64 letters, digits and . _ @ -`);
  const doc: KeyFile = existsSync(file) ? readKeyFile(file) : { format: KEY_FILE_FORMAT, keys: [] };
  if (doc.keys.some((k) => k.name === options.name && !k.revokedAt)) throw new InvalidInputError(`${file} already has an active key named ${options.name}; revoke it first or pick another name`);
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const key: StoredKey = {
    id: `key_${randomBytes(8).toString('hex')}`,
    name: options.name,
    scopes: [...options.scopes],
    sha256: sha256(token).toString('hex'),
    createdAt: new Date().toISOString(),
  };
  doc.keys.push(key);
  writeKeyFile(file, doc);
  return { token, key };
}

/** Marks a key (by id, or by the name of an active key) revoked; its token is refused from the next request on. */
export function revokeApiKey(file: string, idOrName: string): StoredKey {
  const doc = readKeyFile(file);
  const key = doc.keys.find((k) => k.id === idOrName) ?? doc.keys.find((k) => k.name === idOrName && !k.revokedAt);
  if (!key) throw new InvalidInputError(`${file} has no key with id ${idOrName} and no active key named ${idOrName}`);
  key.revokedAt ??= new Date().toISOString();
  writeKeyFile(file, doc);
  return key;
}

/** Whether `host` is a loopback address, where --insecure-no-auth is allowed (src/chain/network.ts's test, and IPv4-mapped ::ffff:127.x). */
export function isLoopback(host: string): boolean {
  return isLoopbackHost(host) || /^::ffff:127(\.\d{1,3}){3}$/.test(host.replace(/^\[|\]$/g, '').toLowerCase());
}

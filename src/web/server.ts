/**
 * `zkml web`: a small HTTP server on 127.0.0.1 for the browser prover. It serves the web app
 * (dist/browser), each build's public artifacts, and a JSON description of the served models; it
 * never receives an input: the page proves on the user's device. Every response carries the
 * headers that make the page cross-origin isolated (COOP same-origin, COEP require-corp), which
 * multi-threaded proving in the page relies on.
 */
import { existsSync, readFileSync, statSync, createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { chainKey, ensureDeployed, readDeployment, recordOf, writeDeployment, type DeploymentRecord } from '../chain/deployment.js';
import { rpcChain } from '../chain/network.js';
import { projectContract } from '../chain/solidity.js';
import { loadBuild, type Manifest } from '../compile/manifest.js';
import { size } from '../ir/graph.js';
import { InvalidInputError, MissingArtifactError } from '../errors.js';
import { browserDist, modelsDir, requireFile } from '../paths.js';
import { describeProvenance, keyProvenance } from '../setup/provenance.js';

/** The files of a build the page may fetch: what proving and verifying read, nothing else (no proofs, no deployments). */
const BUILD_FILES = new Map<string, (m: Manifest) => boolean>([
  ['manifest.json', () => true],
  ['program.json', () => true],
  ['verification_key.json', () => true],
  ['model.zkey', () => true],
  ['model.onnx', () => true],
  ['model_js/model.wasm', (m) => m.circuit.backend !== 'r1cs'],
]);

/** One served build, as /api/config describes it to the page. */
export interface ServedModel {
  id: string;
  /** The build's folder URL, relative to the page. */
  url: string;
  name: string;
  visibility: Manifest['visibility'];
  inputSize: number;
  inputShape: number[];
  inputRange: { min: number; max: number };
  featureMin?: number[];
  featureMax?: number[];
  outputSize: number;
  constraints: number;
  zkeyBytes: number;
  /** The model's sample input (input.json beside its ONNX file), when there is one. */
  sample?: number[];
  /** The keys' provenance: whether anyone could forge proofs for them. */
  keys: { secure: boolean; summary: string };
  /** Where the build is registered (`zkml register` records, and the --rpc chain's), by chain: never the URLs, which may hold API keys. */
  deployments: Pick<DeploymentRecord, 'chainId' | 'genesis' | 'registry' | 'modelId'>[];
}

export interface WebConfig {
  models: ServedModel[];
  /** The JSON-RPC URL the page offers by default (--rpc). */
  rpc?: string;
  registryAbi: unknown[];
}

export interface WebOptions {
  builds: string[];
  /** 0 (default): any free port. */
  port?: number;
  /** Deploy and register every build on this JSON-RPC node at start, and offer it to the page. */
  rpc?: string;
  privateKey?: string;
  insecureDevKeys?: boolean;
  /** Serve weights=hashed builds, whose weights every visitor then downloads (the prover needs them). */
  exposeHiddenWeights?: boolean;
  log?: (line: string) => void;
}

export interface WebServer {
  url: string;
  config: WebConfig;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.map', '.wasm']);

/** Headers every response carries: cross-origin isolation, and no sniffing or framing by other sites. */
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

function uniqueIds(dirs: string[]): string[] {
  const used = new Set<string>();
  return dirs.map((d) => {
    const base = basename(resolve(d)).replace(/[^A-Za-z0-9_.-]/g, '_') || 'build';
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    return id;
  });
}

/** A bundled model's sample input (artifacts/models/<name>/input.json), never a file of the user's: an input.json beside their model may be private. */
function sampleOf(manifest: Manifest, size: number): number[] | undefined {
  try {
    const folder = dirname(resolve(manifest.model.source));
    const file = join(modelsDir, basename(folder), 'input.json');
    if (dirname(folder) !== modelsDir || !existsSync(file)) return undefined;
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { input?: unknown };
    const xs = Array.isArray(doc.input) ? doc.input.flat(Infinity) : undefined;
    return xs && xs.length === size && xs.every((v) => typeof v === 'number') ? (xs as number[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Describes the builds, checking each has its keys and proves one input per proof. */
async function describe(builds: string[], exposeHiddenWeights = false): Promise<{ id: string; dir: string; manifest: Manifest; model: ServedModel }[]> {
  if (builds.length === 0) throw new InvalidInputError('zkml web needs at least one build folder');
  const ids = uniqueIds(builds);
  return Promise.all(
    builds.map(async (dir, i) => {
      const { manifest, paths } = loadBuild(dir);
      if (manifest.visibility.weights === 'hashed' && !exposeHiddenWeights) {
        throw new InvalidInputError(`${paths.root} keeps its weights private (weights=hashed), but a browser proves with the weights: every visitor would download them (program.json, model.onnx). Serve it with --expose-hidden-weights if its visitors may have them`);
      }
      if (manifest.batch) throw new InvalidInputError(`${paths.root} is a batched build (${manifest.batch.size} inputs per proof); the page proves one input: serve a build compiled without --batch-size`);
      requireFile(paths.zkey, 'no proving key; run `zkml setup <build>` first');
      requireFile(paths.vkey, 'no verification key; run `zkml setup <build>` first');
      const provenance = await keyProvenance(dir);
      const inputs = manifest.inputs.reduce((a, t) => a + size(t.shape), 0);
      const deployments = existsSync(paths.deployments) ? Object.values(JSON.parse(readFileSync(paths.deployments, 'utf8')) as Record<string, DeploymentRecord>) : [];
      const model: ServedModel = {
        id: ids[i],
        url: `builds/${ids[i]}/`,
        name: basename(paths.root),
        visibility: manifest.visibility,
        inputSize: inputs,
        inputShape: manifest.inputs.length === 1 ? [...manifest.inputs[0].shape] : [inputs],
        inputRange: { min: Math.min(...manifest.inputs.map((t) => t.floatMin)), max: Math.max(...manifest.inputs.map((t) => t.floatMax)) },
        ...(manifest.inputs.length === 1 && manifest.inputs[0].featureMin ? { featureMin: manifest.inputs[0].featureMin, featureMax: manifest.inputs[0].featureMax } : {}),
        outputSize: manifest.output.size,
        constraints: manifest.circuit.constraints,
        zkeyBytes: statSync(paths.zkey).size,
        sample: sampleOf(manifest, inputs),
        keys: { secure: provenance.secure, summary: describeProvenance(provenance) },
        deployments: deployments.filter((d) => d.registry && d.modelId).map(({ chainId, genesis, registry, modelId }) => ({ chainId, genesis, registry, modelId })),
      };
      return { id: ids[i], dir: paths.root, manifest, model };
    }),
  );
}

/** Deploys and registers every build on `rpc` (what `zkml register --rpc` does), recording it for the page. */
async function registerAll(served: { dir: string; model: ServedModel }[], options: WebOptions): Promise<void> {
  const chain = await rpcChain(options.rpc!, options.privateKey);
  try {
    const { key } = await chainKey(chain);
    for (const s of served) {
      const known = await readDeployment(s.dir, chain);
      const d = await ensureDeployed(chain, { build: s.dir, register: true, known, onStale: 'redeploy', insecureDevKeys: options.insecureDevKeys, log: options.log });
      const record = await recordOf(chain, s.dir, d);
      await writeDeployment(s.dir, chain, record);
      s.model.deployments = [...s.model.deployments.filter((r) => `${r.chainId}:${r.genesis}` !== key), { chainId: record.chainId, genesis: record.genesis, registry: record.registry, modelId: record.modelId }];
      options.log?.(`${s.model.name}: model ${record.modelId} of the registry at ${record.registry} on ${options.rpc}`);
    }
  } finally {
    await chain.close();
  }
}

export async function startWebServer(options: WebOptions): Promise<WebServer> {
  if (!existsSync(join(browserDist, 'app.js'))) throw new MissingArtifactError(browserDist, 'the browser bundle is not built; run `npm run build`');
  const served = await describe(options.builds, options.exposeHiddenWeights);
  if (options.rpc) await registerAll(served, options);
  const config: WebConfig = { models: served.map((s) => s.model), rpc: options.rpc, registryAbi: projectContract('InferenceRegistry').abi as unknown[] };
  const configJson = JSON.stringify(config);
  const byId = new Map(served.map((s) => [s.id, s]));
  const gzipped = new Map<string, { mtimeMs: number; body: Buffer }>();

  /** The file a GET path names, or undefined (404). Only the bundle (dist/browser) and the whitelisted build files are reachable. */
  const fileFor = (path: string): string | undefined => {
    if (path === '/') return join(browserDist, 'index.html');
    const build = /^\/builds\/([^/]+)\/(.+)$/.exec(path);
    if (build) {
      const s = byId.get(build[1]);
      return s && BUILD_FILES.get(build[2])?.(s.manifest) ? join(s.dir, ...build[2].split('/')) : undefined;
    }
    const file = resolve(browserDist, `.${path}`);
    return file.startsWith(browserDist + sep) ? file : undefined;
  };

  const send = (req: IncomingMessage, res: ServerResponse, status: number, type: string, body: Buffer | string) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...ISOLATION, 'Content-Type': type, 'Content-Length': bytes.length });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  };

  let allowedHosts = new Set<string>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // DNS rebinding: a page of another site whose name resolves to 127.0.0.1 names that site in Host.
    if (!allowedHosts.has(String(req.headers.host ?? '').toLowerCase())) return send(req, res, 421, 'text/plain', 'this server answers only to 127.0.0.1 and localhost\n');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(req, res, 400, 'text/plain', 'malformed URL\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(req, res, 405, 'text/plain', `${req.method} is not served: this server only serves files; the page proves on your device\n`);
    }
    if (path === '/api/config') return send(req, res, 200, TYPES['.json'], configJson);
    const file = fileFor(path);
    const stat = file && existsSync(file) ? statSync(file) : undefined;
    if (!file || !stat?.isFile()) return send(req, res, 404, 'text/plain', `not found: ${path}\n`);
    const ext = extname(file);
    const type = TYPES[ext] ?? 'application/octet-stream';
    if (COMPRESSIBLE.has(ext) && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      let hit = gzipped.get(file);
      if (hit?.mtimeMs !== stat.mtimeMs) gzipped.set(file, (hit = { mtimeMs: stat.mtimeMs, body: gzipSync(readFileSync(file)) }));
      res.writeHead(200, { ...ISOLATION, 'Content-Type': type, 'Content-Encoding': 'gzip', 'Content-Length': hit.body.length, Vary: 'Accept-Encoding' });
      return void res.end(req.method === 'HEAD' ? undefined : hit.body);
    }
    res.writeHead(200, { ...ISOLATION, 'Content-Type': type, 'Content-Length': stat.size });
    if (req.method === 'HEAD') return void res.end();
    // pipeline closes the file when the client goes away (a page switching model mid-download) and ends the response on a read error.
    pipeline(createReadStream(file), res, () => {});
  };

  // A file that vanishes or cannot be read mid-request (a rebuild, a new key) fails that request, not the server.
  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      if (!res.headersSent) send(req, res, 500, 'text/plain', `${(err as Error).message}\n`);
      else res.destroy();
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => ok());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  server.on('error', (err) => options.log?.(`zkml web: ${err.message}`));
  return {
    url: `http://127.0.0.1:${port}/`,
    config,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

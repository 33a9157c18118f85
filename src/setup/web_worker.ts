/**
 * Side effect only: import it first in every worker-thread entry that loads ffjavascript or
 * snarkjs (src/prove/worker.ts, src/setup/fixed_base_worker.ts), and in src/index.ts for
 * applications that run zkml in a worker thread of their own.
 *
 * ffjavascript imports web-worker@1.2.0, which decides what it is from `isMainThread` alone: in
 * the main thread it exports a Worker class; in any other thread it takes itself for one of its
 * own children, turns the global scope into a WorkerGlobalScope, hooks `parentPort`, loads
 * `workerData.mod` (ERR_INVALID_ARG_TYPE in our threads, a TypeError without workerData) and
 * exports nothing. So in our worker threads each copy of web-worker that our dependencies resolve
 * is loaded first, with `isMainThread` set for the moment, and takes its main-thread branch. The
 * threads web-worker starts itself (snarkjs' thread manager, `workerData.mod` set) never load
 * this module. This holds wherever zkml is installed: no patch of node_modules is needed.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packageRoot } from '../paths.js';

const require = createRequire(import.meta.url);

/** The packages through which our code reaches web-worker; the walk follows only these. */
const VIA = new Set(['snarkjs', 'ffjavascript', 'circom_runtime', 'circomlibjs', 'r1csfile', '@iden3/binfileutils']);

/** The folder of package `name` as `from` resolves it (its package.json need not be exported). */
function packageDir(from: NodeJS.Require, name: string): string | undefined {
  let entry: string;
  try {
    entry = from.resolve(name);
  } catch {
    return undefined;
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if ((from(join(dir, 'package.json')) as { name?: string }).name === name) return dir;
    } catch {
      // no package.json here: go up
    }
  }
  return undefined;
}

/** Every web-worker entry file that a package reachable from zkml through VIA imports, each copy once. */
function webWorkerEntries(): string[] {
  const entries = new Set<string>();
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const local = createRequire(join(dir, 'package.json'));
    const pkg = local('./package.json') as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (dep === 'web-worker') {
        try {
          entries.add(local.resolve(dep));
        } catch {
          // not installed: whatever imports it fails on its own
        }
      } else if (VIA.has(dep)) {
        const child = packageDir(local, dep);
        if (child) visit(child);
      }
    }
  };
  visit(packageRoot);
  return [...entries];
}

function loadWebWorkerAsMainThread(): void {
  const threads = require('node:worker_threads') as { isMainThread: boolean };
  if (threads.isMainThread) return;
  // Not `loaded` yet, not only absent: the ESM loader enters a CommonJS module it is about to
  // import in the cache (unevaluated) while it links the importing graph, before this runs.
  const entries = webWorkerEntries().filter((file) => !require.cache[file]?.loaded);
  if (!entries.length) return;
  threads.isMainThread = true;
  try {
    for (const file of entries) {
      if (typeof require(file) !== 'function') throw new Error(`web-worker at ${file} did not load as in the main thread; its worker threads would hang`);
    }
  } finally {
    threads.isMainThread = false;
  }
}

loadWebWorkerAsMainThread();

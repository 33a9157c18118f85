/**
 * Builds the browser bundles with esbuild (`npm run build` runs this after tsc):
 *   dist/browser/zkml.js         the `zkml/browser` library (src/browser/index.ts)
 *   dist/browser/zkml-worker.js  its proving worker (src/browser/worker.ts)
 *   dist/browser/app.js          the page `zkml web` serves (src/web/app/app.ts), with its HTML and CSS
 * plus onnxruntime-web's wasm (the float reference, fetched on first use).
 *
 * Node-only modules on the proving path are swapped for browser ones here, in one plugin, so
 * that the sources stay one code base: circomlibjs' Poseidon is imported from its own module
 * (its package entry also pulls in EdDSA, blake-hash and ethers v5), its round constants are
 * bundled instead of read from disk, and ffjavascript is one copy. Any other Node import fails
 * the build, naming the module.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { listFiles } from '../files.js';
import { browserDist, packageRoot } from '../paths.js';

const require = createRequire(import.meta.url);
const circomlibjsSrc = join(dirname(require.resolve('circomlibjs')), '..', 'src');
const ffjavascript = join(dirname(require.resolve('ffjavascript')), '..', 'build', 'browser.esm.js');

const browserShims: Plugin = {
  name: 'zkml-browser-shims',
  setup(b) {
    const virtual = (contents: string) => ({ path: contents, namespace: 'zkml-virtual' });
    b.onResolve({ filter: /\/circomlib\.js$/ }, (a) =>
      a.importer.includes(join('src', 'commit'))
        ? virtual(`export { buildPoseidon } from ${JSON.stringify(join(circomlibjsSrc, 'poseidon_wasm.js'))};
export const poseidonContract = { createCode() { throw new Error('circomlibjs poseidonContract is not in the browser bundle'); } };`)
        : undefined,
    );
    b.onResolve({ filter: /\/blake_hash_js\.js$/ }, () => virtual('export {};'));
    b.onResolve({ filter: /\/poseidon_constants\.js$/ }, (a) =>
      a.importer.includes(join('src', 'r1cs'))
        ? virtual(`import constants from ${JSON.stringify(join(circomlibjsSrc, 'poseidon_constants.js'))};
export function readPoseidonConstants() { return constants; }`)
        : undefined,
    );
    b.onResolve({ filter: /^ffjavascript$/ }, () => ({ path: ffjavascript }));
    b.onResolve({ filter: /.*/, namespace: 'zkml-virtual' }, (a) => ({ path: a.path }));
    b.onLoad({ filter: /.*/, namespace: 'zkml-virtual' }, (a) => ({ contents: a.path, loader: 'js', resolveDir: packageRoot }));
  },
};

export interface BundleReport {
  files: { file: string; bytes: number }[];
  totalBytes: number;
}

/** Bundles the library, its worker and the web app into `outDir`; returns the files and their sizes. */
export async function bundleBrowser(outDir = browserDist): Promise<BundleReport> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const src = (f: string) => join(packageRoot, 'src', f);
  const common: BuildOptions = {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    // Error classes keep their names: the page reports InvalidInputError, not a mangled one.
    keepNames: true,
    outdir: outDir,
    logLevel: 'warning',
    plugins: [browserShims],
  };
  // The library and the app are one file each: the library finds its worker beside itself (import.meta.url).
  await build({ ...common, entryPoints: { zkml: src('browser/index.ts'), app: src('web/app/app.ts') } });
  // The worker too (onnxruntime-web's JS, imported on first use, is inlined: no chunk files to ship beside it).
  await build({ ...common, entryPoints: { 'zkml-worker': src('browser/worker.ts') } });
  for (const f of ['index.html', 'style.css']) copyFileSync(src(`web/app/${f}`), join(outDir, f));
  // onnxruntime-web's JS is in the worker's chunk; its wasm is fetched beside the bundle.
  copyFileSync(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'), join(outDir, 'ort-wasm-simd-threaded.wasm'));
  const files = listFiles(outDir);
  const sized = files.map((f) => ({ file: f.slice(outDir.length + 1), bytes: statSync(f).size }));
  return { files: sized, totalBytes: sized.reduce((a, f) => a + f.bytes, 0) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await bundleBrowser();
  if (!report.files.some((f) => f.file === 'app.js')) throw new Error('esbuild wrote no app.js');
  for (const f of report.files) console.log(`${(f.bytes / 1024).toFixed(0).padStart(7)} kB  ${f.file}`);
  console.log(`${(report.totalBytes / 1024).toFixed(0).padStart(7)} kB  dist/browser`);
}

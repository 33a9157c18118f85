import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingArtifactError } from './errors.js';

/** The package root: this file compiles to dist/src/paths.js. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const circuitsDir = join(packageRoot, 'circuits');
export const packageVersion = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
export const modelsDir = join(packageRoot, 'artifacts', 'models');
/**
 * zkml's cache (dev powers of tau, shared by every build): ZKML_CACHE, else the user's cache
 * directory (XDG_CACHE_HOME, else ~/.cache), never the package folder, which is read-only or
 * replaced on reinstall when zkml is a dependency.
 */
export const cacheDir = process.env.ZKML_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'zkml');
/** Where zkml keeps state that outlives a command but is no cache: the registry deployed on each chain. */
export const stateDir = () => process.env.ZKML_STATE || join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'zkml');
export const defaultPtauCache = process.env.ZKML_PTAU_CACHE || join(cacheDir, 'ptau');
export const hardhatConfig = join(packageRoot, 'src', 'chain', 'hardhat.config.cjs');
/** The browser bundles (`npm run build`, src/web/bundle.ts) that `zkml web` serves and `zkml/browser` exports. */
export const browserDist = join(packageRoot, 'dist', 'browser');

/** Every file of a build folder, named in one place. */
export function buildPaths(dir: string) {
  const root = resolve(dir);
  return {
    root,
    manifest: join(root, 'manifest.json'),
    program: join(root, 'program.json'),
    onnx: join(root, 'model.onnx'),
    circom: join(root, 'model.circom'),
    r1cs: join(root, 'model.r1cs'),
    sym: join(root, 'model.sym'),
    wasm: join(root, 'model_js', 'model.wasm'),
    /** circom's C++ witness generator (optional, `compile --native-witness`) and the measured choice. */
    nativeWitness: join(root, 'model_cpp'),
    witnessChoice: join(root, 'witness.json'),
    zkey: join(root, 'model.zkey'),
    vkey: join(root, 'verification_key.json'),
    setup: join(root, 'setup.json'),
    verifierSol: join(root, 'Verifier.sol'),
    verifierArtifact: join(root, 'verifier.json'),
    proofs: join(root, 'proofs'),
    /** Where `zkml deploy` / `register` record addresses and model ids, per RPC URL. */
    deployments: join(root, 'deployments.json'),
  };
}

export type BuildPaths = ReturnType<typeof buildPaths>;

/** Throws a MissingArtifactError that says which command produces the file. */
export function requireFile(path: string, hint: string): string {
  if (!existsSync(path)) throw new MissingArtifactError(path, hint);
  return path;
}

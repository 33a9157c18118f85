import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingArtifactError } from './errors.js';

/** The package root: this file compiles to dist/src/paths.js. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const circuitsDir = join(packageRoot, 'circuits');
export const modelsDir = join(packageRoot, 'artifacts', 'models');
/** Dev powers of tau are cached here, shared by every build. */
export const defaultPtauCache = process.env.ZKML_PTAU_CACHE ?? join(packageRoot, 'artifacts', 'ptau');
export const hardhatConfig = join(packageRoot, 'src', 'chain', 'hardhat.config.cjs');

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

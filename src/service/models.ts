import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { modeName, usesSalt } from '../commit/visibility.js';
import { loadBuild, type Build } from '../compile/manifest.js';
import { InsecureKeysError, InvalidInputError, ZkmlError } from '../errors.js';
import { buildPaths } from '../paths.js';
import { inputSize, quantizeInput } from '../quant/io.js';
import { enforceKeyPolicy } from '../setup/provenance.js';
import { InvalidRequestError, NotFoundError } from './errors.js';

/** A build the service proves with: named after its folder, keys present. */
export interface ServedModel {
  name: string;
  dir: string;
  build: Build;
  inputSize: number;
}

/** What `GET /v1/models` says about a model: enough to call it and to check what it proves. */
export function describeModel(m: ServedModel) {
  const { manifest } = m.build;
  return {
    name: m.name,
    circuitSha256: manifest.circuit.sha256,
    constraints: manifest.circuit.constraints,
    publicSignals: manifest.circuit.publicSignals,
    visibility: modeName(manifest.visibility),
    usesSalt: usesSalt(manifest.visibility),
    inputSize: m.inputSize,
    inputs: manifest.inputs.map((t) => ({ name: t.name, shape: t.shape, min: t.floatMin, max: t.floatMax, ...(t.featureMin ? { featureMin: t.featureMin, featureMax: t.featureMax } : {}) })),
    outputSize: manifest.output.size,
    batchSize: manifest.batch?.size ?? 1,
    ...(manifest.weightsCommitment ? { weightsCommitment: manifest.weightsCommitment } : {}),
  };
}

const isBuild = (dir: string) => existsSync(buildPaths(dir).manifest);

/**
 * The models a service offers: each path is a build folder or a folder of build folders. Builds
 * without keys are skipped (reported through `skip`); two builds with one name are an error.
 */
export function loadModels(paths: readonly string[], skip: (dir: string, reason: string) => void = () => {}): Map<string, ServedModel> {
  const dirs = paths.flatMap((p) => {
    const dir = resolve(p);
    if (isBuild(dir)) return [dir];
    if (!existsSync(dir)) throw new InvalidInputError(`${p} does not exist (expected a build folder or a folder of builds)`);
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && isBuild(join(dir, e.name))).map((e) => join(dir, e.name));
  });
  const models = new Map<string, ServedModel>();
  for (const dir of dirs) {
    let build: Build;
    try {
      build = loadBuild(dir);
    } catch (err) {
      skip(dir, (err as Error).message);
      continue;
    }
    if (!existsSync(build.paths.zkey) || !existsSync(build.paths.vkey)) {
      skip(dir, 'no keys; run `zkml setup` on it');
      continue;
    }
    const name = basename(dir);
    const other = models.get(name);
    if (other) throw new InvalidInputError(`two builds are named ${name}: ${other.dir} and ${dir}; serve one of them`);
    models.set(name, { name, dir, build, inputSize: inputSize(build.program) });
  }
  return models;
}

/**
 * Drops the models whose keys anyone can forge proofs for (src/setup/provenance.ts), reporting each
 * through `skip`, unless `insecureDevKeys` (then `warn` says so for each). Throws the first
 * refusal's InsecureKeysError when no model is left: a service that proves nothing trustworthy
 * should not start.
 */
export async function refuseInsecureModels(
  models: Map<string, ServedModel>,
  options: { insecureDevKeys?: boolean; skip?: (dir: string, reason: string) => void; warn?: (line: string) => void },
): Promise<void> {
  let refused: InsecureKeysError | undefined;
  for (const [name, m] of models) {
    try {
      await enforceKeyPolicy(m.dir, { insecureDevKeys: options.insecureDevKeys, warn: options.warn });
    } catch (err) {
      if (!(err instanceof InsecureKeysError)) throw err;
      refused ??= err;
      models.delete(name);
      options.skip?.(m.dir, err.message);
    }
  }
  if (refused && models.size === 0) throw refused;
}

export function findModel(models: ReadonlyMap<string, ServedModel>, name: string): ServedModel {
  const m = models.get(name);
  if (!m) throw new NotFoundError(`unknown model "${name}"; this service has ${[...models.keys()].join(', ') || 'no models'}`);
  return m;
}

/**
 * Checks every input against the model before a job exists: count, finiteness and the range the
 * circuit was compiled for. A job is only accepted if every input of it can be proved.
 */
export function checkInputs(m: ServedModel, inputs: readonly (readonly number[])[]): void {
  inputs.forEach((input, k) => {
    try {
      quantizeInput(m.build.program, input);
    } catch (err) {
      if (err instanceof ZkmlError) throw new InvalidRequestError(`inputs[${k}]: ${err.message}`, 422);
      throw err;
    }
  });
}


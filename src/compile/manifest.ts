import { readFileSync, statSync } from 'node:fs';
import { MissingArtifactError } from '../errors.js';
import { buildPaths, requireFile } from '../paths.js';
import { parseProgram, type QProgram } from '../quant/program.js';
import { manifestVersionProblem, type BuildParts, type Manifest } from './manifest_types.js';

export { MANIFEST_VERSION, type Backend, type BuildParts, type Manifest } from './manifest_types.js';

export interface Build extends BuildParts {
  paths: ReturnType<typeof buildPaths>;
}

/** The last parse of each build folder, reused while its manifest and program are unchanged on disk. */
const parsed = new Map<string, { stamp: string; manifest: Manifest; program: QProgram }>();

function stampOf(...files: string[]): string {
  return files.map((f) => {
    const s = statSync(f);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  }).join('|');
}

/**
 * Loads a build folder, with a message that says to run `zkml compile` if it is not one. The
 * manifest and program are parsed once per process while their files are unchanged (a command
 * may load the same build several times; LeNet-5's program is 5 MB): treat them as read-only.
 */
export function loadBuild(dir: string): Build {
  const paths = buildPaths(dir);
  const hint = 'not a compiled build folder; run `zkml compile <model.onnx> --out <dir>` first';
  const stamp = stampOf(requireFile(paths.manifest, hint), requireFile(paths.program, hint));
  let entry = parsed.get(paths.root);
  if (entry?.stamp !== stamp) {
    const manifest = JSON.parse(readFileSync(paths.manifest, 'utf8')) as Manifest;
    const problem = manifestVersionProblem(manifest);
    if (problem) throw new MissingArtifactError(paths.manifest, problem);
    entry = { stamp, manifest, program: parseProgram(readFileSync(paths.program, 'utf8')) };
    parsed.set(paths.root, entry);
  }
  const { manifest, program } = entry;
  for (const f of [paths.r1cs, ...(manifest.circuit.backend === 'r1cs' ? [] : [paths.wasm]), paths.onnx]) requireFile(f, `${hint} (the build is incomplete)`);
  return { paths, manifest, program };
}

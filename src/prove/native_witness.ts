import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WitnessCalculatorBuilder } from 'circom_runtime';
import { runCircom } from '../compile/circom.js';
import { loadBuild } from '../compile/manifest.js';
import { ZkmlError } from '../errors.js';
import { buildPaths } from '../paths.js';

const run = promisify(execFile);

export class NativeWitnessError extends ZkmlError {
  readonly code = 'NATIVE_WITNESS';
}

/** Which witness calculator a build proves with, as measured when the native one was built. */
export interface WitnessChoice {
  engine: 'wasm' | 'native';
  /** Median over the runs, per witness, including the native binary's process start and file I/O. */
  wasmMs: number;
  nativeMs: number;
  buildSeconds: number;
}

/** The toolchain circom's C++ generator needs (Debian packages in brackets). */
const TOOLS: [string, string][] = [
  ['g++', 'g++'],
  ['nasm', 'nasm'],
  ['make', 'make'],
];
const HEADERS: [string[], string][] = [
  [['/usr/include/nlohmann/json.hpp'], 'nlohmann-json3-dev'],
  [['/usr/include/gmp.h', '/usr/include/x86_64-linux-gnu/gmp.h', '/usr/include/aarch64-linux-gnu/gmp.h'], 'libgmp-dev'],
];

/** Above this much generated C++, optimising costs more build time than it can save. */
const LARGE_SOURCE_BYTES = 4 << 20;

/** Missing parts of the toolchain, as Debian package names. */
export function missingToolchain(): string[] {
  const missing = TOOLS.filter(([tool]) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0).map(([, pkg]) => pkg);
  for (const [paths, pkg] of HEADERS) if (!paths.some((p) => existsSync(p))) missing.push(pkg);
  return missing;
}

export function nativeBinary(buildDir: string): string {
  return join(buildPaths(buildDir).nativeWitness, 'model');
}

export function witnessChoiceFile(buildDir: string): string {
  return buildPaths(buildDir).witnessChoice;
}

/**
 * Builds circom's C++ witness generator for a compiled build (model_cpp/model), checks that it
 * computes the same witness as the WASM calculator on `input`, times both, and records the faster
 * in witness.json: the Prover then uses it, falling back to WASM if the binary fails.
 * g++ runs at -O1, or -O0 for large generated sources: measured here on a 40k-constraint circuit,
 * circom's default -O3 took over 15 minutes, -O1 over 10, -O0 82 s (and 4.8 GB).
 */
export async function buildNativeWitness(buildDir: string, signals: Record<string, string | string[]>, log: (l: string) => void = () => {}): Promise<WitnessChoice> {
  if (loadBuild(buildDir).manifest.circuit.backend === 'r1cs') throw new NativeWitnessError('the build was made with --backend r1cs: it has no circom source to build a C++ witness generator from (its witnesses are computed from the op definitions)');
  const missing = missingToolchain();
  if (missing.length) throw new NativeWitnessError(`the C++ witness generator needs ${missing.join(', ')} (apt-get install ${missing.join(' ')})`);
  const paths = buildPaths(buildDir);
  const started = performance.now();
  log('generating the C++ witness generator with circom --c');
  await runCircom(paths.root, 'model.circom', ['--c']);
  const level = statSync(join(paths.nativeWitness, 'model.cpp')).size > LARGE_SOURCE_BYTES ? '-O0' : '-O1';
  log(`building it with g++ ${level} (minutes for large circuits)`);
  try {
    await run('make', ['-C', paths.nativeWitness, `CFLAGS=-std=c++11 ${level} -I.`], { maxBuffer: 1 << 26 });
  } catch (err) {
    throw new NativeWitnessError(`building the C++ witness generator failed: ${String((err as { stderr?: string }).stderr ?? err).slice(-2000)}`);
  }
  const buildSeconds = (performance.now() - started) / 1000;

  const wasm = await WitnessCalculatorBuilder(readFileSync(paths.wasm));
  const reference = await wasm.calculateWTNSBin(signals, true);
  const native = await nativeWitness(paths.root, signals);
  if (Buffer.compare(Buffer.from(reference), Buffer.from(native)) !== 0) throw new NativeWitnessError('the C++ witness generator disagrees with the WASM calculator');
  const time = async (f: () => Promise<unknown>) => {
    const t: number[] = [];
    for (let k = 0; k < 5; k++) {
      const s = performance.now();
      await f();
      t.push(performance.now() - s);
    }
    return t.sort((a, b) => a - b)[2];
  };
  const wasmMs = await time(() => wasm.calculateWTNSBin(signals, true));
  const nativeMs = await time(() => nativeWitness(paths.root, signals));
  const choice: WitnessChoice = { engine: nativeMs < wasmMs ? 'native' : 'wasm', wasmMs, nativeMs, buildSeconds };
  writeFileSync(witnessChoiceFile(paths.root), JSON.stringify(choice, null, 2));
  log(`witness: WASM ${wasmMs.toFixed(1)} ms, C++ ${nativeMs.toFixed(1)} ms (process and files included) -> ${choice.engine}`);
  return choice;
}

/** Runs the C++ witness generator: input JSON in, .wtns bytes out (the same format as WASM's). */
export async function nativeWitness(buildDir: string, signals: Record<string, string | string[]>): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'zkml-wtns-'));
  try {
    writeFileSync(join(dir, 'input.json'), JSON.stringify(signals));
    await run(nativeBinary(buildDir), [join(dir, 'input.json'), join(dir, 'witness.wtns')], { maxBuffer: 1 << 24 });
    return readFileSync(join(dir, 'witness.wtns'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function readWitnessChoice(buildDir: string): WitnessChoice | undefined {
  const file = witnessChoiceFile(buildDir);
  if (!existsSync(file) || !existsSync(nativeBinary(buildDir))) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as WitnessChoice;
}

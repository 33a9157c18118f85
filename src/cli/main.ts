#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { ethers } from 'ethers';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { argmax } from '../compile/accuracy.js';
import { deriveSalts, NO_RECIPIENT, parseRecipient, parseSalt, PublicStatement, recipientAddress } from '../commit/statement.js';
import { layoutEntry, modeName, parseVisibility, usesSalt, type SignalGroup } from '../commit/visibility.js';
import { loadBuild } from '../compile/manifest.js';
import { readOneSample, readSamples } from '../compile/samples.js';
import { decodeOutput, inputSize, quantizeInput } from '../quant/io.js';
import { fromField } from '../prove/field.js';
import { ZkmlError } from '../errors.js';
import { writeJsonAtomic } from '../files.js';
import { buildPaths, packageVersion } from '../paths.js';
import { releaseCurves } from '../setup/curve.js';
import type { SetupRecord } from '../setup/setup.js';
import * as z from '../index.js';
import { fmt, percent, table, vector } from './format.js';
import { progress } from './progress.js';
import { FEWER_PUBLIC_SIGNALS, MAX_CODE_SIZE, estimatedVerifierSize } from '../chain/verifier.js';

const log = (line: string) => console.error(line);

/** An output vector, with its argmax when it has more than one value (class scores). */
function describe(v: readonly number[]): string {
  return v.length > 1 ? `${vector(v)} (argmax ${argmax(v)})` : vector(v);
}

function int(name: string, min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

function parseVisibilitySpec(spec: string): Partial<Record<'input' | 'output' | 'weights', string>> {
  const presets: Record<string, Partial<Record<'input' | 'output' | 'weights', string>>> = {
    public: {},
    compact: { input: 'hashed', output: 'hashed' },
    'private-model': { weights: 'hashed' },
  };
  const out: Partial<Record<'input' | 'output' | 'weights', string>> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (presets[part]) Object.assign(out, presets[part]);
    else {
      const [key, value] = part.split('=');
      if (!['input', 'output', 'weights'].includes(key) || !value) throw new InvalidArgumentError(`--visibility: "${part}" is neither a preset (${Object.keys(presets).join(', ')}) nor input=..., output=... or weights=...`);
      out[key as 'input' | 'output' | 'weights'] = value;
    }
  }
  try {
    parseVisibility(out);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return out;
}

/** inspect's verifier line: the compiled size when the verifier was built, else the estimate, against EIP-170. */
function verifierLine(build: string, publicSignals: number, pinned: boolean): string {
  const file = buildPaths(build).verifierArtifact;
  const compiled = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { codeSize?: number }).codeSize : undefined;
  const size = compiled ?? estimatedVerifierSize(publicSignals, pinned);
  const what = `verifier contract: ${compiled ? '' : 'about '}${size.toLocaleString('en-US')} bytes of code${compiled ? '' : ' (estimated; not built yet)'} for ${publicSignals} public signals, limit ${MAX_CODE_SIZE.toLocaleString('en-US')} (EIP-170)`;
  return size > MAX_CODE_SIZE ? `${what}: over the limit, so it verifies off-chain only; ${FEWER_PUBLIC_SIGNALS}` : what;
}

function modelId(value: string) {
  if (!/^\d+$/.test(value) || BigInt(value) === 0n) throw new InvalidArgumentError('--model-id must be a registry model id (a positive integer)');
  return value;
}

function fraction(value: string) {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

function nonNegative(value: string) {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a non-negative number');
  return n;
}

/** --insecure-dev-keys, worded for the command it is on. */
const INSECURE_DEV_KEYS = '--insecure-dev-keys';
const insecureHelp = {
  verify: 'accept keys anyone can forge proofs for (dev keys from `zkml setup` without a ceremony): a valid proof then proves nothing',
  chain: 'accept keys anyone can forge proofs for (dev keys) on any chain; without it only the embedded EVM and a loopback node with chain id 31337 or 1337 accept them',
  serve: 'also serve builds whose keys anyone can forge proofs for (dev keys); without it they are skipped',
};

/** Says so when a build's keys are forgeable, where using them is harmless but trusting them is not. */
async function warnInsecureKeys(build: string): Promise<void> {
  if (!existsSync(buildPaths(build).vkey) || !existsSync(buildPaths(build).zkey)) return; // the command itself says what is missing
  const p = await z.keyProvenance(build);
  if (!p.secure) log(z.insecureKeysWarning(p, 'verify, serve and public chains refuse them without --insecure-dev-keys'));
}

const program = new Command()
  .name('zkml')
  .description('Prove that an ONNX model produced an output, and verify the proof off-chain and on-chain.')
  .version(packageVersion, '-V, --version', 'print the zkml version')
  .showHelpAfterError();

program
  .command('compile')
  .description('quantize an ONNX model and compile it to a circuit (R1CS, built directly or with circom)')
  .argument('<model>', 'ONNX model file (batch 1, static shapes)')
  .requiredOption('-c, --calibration <file>', 'calibration samples: {"inputs": [[...], ...]}, an array, or JSON lines')
  .option('-o, --out <dir>', 'build folder (default: artifacts/build/<name of the model\'s folder>)')
  .option('-t, --test <file>', 'samples (optionally with "labels") for the accuracy report; default: the calibration samples')
  .option('--input-bits <n>', 'width of the accepted input range in bits, its range-check cost per element (default: searched)', int('--input-bits', 2, 32))
  .option('--weight-bits <n>', 'bits for each layer\'s largest weight', int('--weight-bits', 2, 32))
  .option('--activation-bits <n>', 'bits for each hidden activation', int('--activation-bits', 2, 48))
  .option('--precision <mode>', 'auto: search the cheapest bit budgets at the default budgets\' accuracy (calibration samples); fixed: the defaults', (v: string) => {
    if (v !== 'auto' && v !== 'fixed') throw new InvalidArgumentError('--precision must be auto or fixed');
    return v;
  }, 'auto')
  .option('--visibility <spec>', 'what proofs reveal: input=public|private|hashed, output=public|hashed, weights=fixed|hashed, comma-separated; or a preset: public (default), compact (hashed input and output: constant, small public signals), private-model (hashed weights)', parseVisibilitySpec)
  .option('--backend <backend>', 'r1cs (default): build the R1CS directly from the op definitions (linear time and memory; witnesses computed in JavaScript); circom: compile the generated circom source with circom2 (its witness WASM; needed by --native-witness)', (v: string) => {
    if (v !== 'circom' && v !== 'r1cs') throw new InvalidArgumentError('--backend must be circom or r1cs');
    return v;
  })
  .option('--native-witness', 'also build circom\'s C++ witness generator (g++, nasm, libgmp-dev, nlohmann-json3-dev), time it against the WASM calculator and prove with the faster')
  .option('--input-margin <x>', 'widen the calibrated input range by this fraction of its span', nonNegative)
  .option('--input-range <spec>', 'known input bounds instead of the calibrated range: lo:hi for every value (0:255 for pixels), or a JSON file {"min", "max"} with a number or one per value (a scaler\'s data_min_/data_max_), or per input name')
  .option('--min-agreement <x>', 'fail unless the quantized model makes the float model\'s decision on at least this fraction of the test samples', fraction, 0.99)
  .option('--max-relative-error <x>', 'fail if the worst output error exceeds this fraction of the largest output (default 0.02; int8 models: not checked, their decisions are)', nonNegative)
  .option('--task <task>', 'how to score accuracy: classification | binary | regression (default: from the output size)', (v: string) => {
    if (!['classification', 'binary', 'regression'].includes(v)) throw new InvalidArgumentError('--task must be classification, binary or regression');
    return v;
  })
  .option('--batch-size <n>', 'inferences per proof (default 1): the circuit runs the model on n inputs with the weights once; with hashed output and hashed or private input the public signals are one root over the items plus a count, whatever n is', int('--batch-size', 1, z.MAX_BATCH))
  .action(async (model: string, o) => {
    const out = o.out || join('artifacts', 'build', model.replace(/\\/g, '/').split('/').slice(-2, -1)[0] || 'model');
    const quant = Object.fromEntries(
      Object.entries({ inputBits: o.inputBits, weightBits: o.weightBits, activationBits: o.activationBits, inputMargin: o.inputMargin }).filter(([, v]) => v !== undefined),
    );
    const m = await z.compile(model, {
      calibration: o.calibration,
      test: o.test,
      out,
      quant,
      precision: o.precision,
      task: o.task,
      visibility: o.visibility,
      inputRange: o.inputRange,
      minAgreement: o.minAgreement,
      maxRelativeError: o.maxRelativeError,
      backend: o.backend ?? (o.nativeWitness ? 'circom' : undefined),
      batchSize: o.batchSize,
      log,
    });
    const a = m.accuracy;
    console.log(
      table(
        ['build', 'constraints', 'wires', 'public', 'agreement', 'rel. error', 'compile s'],
        [[out, m.circuit.constraints, m.circuit.wires, m.circuit.publicSignals, percent(a.decisionAgreement), `${fmt(a.relativeError * 100, 2)}%`, fmt(m.circuit.compileSeconds, 2)]],
      ),
    );
    if (o.nativeWitness) {
      const build = loadBuild(out);
      const statement = await PublicStatement.for(build.program, build.manifest.visibility, build.manifest.circuit.publicLayout);
      const params = { salts: await deriveSalts(build.manifest.visibility, 1n), recipient: NO_RECIPIENT };
      await z.buildNativeWitness(out, statement.circuitInputs(quantizeInput(build.program, readSamples(o.calibration).inputs[0]), params), log);
    }
  });

program
  .command('setup')
  .description('Groth16 keys for a build: dev powers of tau (cached, insecure) or --ptau, then phase 2')
  .argument('<build>', 'build folder from `zkml compile`')
  .option('--ptau <file>', 'powers of tau from a ceremony, prepared for phase 2 (production)')
  .option('--ptau-cache <dir>', 'where dev powers of tau are cached')
  .option('--force', 'replace keys that came from a ceremony or a --ptau file')
  .action(async (build: string, o) => {
    let bar: { step: string; update(done: number, failed: number): void } | undefined;
    const onProgress = (step: string, done: number, total: number) => {
      if (bar?.step !== step) bar = { step, ...progress(step, total) };
      bar.update(done, 0);
    };
    const r = await z.setup(build, { ptau: o.ptau, ptauCache: o.ptauCache, force: o.force, log, progress: onProgress });
    console.log(`keys ${r.cached ? 'cached' : 'created'}: ${buildPaths(build).zkey} (ptau: ${r.ptau.source === 'dev' ? 'INSECURE dev' : r.ptau.file}, 2^${r.ptau.power})`);
  });

program
  .command('prove')
  .description('prove one input (--input) or many (--batch) on a worker pool')
  .argument('<build>', 'build folder with keys (`zkml setup`)')
  .option('-i, --input <file>', 'one input: {"input": [...]} or an array')
  .option('-b, --batch <file>', 'many inputs: JSON lines, {"inputs": [...]}, or an array of arrays')
  .option('--sample <k>', 'with --input: prove sample k of a file of several (default: the file must hold one)', int('--sample', 0, 1_000_000_000))
  .option('-o, --out <path>', 'proof file (--input) or folder (--batch); default: <build>/proofs')
  .option('-w, --workers <n|auto>', 'pool size for --batch (single-threaded workers), or auto: measure one proof single-threaded and one on every core, and use the faster layout (a large key that would not fit once per core gets one multi-threaded worker); the measurement is kept in <build>/pool_layout.json', (v: string) => (v === 'auto' ? v : int('--workers', 1, 64)(v)), 2)
  .option('--salt <n>', 'master salt of the input/output commitments and nullifier (salted builds; decimal or 0x-hex; default: random, recorded in the proof file); with --batch each input gets its own, derived from it')
  .option('--recipient <address>', 'bind the proof to this address: the registry credits its result to it, and a copied proof cannot credit anyone else (default: none)')
  .action(async (build: string, o) => {
    if (!!o.input === !!o.batch) throw new InvalidArgumentError('give exactly one of --input <file> or --batch <file>');
    const { manifest } = loadBuild(build);
    await warnInsecureKeys(build);
    const recipient = o.recipient === undefined ? undefined : parseRecipient(o.recipient);
    if (manifest.batch) {
      await proveBatched(build, manifest.batch.size, o, recipient);
      return;
    }
    if (o.input) {
      const input = readOneSample(o.input, inputSize(loadBuild(build).program), o.sample);
      const r = await z.prove(build, input, { salt: o.salt === undefined ? undefined : parseSalt(o.salt), recipient });
      const file = o.out ?? join(buildPaths(build).proofs, 'proof.json');
      writeJsonAtomic(file, r);
      console.log(`output ${describe(r.output)}; float model ${describe(r.floatOutput)}`);
      console.log(`witness ${fmt(r.timings.witnessMs)} ms, proof ${fmt(r.timings.proveMs)} ms -> ${file}`);
      return;
    }
    const { inputs } = readSamples(o.batch);
    const dir = o.out ?? join(buildPaths(build).proofs, 'batch');
    const layout = o.workers === 'auto' ? await z.choosePoolLayout(build) : undefined;
    if (layout) log(`pool layout: ${layout.workers} worker(s), ${layout.threadsPerWorker === 1 ? 'single-threaded' : 'every core per proof'} (${layout.reason})`);
    const workers: number = layout?.workers ?? o.workers;
    const threadsPerWorker = layout?.threadsPerWorker ?? 1;
    const bar = progress('proving', inputs.length);
    let failed = 0;
    const started = performance.now();
    const items = await z.proveBatch(build, inputs, {
      workers: o.workers,
      salt: o.salt === undefined ? undefined : String(parseSalt(o.salt)),
      recipient: recipient === undefined ? undefined : recipientAddress(recipient),
      onResult: (index, outcome, done) => {
        if (outcome.ok) writeJsonAtomic(join(dir, `proof_${index}.json`), outcome.result);
        else failed++;
        bar.update(done, failed);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const summary = {
      total: inputs.length,
      proved: inputs.length - failed,
      failed,
      workers,
      threadsPerWorker,
      seconds,
      proofsPerSecond: (inputs.length - failed) / seconds,
      results: items.map(({ index, outcome }) =>
        outcome.ok ? { index, ok: true, file: `proof_${index}.json`, output: outcome.result.output, timings: outcome.result.timings } : { index, ok: false, error: outcome.error },
      ),
    };
    writeJsonAtomic(join(dir, 'summary.json'), summary);
    for (const { index, outcome } of items) if (!outcome.ok) console.error(`input ${index}: ${outcome.error.message}`);
    console.log(`${summary.proved}/${summary.total} proved in ${fmt(seconds, 2)} s (${fmt(summary.proofsPerSecond, 2)} proofs/s, ${workers} ${threadsPerWorker === 1 ? 'single-threaded' : 'multi-threaded'} workers) -> ${dir}`);
    if (failed) process.exitCode = 1;
  });

/**
 * `zkml prove` on a batched build: ceil(M/N) proofs of up to N inputs each, written as
 * batch_<g>.json (proof, public signals, and every item's output and opening) with a summary.
 */
async function proveBatched(build: string, size: number, o: { input?: string; batch?: string; sample?: number; out?: string; workers: number | 'auto'; salt?: string }, recipient: bigint | undefined): Promise<void> {
  if (o.input) {
    // One input: a batch of one (count 1), proved in this process, written where a single proof would be.
    const input = readOneSample(o.input, inputSize(loadBuild(build).program), o.sample);
    const r = await z.proveItems(build, [input], { salts: o.salt === undefined ? undefined : [parseSalt(o.salt)], recipient });
    const file = o.out ?? join(buildPaths(build).proofs, 'proof.json');
    writeJsonAtomic(file, r);
    console.log(`output ${describe(r.items[0].output)}; float model ${describe(r.items[0].floatOutput)} (a batch of 1 of ${size})`);
    console.log(`witness ${fmt(r.timings.witnessMs)} ms, proof ${fmt(r.timings.proveMs)} ms -> ${file}`);
    return;
  }
  const { inputs } = readSamples(o.batch!);
  const dir = o.out ?? join(buildPaths(build).proofs, 'batch');
  const groups = Math.ceil(inputs.length / size);
  const bar = progress(`proving ${inputs.length} inputs in ${groups} proof(s) of up to ${size}`, groups);
  let failed = 0;
  const started = performance.now();
  const results = await z.proveInBatches(build, inputs, {
    workers: o.workers,
    salt: o.salt === undefined ? undefined : String(parseSalt(o.salt)),
    recipient: recipient === undefined ? undefined : recipientAddress(recipient),
    onResult: (g, done) => {
      if (g.outcome.ok) writeJsonAtomic(join(dir, `batch_${g.group}.json`), g.outcome.result);
      else failed++;
      bar.update(done, failed);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const proved = results.filter((g) => g.outcome.ok).reduce((a, g) => a + g.count, 0);
  const summary = {
    total: inputs.length,
    proved,
    failed: inputs.length - proved,
    batchSize: size,
    proofs: results.length,
    seconds,
    inferencesPerSecond: proved / seconds,
    results: results.map((g) => (g.outcome.ok ? { group: g.group, first: g.first, count: g.count, ok: true, file: `batch_${g.group}.json`, outputs: g.outcome.result.items.map((it) => it.output), timings: g.outcome.result.timings } : { group: g.group, first: g.first, count: g.count, ok: false, error: g.outcome.error })),
  };
  writeJsonAtomic(join(dir, 'summary.json'), summary);
  for (const g of results) if (!g.outcome.ok) console.error(`inputs ${g.first}..${g.first + g.count - 1}: ${g.outcome.error.message}`);
  console.log(`${proved}/${inputs.length} inferences proved in ${results.length - failed} proof(s) of up to ${size}, ${fmt(seconds, 2)} s (${fmt(summary.inferencesPerSecond, 2)} inferences/s) -> ${dir}`);
  if (failed) process.exitCode = 1;
}

program
  .command('verify')
  .description('verify a proof off-chain with snarkjs')
  .argument('<build>', 'build folder with keys')
  .requiredOption('-p, --proof <file>', 'proof file from `zkml prove`')
  .option('--item <k>', 'batched builds: check only item k of the batch file (default: every item it records)', int('--item', 0, 1_000_000))
  .option('--json', 'print the result as JSON')
  .option(INSECURE_DEV_KEYS, insecureHelp.verify)
  .action(async (build: string, o) => {
    if (o.item !== undefined && !loadBuild(build).manifest.batch) throw new InvalidArgumentError('--item is for batched builds (compile --batch-size); this build proves one input per proof');
    const r = await z.verify(build, z.readProofFile(o.proof), { insecureDevKeys: o.insecureDevKeys, warn: log, item: o.item });
    if (o.json) console.log(JSON.stringify(r));
    else if (!r.valid) console.log(`INVALID: ${r.reason}`);
    else if (r.batch) {
      console.log(`valid: a batch of ${r.batch.count} of ${r.batch.size}${r.batch.root ? `, root ${r.batch.root}` : ''}; ${BigInt(r.recipient!) === 0n ? 'bound to no recipient' : `recipient ${r.recipient}`}`);
      for (const it of r.items ?? []) {
        const opened = it.opened ? ` (${Object.keys(it.opened).join(' and ')} opened by the file)` : it.inputKey ? ' (in the batch; not opened)' : '';
        console.log(`  item ${it.index}: ${it.output ? `output ${describe(it.output)}` : 'output hashed'}${opened}`);
      }
    } else {
      const parts = [r.output ? `output ${describe(r.output)}${r.opened?.output ? ' (opened by the file)' : ''}` : 'output hashed'];
      for (const [k, v] of Object.entries(r.commitments ?? {})) {
        const opened = r.opened?.[k as keyof NonNullable<typeof r.opened>] ? ' (opened by the file)' : '';
        parts.push(k === 'nullifier' ? `input nullifier ${v}${opened}` : `${k} commitment ${v}${opened}`);
      }
      parts.push(BigInt(r.recipient!) === 0n ? 'bound to no recipient' : `recipient ${r.recipient}`);
      console.log(`valid: ${parts.join('; ')}`);
    }
    if (!r.valid) process.exitCode = 1;
  });

program
  .command('verify-onchain')
  .description('deploy the generated Solidity verifier (embedded EVM by default, or --rpc) and verify a proof with it')
  .argument('<build>', 'build folder with keys')
  .requiredOption('-p, --proof <file>', 'proof file from `zkml prove`')
  .option('--rpc <url>', 'JSON-RPC node instead of the embedded EVM')
  .option('--private-key <hex>', 'signer for --rpc (default: ZKML_PRIVATE_KEY, else the node\'s first account)')
  .option('--address <address>', 'use a verifier already deployed at this address')
  .option('--json', 'print the result as JSON')
  .option(INSECURE_DEV_KEYS, insecureHelp.chain)
  .action(async (build: string, o) => {
    const doc = z.readProofFile(o.proof);
    const artifact = await z.verifierArtifact(build);
    const chain = o.rpc ? await z.rpcChain(o.rpc, o.privateKey ?? process.env.ZKML_PRIVATE_KEY) : await z.embeddedChain();
    try {
      await z.enforceKeyPolicy(build, { insecureDevKeys: o.insecureDevKeys, chain, warn: log });
      let contract;
      let deployGas: bigint | undefined;
      if (o.address) contract = z.attachVerifier(chain, artifact, o.address);
      else {
        const d = await z.deployVerifier(chain, artifact, { insecureDevKeys: o.insecureDevKeys });
        contract = d.contract;
        deployGas = d.gasUsed;
        log(`deployed ${artifact.contractName} at ${d.address} on ${chain.description} (${d.gasUsed} gas)`);
      }
      const r = await z.verifyOnChain(contract, doc.proof, doc.publicSignals);
      const address = await contract.getAddress();
      if (o.json) console.log(JSON.stringify({ valid: r.valid, gas: Number(r.gas), address, deployGas: deployGas && Number(deployGas), chain: chain.description }));
      else console.log(`on-chain verifier at ${address} returned ${r.valid} (verification gas ${r.gas})`);
      if (!r.valid) process.exitCode = 1;
    } finally {
      await chain.close();
    }
  });

const MAX_BATCH_INDEX = z.MAX_BATCH - 1;

/** The items a batched build's proof file records: a batch file's `items`, or one item's own result. */
function batchItemsOf(doc: object, file: string): Partial<z.BatchItemResult>[] {
  const d = doc as { items?: unknown; index?: unknown };
  const items = d.items ?? (d.index !== undefined ? [d] : []);
  if (!Array.isArray(items) || !items.every((it) => it !== null && typeof it === 'object')) throw new z.InvalidProofFileError(file, 'its items are not a list of objects');
  return items as Partial<z.BatchItemResult>[];
}

/** The chain a command talks to: --rpc (ZKML_RPC) with --private-key (ZKML_PRIVATE_KEY), else a fresh embedded EVM. */
async function openChain(o: { rpc?: string; privateKey?: string }) {
  const rpc = o.rpc ?? process.env.ZKML_RPC;
  const chain = rpc ? await z.rpcChain(rpc, o.privateKey ?? process.env.ZKML_PRIVATE_KEY) : await z.embeddedChain();
  if (!rpc) log('chain: a fresh embedded EVM, gone when this command ends (pass --rpc <url> to keep contracts; `zkml node` starts one)');
  return { chain, rpc };
}

const jsonBig = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2);

function chainOptions(c: Command): Command {
  return c
    .option('--rpc <url>', 'JSON-RPC node (default: ZKML_RPC, else a fresh embedded EVM)')
    .option('--private-key <hex>', 'signer for --rpc (default: ZKML_PRIVATE_KEY, else the node\'s first account)')
    .option(INSECURE_DEV_KEYS, insecureHelp.chain);
}

program
  .command('node')
  .description('run a local JSON-RPC node (Hardhat network, EDR) on 127.0.0.1 until interrupted')
  .option('--port <n>', 'port', int('--port', 1, 65535), 8545)
  .option('--chain-id <n>', 'chain id (31337 and 1337 are development chains for the key policy)', int('--chain-id', 1, 2 ** 32), 31337)
  .action(async (o) => {
    const node = await z.startHardhatNode(o.port, undefined, { chainId: o.chainId });
    console.log(`JSON-RPC node at ${node.url} (chain id ${o.chainId}, Hardhat's public dev accounts); Ctrl-C stops it`);
    await new Promise<void>((resolveStop) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void node.stop().then(resolveStop));
    });
  });

program
  .command('web')
  .description('serve the browser prover on 127.0.0.1: a page that proves an input on the visitor\'s device, verifies, and records the result in the registry')
  .argument('<builds...>', 'build folders with keys (each served under its folder name)')
  .option('--port <n>', 'port (0: any free port)', int('--port', 0, 65535), 8080)
  .option('--rpc <url>', 'JSON-RPC node the page submits to by default (e.g. `zkml node`): every build is deployed and registered there first')
  .option('--private-key <hex>', 'signer for deploying and registering on --rpc (default: ZKML_PRIVATE_KEY, else the node\'s first account)')
  .option(INSECURE_DEV_KEYS, insecureHelp.chain)
  .option('--expose-hidden-weights', 'serve weights=hashed builds too: a browser proves with the weights, so every visitor downloads them')
  .action(async (builds: string[], o) => {
    const { startWebServer } = await import('../web/server.js');
    const server = await startWebServer({ builds, port: o.port, rpc: o.rpc ?? process.env.ZKML_RPC, privateKey: o.privateKey ?? process.env.ZKML_PRIVATE_KEY, insecureDevKeys: o.insecureDevKeys, exposeHiddenWeights: o.exposeHiddenWeights, log });
    for (const m of server.config.models) log(`${m.name}: input ${m.visibility.input}, output ${m.visibility.output}, ${m.constraints} constraints${m.keys.secure ? '' : ' (development keys)'}`);
    console.log(`zkml web at ${server.url} (proofs are made in the visitor's browser; Ctrl-C stops it)`);
    const sig = await stopSignal();
    log(`${sig}: stopping`);
    await server.close();
  });

chainOptions(
  program
    .command('deploy')
    .description('deploy the inference registry and, with a build, its verifier; prints the addresses (JSON)')
    .argument('[build]', 'build folder with keys, whose verifier to deploy')
    .option('--registry <address>', 'use this registry instead of deploying one'),
).action(async (build: string | undefined, o) => {
  const { chain, rpc } = await openChain(o);
  try {
    const known = build && rpc ? await z.readDeployment(build, chain) : undefined;
    const d = await z.ensureDeployed(chain, { build, registry: o.registry, known, onStale: 'redeploy', insecureDevKeys: o.insecureDevKeys, log });
    const record = build ? await z.recordOf(chain, build, d) : { registry: await d.registry.getAddress() };
    if (build && rpc) await z.writeDeployment(build, chain, record as z.DeploymentRecord);
    console.log(jsonBig({ chain: chain.description, ...record, gas: d.gas }));
  } finally {
    await chain.close();
  }
});

chainOptions(
  program
    .command('register')
    .description('register a build in the registry (deploying the registry and verifier where needed); the signer becomes the model\'s owner')
    .argument('<build>', 'build folder with keys')
    .option('--registry <address>', 'registry address (default: from `zkml deploy`)')
    .option('--verifier <address>', 'verifier address (default: from `zkml deploy`, else deployed now)')
    .option('--metadata-uri <uri>', 'where the model is described (model card, ONNX file)', ''),
).action(async (build: string, o) => {
  const { chain, rpc } = await openChain(o);
  try {
    const known = rpc ? await z.readDeployment(build, chain) : undefined;
    const d = await z.ensureDeployed(chain, {
      build,
      registry: o.registry,
      verifier: o.verifier,
      register: true,
      metadataURI: o.metadataUri,
      known: known && { ...known, modelId: undefined },
      onStale: 'redeploy',
      insecureDevKeys: o.insecureDevKeys,
      log,
    });
    const record = await z.recordOf(chain, build, d);
    if (rpc) await z.writeDeployment(build, chain, record);
    const { manifest } = loadBuild(build);
    console.log(jsonBig({ chain: chain.description, ...record, weightsCommitment: manifest.weightsCommitment ?? null, gas: d.gas }));
  } finally {
    await chain.close();
  }
});

chainOptions(
  program
    .command('submit')
    .description('submit a proof to the registry, which verifies it and records the result (on the embedded EVM: deploys and registers first, to measure gas)')
    .argument('<build>', 'build folder with keys')
    .requiredOption('-p, --proof <file>', 'proof file from `zkml prove`')
    .option('--registry <address>', 'registry address (default: from `zkml register`)')
    .option('--model-id <n>', 'registered model id (default: from `zkml register`)', modelId)
    .option('--open <items>', 'batched builds: after submitting the batch (or, with --opened-only, instead), record these items\' results: comma-separated indices, or all')
    .option('--opened-only', 'batched builds: the batch is already recorded; only open the --open items'),
).action(async (build: string, o) => {
  const doc = z.readProofFile(o.proof);
  const { manifest } = loadBuild(build);
  // A batched build's proof: a batch file (items) or one item's own result (the service's); the items to open, checked before any transaction.
  const items = manifest.batch ? batchItemsOf(doc, o.proof) : [];
  const open: number[] = o.open === undefined ? [] : o.open === 'all' ? items.map((it) => it.index!) : String(o.open).split(',').map((k) => int('--open', 0, MAX_BATCH_INDEX)(k.trim()));
  if (!manifest.batch && (o.open !== undefined || o.openedOnly)) throw new InvalidArgumentError('--open and --opened-only are for batched builds');
  if (o.openedOnly && !open.length) throw new InvalidArgumentError('--opened-only needs --open <items>');
  const openings = open.map((k) => z.batchItemArg(manifest, { publicSignals: doc.publicSignals, items }, k));
  const { chain, rpc } = await openChain(o);
  try {
    const known = rpc ? await z.readDeployment(build, chain) : undefined;
    if (rpc && !(o.modelId ?? known?.modelId)) throw new z.ChainError(`no model id for ${build} on ${rpc} (chain ${chain.chainId}): run \`zkml register ${build} --rpc ${rpc}\` or pass --model-id`);
    const d = await z.ensureDeployed(chain, { build, registry: o.registry, modelId: o.modelId, register: !rpc, known, onStale: 'fail', insecureDevKeys: o.insecureDevKeys, log });
    if (manifest.batch) {
      const submitted = o.openedOnly ? undefined : await z.submitBatch(d.registry, d.modelId!, doc.proof, doc.publicSignals);
      const report = () => ({ chain: chain.description, registry: d.registry.target, modelId: d.modelId, ...(submitted ? { batch: { ...submitted, gasPerInference: Math.round(Number(submitted.gasUsed) / Number(submitted.count)) } } : {}), opened, gas: { ...d.gas, ...(submitted ? { submitBatch: submitted.gasUsed } : {}) } });
      const opened: Record<string, unknown>[] = [];
      try {
        for (const item of openings) {
          const s = await z.openItem(d.registry, d.modelId!, item);
          opened.push({ index: Number(item.index), inputKey: s.inputKey, outputCommitment: s.outputCommitment, recorded: (await z.readResult(d.registry, d.modelId!, s)).exists, gasUsed: s.gasUsed });
        }
      } finally {
        // What was sent is reported even when a later opening fails.
        console.log(jsonBig(report()));
      }
      return;
    }
    const s = await z.submitProof(d.registry, d.modelId!, doc.proof, doc.publicSignals);
    if (BigInt(s.recipient) === 0n) log('note: this proof is bound to no recipient, so its result is credited to no one (`zkml prove --recipient <address>` binds one)');
    const result = await z.readResult(d.registry, d.modelId!, s);
    // The recorded output as field elements (what contracts read) and decoded (signs and scale, as ZkmlOutput.sol does).
    const { program } = loadBuild(build);
    const decoded = result.output.length ? { output: decodeOutput(program, result.output.map((v) => fromField(v))) } : {};
    console.log(jsonBig({ chain: chain.description, registry: await d.registry.getAddress(), modelId: d.modelId, ...s, result: { ...result, ...decoded }, gas: { ...d.gas, submit: s.gasUsed } }));
  } finally {
    await chain.close();
  }
});

program
  .command('calldata')
  .description('export a proof as calldata for the verifier and the registry (for Hardhat, Foundry\'s cast, or any wallet)')
  .argument('<build>', 'build folder')
  .requiredOption('-p, --proof <file>', 'proof file from `zkml prove`')
  .option('--model-id <n>', 'registry model id for the submit calldata', modelId, '1')
  .action(async (build: string, o) => {
    const batched = loadBuild(build).manifest.batch !== undefined;
    await warnInsecureKeys(build);
    const doc = z.readProofFile(o.proof);
    const args = z.solidityArgs(doc.proof, doc.publicSignals);
    const artifact = await z.verifierArtifact(build);
    const verifierCalldata = new ethers.Interface(artifact.abi as ethers.InterfaceAbi).encodeFunctionData('verifyProof', args);
    // A batched build's proof goes to submitBatch (one record for the whole batch).
    const submitCalldata = (batched ? z.submitBatchCalldata : z.submitCalldata)(BigInt(o.modelId), doc.proof, doc.publicSignals);
    console.log(
      JSON.stringify(
        {
          verifyProof: { args, calldata: verifierCalldata, hardhat: `await verifier.verifyProof(...${JSON.stringify(args)})`, cast: `cast call <verifier> ${verifierCalldata}` },
          [batched ? 'submitBatch' : 'submit']: { modelId: o.modelId, calldata: submitCalldata, cast: `cast send <registry> ${submitCalldata}` },
        },
        null,
        2,
      ),
    );
  });

program
  .command('export-verifier')
  .description('write what a Solidity developer needs for a build: the verifier (Solidity, ABI, bytecode), the registry\'s ABI and interface, the output decoding library, the registration parameters and, for a hashed output, the on-chain opener')
  .argument('<build>', 'build folder with keys')
  .option('-o, --out <dir>', 'output folder (default: <build>/contracts)')
  .option(INSECURE_DEV_KEYS, 'export a verifier whose keys anyone can forge proofs for (dev keys); the files then say so')
  .action(async (build: string, o) => {
    const out = o.out ?? join(buildPaths(build).root, 'contracts');
    const files = await z.exportContracts(build, out, { insecureDevKeys: o.insecureDevKeys, log });
    console.log(`wrote ${files.length} files to ${out}: ${files.join(', ')}`);
  });

program
  .command('commit')
  .description('compute off-chain what a proof of this build makes public: its weights commitment and, with --input (and --salt on salted builds), the input commitment or nullifier, the output commitment, the public signals and the registry\'s input key')
  .argument('<build>', 'build folder')
  .option('-i, --input <file>', 'an input: {"input": [...]} or an array')
  .option('--salt <n>', 'the master salt used when proving (salted builds; decimal or 0x-hex)')
  .option('--recipient <address>', 'the recipient the proof is bound to (default: none)')
  .option('--sample <k>', 'with --input: sample k of a file of several', int('--sample', 0, 1_000_000_000))
  .action(async (build: string, o) => {
    const b = loadBuild(build);
    const v = b.manifest.visibility;
    const statement = await PublicStatement.for(b.program, v, b.manifest.circuit.publicLayout);
    const out: Record<string, unknown> = {};
    if (statement.weightsCommitment !== undefined) out.weightsCommitment = String(statement.weightsCommitment);
    if (!o.input) {
      if (o.salt !== undefined || o.recipient !== undefined) throw new InvalidArgumentError('--salt and --recipient need --input');
    } else {
      if (usesSalt(v) && o.salt === undefined) throw new InvalidArgumentError(`--input needs --salt on this build: its ${v.input === 'private' ? 'nullifier' : 'commitments'} are salted`);
      if (!usesSalt(v) && o.salt !== undefined) throw new InvalidArgumentError(`--salt: this build (${modeName(v)}) commits to nothing salted; its proofs carry the input and output themselves`);
      const q = quantizeInput(b.program, readOneSample(o.input, inputSize(b.program), o.sample));
      const params = { salts: usesSalt(v) ? await deriveSalts(v, parseSalt(o.salt)) : {}, recipient: o.recipient === undefined ? NO_RECIPIENT : parseRecipient(o.recipient) };
      if (b.manifest.batch) {
        // A batch's public signals commit to all its items: what one input gives is its item's keys (--salt: the item's salt in the batch file).
        const output = z.referenceOutput(b.program, q);
        if (v.output === 'public') out.output = output.map(String);
        else {
          out.inputKey = ethers.toBeHex(await statement.inputKey(q, params.salts), 32);
          out.outputCommitment = String(await statement.outputCommitment(output, params.salts.output!));
        }
        out.recipient = recipientAddress(params.recipient);
        console.log(JSON.stringify(out, null, 2));
        return;
      }
      const signals = await statement.publicSignals(q, z.referenceOutput(b.program, q), params);
      const at = (g: SignalGroup) => {
        const e = layoutEntry(b.manifest.circuit.publicLayout, g);
        return e && signals[e.offset];
      };
      for (const [g, name] of [['inputCommitment', 'inputCommitment'], ['inputNullifier', 'inputNullifier'], ['outputCommitment', 'outputCommitment']] as const) if (at(g)) out[name] = at(g);
      out.inputKey = z.inputKeyOf(b.manifest, signals);
      out.recipient = recipientAddress(params.recipient);
      out.publicSignals = signals;
    }
    console.log(JSON.stringify(out, null, 2));
  });

const ceremony = program.command('ceremony').description('a multi-party phase-2 ceremony for production keys: init, contribute, beacon, verify, finalize');

ceremony
  .command('init')
  .description('start a ceremony for a build in a folder anyone can re-check')
  .argument('<build>', 'build folder')
  .requiredOption('-d, --dir <folder>', 'ceremony folder (R1CS, one zkey per step, transcript.json)')
  .option('--ptau <file>', 'phase-1 powers of tau from a public ceremony (default: the INSECURE dev ptau)')
  .option('--ptau-cache <dir>', 'where dev powers of tau are cached')
  .action(async (build: string, o) => {
    await z.ceremonyInit(build, o.dir, { ptau: o.ptau, ptauCache: o.ptauCache, log });
    console.log(`ceremony ready in ${o.dir}: next, each participant runs \`zkml ceremony contribute ${o.dir} --name <who>\``);
  });

ceremony
  .command('contribute')
  .description('add a contribution (secret entropy, random unless --entropy), verified before it is recorded')
  .argument('<dir>', 'ceremony folder')
  .requiredOption('-n, --name <who>', 'contributor name, recorded in the key and the transcript')
  .option('--entropy <text>', 'entropy to mix in (default: 64 random bytes)')
  .action(async (dir: string, o) => {
    const step = await z.ceremonyContribute(dir, { name: o.name, entropy: o.entropy, log });
    console.log(`contribution ${step.index} recorded: ${step.file}; contribution hash ${step.contributionHash}`);
  });

ceremony
  .command('beacon')
  .description('apply a public random beacon (e.g. a future block hash) as the last contribution')
  .argument('<dir>', 'ceremony folder')
  .requiredOption('-b, --beacon <hex>', 'beacon value, hex')
  .option('--iterations <exp>', 'hash iterations as a power of two (10..63)', int('--iterations', 10, 63), 10)
  .action(async (dir: string, o) => {
    const step = await z.ceremonyBeacon(dir, { beacon: o.beacon, iterationsExp: o.iterations, log });
    console.log(`beacon recorded: ${step.file}; contribution hash ${step.contributionHash}`);
  });

ceremony
  .command('verify')
  .description('re-check a ceremony: every file against the transcript, every contribution against the circuit and the ptau')
  .argument('<dir>', 'ceremony folder')
  .option('--json', 'print the result as JSON')
  .action(async (dir: string, o) => {
    const r = await z.ceremonyVerify(dir, log);
    if (o.json) console.log(JSON.stringify(r, null, 2));
    else console.log(r.valid ? `ceremony valid: ${r.contributions} contribution(s); verifying key hash ${r.vkHash}` : `ceremony INVALID: ${r.problems.join('; ')}`);
    if (!r.valid) process.exitCode = 1;
  });

ceremony
  .command('finalize')
  .description('verify the ceremony and install its final key in the build; prints the verifying key\'s hash')
  .argument('<dir>', 'ceremony folder')
  .requiredOption('--build <dir>', 'the build the ceremony is for')
  .action(async (dir: string, o) => {
    const r = await z.ceremonyFinalize(dir, o.build, log);
    console.log(`keys installed in ${o.build} after ${r.contributions} contribution(s); verifying key hash ${r.vkHash}`);
  });

program
  .command('inspect')
  .description('print a build\'s constraints per op, widths and accuracy')
  .argument('<build>', 'build folder')
  .action(async (build: string) => {
    const { manifest: m } = loadBuild(build);
    console.log(`model ${m.model.source} (sha256 ${m.model.sha256.slice(0, 16)}), circuit ${m.circuit.sha256.slice(0, 16)}`);
    if (m.prequantized) {
      console.log('int8 model: its own quantization, proved exactly (QuantizeLinear on the host; every requantization in the circuit)');
      for (const i of m.inputs) console.log(`input ${i.name} [${i.shape}]: quantized by the model's QuantizeLinear (scale ${i.scale ?? 'per element'}), any float accepted (saturates to [${i.floatMin}, ${i.floatMax}])`);
      console.log(`output: dequantized as the model's DequantizeLinear does${m.output.postprocess ? `, then ${m.output.postprocess} outside the circuit` : ''}`);
    } else {
      for (const i of m.inputs) console.log(`input ${i.name} [${i.shape}]: scale ${i.scale !== undefined ? `${fmt(i.scale, 6)} (not a power of two: folded into the first layer's weights)` : `2^-${i.frac}`}, accepted range [${i.floatMin}, ${i.floatMax}]`);
      console.log(`output scale 2^-${m.output.frac}${m.output.postprocess ? `, then ${m.output.postprocess} outside the circuit` : ''}`);
    }
    if (m.batch) console.log(`batched: up to ${m.batch.size} inferences per proof (item tree of depth ${m.batch.depth}); the per-op costs below are one inference's`);
    for (const a of m.approximations) {
      const effect = a.effect ? `; the model with it exact: ${a.effect.decisionAgreement !== undefined ? `agreement ${percent(a.effect.decisionAgreement)}, ` : ''}relative error ${fmt(a.effect.relativeError * 100, 2)}% (as built: see accuracy below)` : '';
      console.log(`${a.fn} (${a.op}): piecewise-linear, max error ${a.maxError.toExponential(2)}${a.range ? ` on [${fmt(a.range[0], 4)}, ${fmt(a.range[1], 4)}] (measured at compile time; saturates outside its domain)` : ''}${effect}`);
    }
    if (!m.prequantized) console.log(`precision: input ${m.quant.inputBits}, weight ${m.quant.weightBits}, activation ${m.quant.activationBits} bits${m.precision ? ` (planned in ${m.precision.length} trials; defaults: ${m.precision[0].constraints} constraints by formula)` : ''}`);
    const formula = m.circuit.costs.reduce((a, c) => a + c.nonLinear, 0);
    const pct = (n: number) => `${((n / Math.max(1, formula)) * 100).toFixed(1)}%`;
    const floor = m.circuit.costs.reduce((a, c) => a + c.floor, 0);
    console.log('\nper op (non-linear constraints by formula; floor: bits that must be decomposed)');
    console.log(table(['op', 'from', 'non-linear', 'floor', 'linear'], m.circuit.costs.map((c) => [c.kind, c.source, c.nonLinear, c.floor, c.linear])));
    const kinds = new Map<string, { n: number; floor: number; ops: number }>();
    for (const c of m.circuit.costs) {
      const k = kinds.get(c.kind) ?? { n: 0, floor: 0, ops: 0 };
      kinds.set(c.kind, { n: k.n + c.nonLinear, floor: k.floor + c.floor, ops: k.ops + 1 });
    }
    console.log('\nper op kind');
    console.log(table(['kind', 'ops', 'non-linear', 'share', 'floor'], [...kinds].sort((a, b) => b[1].n - a[1].n).map(([k, v]) => [k, v.ops, v.n, pct(v.n), v.floor])));
    console.log(`\ntotal: ${m.circuit.constraints} constraints after circom --O2 (formula: ${formula} non-linear), ${m.circuit.wires} wires, ${m.circuit.publicSignals} public signals (${m.circuit.publicLayout.map((e) => `${e.group}[${e.size}]`).join(', ')})`);
    console.log(`visibility: input ${m.visibility.input}, output ${m.visibility.output}, weights ${m.visibility.weights}${m.weightsCommitment ? `; weights commitment ${m.weightsCommitment}` : ''}`);
    console.log(`lower bound at this precision: ${floor} (the decomposed bits); gap ${formula - floor} (${pct(formula - floor)}) is selection and ReLU products`);
    console.log(`statement (recipient binding, commitments, nullifier; not in the per-op formula): about ${Math.max(0, m.circuit.constraints - formula)} constraints`);
    const keys = buildPaths(build).setup;
    if (existsSync(keys)) {
      const r = JSON.parse(readFileSync(keys, 'utf8')) as SetupRecord;
      console.log(`keys: from ${r.ptau.source === 'dev' ? 'an INSECURE dev' : 'the ceremony'} ptau 2^${r.ptau.power} (${r.ptau.file}), ${r.phase2Contributions} phase-2 contribution(s)${r.ceremony ? ` (ceremony ${r.ceremony})` : ''}, zkey sha256 ${r.zkeySha256.slice(0, 16)}`);
    } else if (!existsSync(buildPaths(build).vkey)) {
      console.log('keys: none yet (run `zkml setup`)');
    }
    if (existsSync(buildPaths(build).vkey)) console.log(`provenance: ${z.describeProvenance(await z.keyProvenance(build))}`);
    console.log(verifierLine(build, m.circuit.publicSignals, m.visibility.weights === 'hashed'));
    console.log(`accuracy (${m.accuracy.task}) on ${m.accuracy.samples} samples: decision agreement ${percent(m.accuracy.decisionAgreement)}, relative error ${fmt(m.accuracy.relativeError * 100, 2)}%; max |error| per output ${vector(m.accuracy.maxAbsError)}`);
  });

program
  .command('bench')
  .description('measure the benchmark suite, or your own models: constraints, compile/setup/witness/prove/verify times, throughput, gas, memory; writes bench/results.json, results.md and SVG charts')
  .argument('[targets...]', 'your own models instead of the suite: ONNX files (with --calibration) or build folders (with --samples)')
  .option('--models <list>', 'comma-separated bundled suite models, or "all" (default without targets: all but the 2^16 scaling member)')
  .option('-c, --calibration <file>', 'calibration samples for the ONNX targets')
  .option('-t, --test <file>', 'test samples for the ONNX targets\' accuracy (default: the calibration samples)')
  .option('--samples <file>', 'inputs to prove (default: the test samples, else the calibration samples); needed for build folders')
  .option('--input-range <spec>', 'compile --input-range for the ONNX targets')
  .option('--out <dir>', 'output folder', join('bench'))
  .option('--proofs <n>', 'in-process proofs timed per model (p50/p95)', int('--proofs', 1, 10_000), 20)
  .option('--setup16', 'also time a 2^16 circuit from an empty ptau cache to a proof verified on-chain')
  .option('--no-cold-start', 'skip the cold-start measurement')
  .option('--timeout <s>', 'seconds one measurement (a model, the cold start) may take before it is killed and reported', int('--timeout', 1, 86_400), 1800)
  .action(async (paths: string[], o) => {
    const { runBench } = await import('../bench/run.js');
    const { suite } = await import('../bench/suite.js');
    const models = o.models === undefined ? undefined : o.models === 'all' ? suite.map((s) => s.name) : String(o.models).split(',');
    const targets = paths.map((p) => benchTarget(p, o));
    await runBench({ models, targets: targets.length ? targets : undefined, out: o.out, proofs: o.proofs, setup16: o.setup16, coldStart: o.coldStart, timeoutS: o.timeout, log });
  });

program
  .command('bench-modes')
  .description('every bundled model under each privacy mode through the registry on a local JSON-RPC node; writes bench/modes.json, modes.md, modes_gas.svg')
  .option('--models <list>', 'comma-separated bundled models (default: all)')
  .option('--out <dir>', 'output folder', 'bench')
  .action(async (o) => {
    const { runModesBench, modesMarkdown } = await import('../bench/modes.js');
    const results = await runModesBench({ models: o.models?.split(','), out: o.out, log });
    console.log(modesMarkdown(results));
  });

program
  .command('bench-batch')
  .description('inferences per proof: the digits MLP and CNN at batch sizes 1, 8, 32, 128 on a 2-worker pool and a local JSON-RPC node (constraints, prove time per inference, gas per inference, cost of reading one item); writes bench/batch.json, batch.md, batch_gas.svg')
  .option('--models <list>', 'comma-separated bundled models', 'digits_mlp,digits_cnn')
  .option('--sizes <list>', 'comma-separated batch sizes', '1,8,32,128')
  .option('--max-constraints <n>', 'skip builds above this many constraints (default 1,040,000: up to 2^20 keys, which take minutes to make here)', int('--max-constraints', 1, 100_000_000))
  .option('--service-job <n>', 'also prove one job of n inputs through the proving service on the first model at N = 32, every stored result verified (0: none)', int('--service-job', 0, 100_000), 1000)
  .option('--out <dir>', 'output folder', 'bench')
  .action(async (o) => {
    const { runBatchBench, batchMarkdown } = await import('../bench/batch.js');
    const sizes = String(o.sizes).split(',').map((v) => int('--sizes', 1, z.MAX_BATCH)(v.trim()));
    const { rows, service } = await runBatchBench({ models: o.models.split(','), sizes, maxConstraints: o.maxConstraints, out: o.out, log, serviceJob: o.serviceJob ? { model: o.models.split(',')[0], batchSize: sizes.includes(32) ? 32 : sizes.at(-1)!, inputs: o.serviceJob } : false });
    console.log(batchMarkdown(rows, service));
  });

program
  .command('bench-browser')
  .description('prove time in Chromium (the zkml/browser bundle, served by `zkml web`) against Node, with every core and on one thread, and the bundle size; writes bench/browser.json, browser.md, browser.svg')
  .option('--models <list>', 'comma-separated bundled models', 'iris_mlp,breast_cancer_logreg,digits_mlp,digits_cnn')
  .option('--runs <n>', 'proofs measured per model and setting (after a warm-up)', int('--runs', 1, 1000), 5)
  .option('--chromium <path>', 'Chromium executable (default: ZKML_CHROMIUM, else /usr/bin/chromium)')
  .option('--out <dir>', 'output folder', 'bench')
  .action(async (o) => {
    const { runBrowserBench, browserMarkdown } = await import('../bench/browser.js');
    const result = await runBrowserBench({ models: o.models.split(','), runs: o.runs, chromium: o.chromium, out: o.out, log });
    console.log(browserMarkdown(result));
  });

program
  .command('bench-int8')
  .description("the bundled int8 models (PyTorch QDQ, and onnxruntime's QOperator fusion of each) against their float models compiled by zkml's quantizer: constraints, fidelity to onnxruntime, setup, prove time and verifier gas; writes bench/int8.json and int8.md")
  .option('--max-constraints <n>', 'prove only builds up to this many constraints', int('--max-constraints', 1, 10_000_000), 300_000)
  .option('--out <dir>', 'output folder', 'bench')
  .action(async (o) => {
    const { runInt8Bench, int8Markdown } = await import('../bench/int8.js');
    console.log(int8Markdown(await runInt8Bench({ out: o.out, maxConstraints: o.maxConstraints, log })));
  });

program
  .command('bench-service')
  .description('load test of the proving service on 127.0.0.1: N jobs through the HTTP API (embedded store, then Redis with two worker processes), every proof verified; writes bench/service.json and service.md')
  .option('--model <name>', 'bundled model', 'digits_mlp')
  .option('--jobs <n>', 'single-input jobs per run', int('--jobs', 1, 100_000), 500)
  .option('--out <dir>', 'output folder', 'bench')
  .action(async (o) => {
    const { runServiceBench, serviceMarkdown } = await import('../bench/service.js');
    const runs = await runServiceBench({ model: o.model, jobs: o.jobs, out: o.out, log });
    console.log(serviceMarkdown(o.model, runs));
  });

/** A `zkml bench` target from the command line: an ONNX file (needs --calibration) or a build folder. */
function benchTarget(path: string, o: { calibration?: string; test?: string; samples?: string; inputRange?: string }) {
  const abs = resolve(path);
  const name = basename(abs).replace(/\.onnx$/i, '') === 'model' ? basename(dirname(abs)) : basename(abs).replace(/\.onnx$/i, '');
  if (existsSync(buildPaths(abs).manifest)) return { name, build: abs, ...(o.samples ? { samples: resolve(o.samples) } : {}) };
  if (!existsSync(abs)) throw new InvalidArgumentError(`${path} does not exist (expected an ONNX model or a build folder)`);
  if (!o.calibration) throw new InvalidArgumentError(`${path}: an ONNX target needs --calibration <samples>`);
  const opt = (f?: string) => (f ? resolve(f) : undefined);
  return { name, onnx: abs, calibration: resolve(o.calibration), ...(o.test ? { test: opt(o.test) } : {}), ...(o.samples ? { samples: opt(o.samples) } : {}), ...(o.inputRange ? { inputRange: o.inputRange } : {}) };
}

/** Resolves on the first SIGINT or SIGTERM: long-running commands shut down gracefully on either. */
const stopSignal = () =>
  new Promise<string>((resolveStop) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolveStop(sig));
  });

program
  .command('serve')
  .description('the proving service: an HTTP API (OpenAPI at /openapi.json, metrics at /metrics) over a persistent job queue')
  .argument('[builds...]', 'build folders, or folders of builds (each served under its folder name)', [join('artifacts', 'build')])
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--port <n>', 'port (0: any free port)', int('--port', 0, 65535), 8080)
  .option('-w, --workers <n>', 'proving threads (embedded store)', int('--workers', 1, 64), 2)
  .option('--store <dir>', 'folder of the embedded job store (survives restarts)', join('artifacts', 'jobs'))
  .option('--redis <url>', 'queue jobs on BullMQ on this Redis instead; `zkml worker --redis` processes prove them')
  .option('--max-queue <n>', 'proofs that may wait; past it, new jobs get 429', int('--max-queue', 1, 10_000_000), 10_000)
  .option('--max-attempts <n>', 'proving attempts per input before it fails (crashes, time limits, restarts)', int('--max-attempts', 1, 100), 3)
  .option('--proof-timeout <ms>', 'time limit of one proving attempt (default and cap of a job\'s timeoutMs)', int('--proof-timeout', 1, 86_400_000), 300_000)
  .option('--body-limit <MiB>', 'largest request body', nonNegative, 8)
  .option('--drain-timeout <ms>', 'on SIGTERM/SIGINT: how long running proofs may finish before they go back to the queue', int('--drain-timeout', 0, 3_600_000), 30_000)
  .option('--rpc <url>', 'JSON-RPC node for POST /v1/submit (models deployed and registered there with `zkml deploy`/`register`)')
  .option('--private-key <hex>', 'signer for --rpc (default: ZKML_PRIVATE_KEY, else the node\'s first account)')
  .option(INSECURE_DEV_KEYS, insecureHelp.serve)
  .option('--api-keys <file>', 'API keys file (`zkml api-key create`): every route but /health and /openapi.json needs a key')
  .option('--insecure-no-auth', 'no API keys: anyone who can reach the port may prove, read every job and submit on-chain with the service\'s key; loopback hosts only')
  .option('--retention <duration>', 'delete finished jobs (inputs, salts, results) this long after they finish: 500ms, 45s, 30m, 12h, 7d; 0 or forever keeps them', '7d')
  .action(async (builds: string[], o) => {
    const { parseDuration, startService } = await import('../service/service.js');
    let retentionMs: number;
    try {
      retentionMs = parseDuration(o.retention);
    } catch (err) {
      throw new InvalidArgumentError(`--retention: ${(err as Error).message}`);
    }
    const service = await startService({
      apiKeys: o.apiKeys,
      insecureNoAuth: o.insecureNoAuth,
      retentionMs,
      builds,
      host: o.host,
      port: o.port,
      workers: o.workers,
      store: o.store,
      redis: o.redis,
      maxQueue: o.maxQueue,
      maxAttempts: o.maxAttempts,
      proofTimeoutMs: o.proofTimeout,
      bodyLimitBytes: Math.round(o.bodyLimit * 1024 * 1024),
      rpc: o.rpc ?? process.env.ZKML_RPC,
      privateKey: o.privateKey ?? process.env.ZKML_PRIVATE_KEY,
      insecureDevKeys: o.insecureDevKeys,
      log,
    });
    console.log(JSON.stringify({ event: 'listening', url: service.url }));
    const sig = await stopSignal();
    log(`${sig}: shutting down`);
    await service.close(o.drainTimeout);
    log('stopped');
  });

const apiKey = program.command('api-key').description('API keys of `zkml serve --api-keys <file>`: create (the token is printed once), list, revoke');

apiKey
  .command('create')
  .description('add a key to the file (created if missing, mode 600) and print its token once; only its SHA-256 is stored')
  .requiredOption('-f, --file <file>', 'API keys file')
  .requiredOption('-n, --name <name>', 'who the key is for (letters, digits, . _ @ -)')
  .requiredOption('-s, --scopes <list>', 'comma-separated: prove (create, see, cancel, delete own jobs), read (own jobs\' results, inputs, salts), submit (POST /v1/submit, the service\'s gas), metrics')
  .option('--json', 'print {token, id, name, scopes} as JSON')
  .action(async (o) => {
    const { createApiKey, parseScopes } = await import('../service/auth.js');
    const { token, key } = createApiKey(o.file, { name: o.name, scopes: parseScopes(o.scopes) });
    if (o.json) console.log(JSON.stringify({ token, id: key.id, name: key.name, scopes: key.scopes }));
    else {
      console.log(token);
      log(`key ${key.id} (${key.name}: ${key.scopes.join(', ')}) added to ${o.file}; the token above is shown only now (send it as "Authorization: Bearer <token>")`);
    }
  });

apiKey
  .command('list')
  .description('the keys in the file (never their tokens)')
  .requiredOption('-f, --file <file>', 'API keys file')
  .option('--json', 'print as JSON')
  .action(async (o) => {
    const { readKeyFile } = await import('../service/auth.js');
    const keys = readKeyFile(o.file).keys.map(({ sha256: _hash, ...k }) => k);
    if (o.json) console.log(JSON.stringify(keys, null, 2));
    else console.log(table(['id', 'name', 'scopes', 'created', 'revoked'], keys.map((k) => [k.id, k.name, k.scopes.join(','), k.createdAt, k.revokedAt ?? ''])));
  });

apiKey
  .command('revoke')
  .description('revoke a key (by id, or the name of an active key); a running service refuses it from its next request')
  .argument('<key>', 'key id (key_...) or name')
  .requiredOption('-f, --file <file>', 'API keys file')
  .action(async (idOrName: string, o) => {
    const { revokeApiKey } = await import('../service/auth.js');
    const key = revokeApiKey(o.file, idOrName);
    console.log(`revoked ${key.id} (${key.name}) at ${key.revokedAt}`);
  });

program
  .command('worker')
  .description('prove jobs queued on Redis (BullMQ) by `zkml serve --redis`, on this machine\'s own worker pool')
  .argument('[builds...]', 'build folders, or folders of builds (the same builds, by name, as the server\'s)', [join('artifacts', 'build')])
  .requiredOption('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379')
  .option('-w, --workers <n>', 'proving threads', int('--workers', 1, 64), 2)
  .option('--lock-duration <ms>', 'how long an item stays locked to this process without renewal (after a crash, the time before others take it over)', int('--lock-duration', 1000, 3_600_000), 30_000)
  .option('--max-stalls <n>', 'times an item may be recovered from a dead worker before it fails', int('--max-stalls', 0, 100), 3)
  .option('--drain-timeout <ms>', 'on SIGTERM/SIGINT: how long running proofs may finish', int('--drain-timeout', 0, 3_600_000), 30_000)
  .action(async (builds: string[], o) => {
    const { startRedisWorker } = await import('../service/redis_worker.js');
    const worker = await startRedisWorker({
      url: o.redis,
      builds,
      workers: o.workers,
      lockDurationMs: o.lockDuration,
      maxStalls: o.maxStalls,
      log,
      // One JSON line per proof BullMQ accepted: what an operator (or a test) counts.
      onCompleted: (item, name) => console.log(JSON.stringify({ event: 'completed', item, worker: name })),
    });
    console.log(JSON.stringify({ event: 'ready', worker: worker.name, models: worker.models }));
    const sig = await stopSignal();
    log(`${sig}: finishing running proofs`);
    await worker.close(o.drainTimeout);
    log('stopped');
  });

async function main() {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof ZkmlError || err instanceof InvalidArgumentError) {
      console.error(`error: ${err.message}`);
      process.exitCode = err instanceof InvalidArgumentError ? 2 : 1;
    } else {
      console.error(err);
      process.exitCode = 70;
    }
  } finally {
    await releaseCurves();
  }
}

await main();

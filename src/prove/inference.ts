/**
 * Proving, given a build's parts already in memory: quantize, run the float model, compute the
 * witness, prove, and check the proof's public signals against the integer reference. Nothing
 * here reads files or uses Node: the Node prover (./prover.ts) and the browser's worker
 * (src/browser/worker.ts) load the parts their own way and share this.
 */
import { WitnessCalculatorBuilder } from 'circom_runtime';
import type { Groth16Proof, PublicSignals } from 'snarkjs';
import { BatchStatement, type BatchItemValues } from '../commit/batch.js';
import { deriveSalts, NO_RECIPIENT, PublicStatement, randomSalt, recipientAddress, type Salts, type StatementParams } from '../commit/statement.js';
import { usesSalt } from '../commit/visibility.js';
import type { BuildParts } from '../compile/manifest_types.js';
import { CircuitMismatchError, InvalidInputError } from '../errors.js';
import { decodeOutput, quantizeInput } from '../quant/io.js';
import { referenceOutput } from '../quant/reference.js';
import { writeWtns } from '../r1cs/files.js';
import { synthesize } from '../r1cs/synthesize.js';
import { ProvingKey, wtnsValues } from './groth16.js';

export interface Timings {
  floatMs: number;
  quantizeMs: number;
  witnessMs: number;
  proveMs: number;
  totalMs: number;
  /** The witness calculator used: circom's WASM, its C++ generator where it was built and faster, or the op definitions (r1cs backend). */
  witnessEngine: 'wasm' | 'native' | 'js';
}

/** What one proof run returns, and what proof files hold. */
export interface ProofResult {
  proof: Groth16Proof;
  publicSignals: PublicSignals;
  /** The decoded circuit output (what the proof attests, after any public Softmax), and the float model's output. */
  output: number[];
  outputRaw: string[];
  floatOutput: number[];
  input: number[];
  /**
   * The master salt of salted builds (hashed input or output, private input) and the two salts
   * derived from it (decimal). With the input and output above they open the commitments. They
   * are the prover's secret: share the proof and public signals, not this file, when the input is
   * private; to let someone open the output commitment alone, give them `salts.output` and
   * `outputRaw`.
   */
  salt?: string;
  salts?: { input?: string; output?: string };
  /** The address the proof is bound to (a public signal; 0x000...0: none). */
  recipient: string;
  circuitSha256: string;
  timings: Timings;
}

/** One item of a batch proof: what it proved, and what opens it (src/commit/batch.ts). */
export interface BatchItemResult {
  /** Position in the batch: its leaf in the item tree, its slice of public inputs and outputs. */
  index: number;
  input: number[];
  output: number[];
  outputRaw: string[];
  floatOutput: number[];
  /** The item's master salt and the salts derived from it (committed modes), as in a single proof file. */
  salt?: string;
  salts?: { input?: string; output?: string };
  /** Committed modes: the item's input key (commitment or nullifier), output commitment and path in the batch's tree (decimal; src/commit/batch.ts). */
  inputKey?: string;
  outputCommitment?: string;
  path?: string[];
}

/** What one proof of a batched build returns, and what its proof files hold. */
export interface BatchProofResult {
  proof: Groth16Proof;
  publicSignals: PublicSignals;
  batch: { size: number; count: number; root?: string };
  items: BatchItemResult[];
  recipient: string;
  circuitSha256: string;
  timings: Timings;
}

/**
 * One item of a batch proof together with the proof: a self-contained result that verifies on
 * its own (verify() checks the proof and this item's opening). The service stores one per item.
 */
export interface BatchItemProof extends BatchItemResult {
  proof: Groth16Proof;
  publicSignals: PublicSignals;
  batch: BatchProofResult['batch'];
  recipient: string;
  circuitSha256: string;
  timings: Timings;
}

/** A batch proof split into its items' self-contained results. */
export function itemProofs(r: BatchProofResult): BatchItemProof[] {
  return r.items.map((it) => ({ ...it, proof: r.proof, publicSignals: r.publicSignals, batch: r.batch, recipient: r.recipient, circuitSha256: r.circuitSha256, timings: r.timings }));
}

export interface ProveOptions {
  /** Master salt of salted builds; random when absent. */
  salt?: bigint;
  /** The address the proof is bound to (see parseRecipient); none when absent. */
  recipient?: bigint;
  /** Told as each stage of the proof starts (a progress display). */
  onStage?: (stage: ProveStage) => void;
}

/** The stages of one proof, in order. */
export type ProveStage = 'quantize' | 'float' | 'witness' | 'prove' | 'check';

/** Computes a build's witness file from its input signals. */
export interface Witnesses {
  calculateWTNSBin(signals: Record<string, unknown>, sanityCheck: boolean): Promise<Uint8Array>;
}

/** The float model a build was compiled from, run on one input (diagnostic: the proof does not depend on it). */
export interface FloatRunner {
  run(input: readonly number[]): Promise<number[]>;
}

/**
 * The witness calculator of a build: circom's witness WASM (its bytes), or for builds made with the
 * r1cs backend the op definitions themselves (every constraint checked).
 */
export async function witnessesOf(build: BuildParts, circomWasm: () => Uint8Array | Promise<Uint8Array>): Promise<Witnesses> {
  if (build.manifest.circuit.backend !== 'r1cs') return WitnessCalculatorBuilder(await circomWasm());
  const { circuit } = build.manifest;
  return {
    calculateWTNSBin: async (signals) => {
      const { cs } = synthesize(build.program, build.manifest.visibility, signals as Record<string, string | string[]>, false, build.manifest.batch?.size);
      // The witness comes from program.json and this zkml's op definitions, not from an artifact made
      // with model.r1cs: if they no longer build the same circuit, stop before proving.
      if (cs.wires !== circuit.wires || cs.count !== circuit.constraints) {
        throw new CircuitMismatchError(`the witness has ${cs.wires} wires and ${cs.count} constraints, the build's R1CS ${circuit.wires} and ${circuit.constraints}: program.json or zkml changed since compile; recompile the model`);
      }
      return writeWtns(cs.values);
    },
  };
}

export { CircuitMismatchError };

const saltStrings = (s: Salts) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, String(v)]));

/** What an InferenceProver is made of. */
export interface ProverParts {
  /** The build, as messages name it (its folder, or its URL). */
  name: string;
  build: BuildParts;
  key: ProvingKey;
  witness: Witnesses;
  /** Absent: proofs carry no float output (floatOutput is empty). */
  float?: FloatRunner;
  statement: PublicStatement;
  engine: Timings['witnessEngine'];
  singleThread: boolean;
}

/**
 * Everything needed to prove for one build, loaded once: the witness calculator, the proving key
 * and, optionally, the float model. One instance serves many inputs.
 */
export class InferenceProver {
  readonly name: string;
  readonly build: BuildParts;
  protected readonly parts: ProverParts;

  constructor(parts: ProverParts) {
    this.parts = parts;
    this.name = parts.name;
    this.build = parts.build;
  }

  /** Builds the parts that depend only on the build: the witness calculator and the statement. */
  static async partsOf(name: string, build: BuildParts, key: ProvingKey, circomWasm: () => Uint8Array | Promise<Uint8Array>, options: { float?: FloatRunner; singleThread?: boolean } = {}): Promise<ProverParts> {
    const { manifest } = build;
    return {
      name,
      build,
      key,
      witness: await witnessesOf(build, circomWasm),
      float: options.float,
      statement: await PublicStatement.for(build.program, manifest.visibility, manifest.circuit.publicLayout),
      engine: manifest.circuit.backend === 'r1cs' ? 'js' : 'wasm',
      singleThread: options.singleThread ?? false,
    };
  }

  /** Inferences per proof: 1, or a batched build's size. */
  get batchSize(): number {
    return this.build.manifest.batch?.size ?? 1;
  }

  private async floatOf(input: readonly number[]): Promise<number[]> {
    return this.parts.float ? this.parts.float.run(input) : [];
  }

  /** The witness file for one proof's input signals, and the engine that computed it (the Node prover may use circom's C++ generator). */
  protected async witnessOf(signals: Record<string, unknown>): Promise<{ wtns: Uint8Array; engine: Timings['witnessEngine'] }> {
    return { wtns: await this.parts.witness.calculateWTNSBin(signals, true), engine: this.parts.engine };
  }

  /**
   * Proves up to batchSize inputs in one proof of a batched build. `salts` are the items' master
   * salts (committed modes; default: random each); `recipient` binds the whole batch.
   */
  async proveBatch(inputs: readonly (readonly number[])[], options: { salts?: readonly bigint[]; recipient?: bigint } = {}): Promise<BatchProofResult> {
    const { program, manifest } = this.build;
    if (!manifest.batch) throw new InvalidInputError(`${this.name} proves one input per proof; compile with --batch-size to prove several at once`);
    if (inputs.length < 1 || inputs.length > manifest.batch.size) throw new InvalidInputError(`a proof of this build holds 1 to ${manifest.batch.size} inputs; got ${inputs.length}`);
    if (options.salts && options.salts.length !== inputs.length) throw new InvalidInputError(`${options.salts.length} salts for ${inputs.length} inputs`);
    const t0 = performance.now();
    const qs = inputs.map((x, i) => {
      try {
        return quantizeInput(program, x);
      } catch (err) {
        if (err instanceof InvalidInputError) throw new InvalidInputError(`input ${i} of the batch: ${err.message}`);
        throw err;
      }
    });
    const outs = qs.map((q) => referenceOutput(program, q));
    const t1 = performance.now();
    const floats: number[][] = [];
    for (const x of inputs) floats.push(await this.floatOf(x));
    const t2 = performance.now();
    const salted = usesSalt(manifest.visibility);
    const masters = salted ? (options.salts ?? inputs.map(() => randomSalt())) : [];
    const items: BatchItemValues[] = await Promise.all(qs.map(async (q, i) => ({ q, out: outs[i], salts: salted ? await deriveSalts(manifest.visibility, masters[i]) : {} })));
    const recipient = options.recipient ?? NO_RECIPIENT;
    const statement = new BatchStatement(this.parts.statement, manifest.batch.size, manifest.circuit.publicLayout);
    const { wtns, engine } = await this.witnessOf(statement.circuitInputs(items, recipient));
    const t3 = performance.now();
    const { proof, publicSignals } = await this.parts.key.prove(wtnsValues(wtns), this.parts.singleThread);
    const t4 = performance.now();
    const committed = manifest.visibility.output === 'hashed';
    const tree = committed ? await statement.tree(items) : undefined;
    this.checkSignals(publicSignals, await statement.publicSignals(items, recipient, tree));
    const openings = tree?.openings ?? [];
    return {
      proof,
      publicSignals,
      batch: { size: manifest.batch.size, count: inputs.length, ...(committed ? { root: publicSignals[0] } : {}) },
      items: items.map((it, index) => ({
        index,
        input: [...inputs[index]],
        output: decodeOutput(program, outs[index]),
        outputRaw: outs[index].map(String),
        floatOutput: floats[index],
        ...(salted ? { salt: String(masters[index]), salts: saltStrings(it.salts) } : {}),
        ...(committed ? { inputKey: openings[index].inputKey, outputCommitment: openings[index].outputCommitment, path: openings[index].path } : {}),
      })),
      recipient: recipientAddress(recipient),
      circuitSha256: manifest.circuit.sha256,
      timings: { quantizeMs: t1 - t0, floatMs: t2 - t1, witnessMs: t3 - t2, proveMs: t4 - t3, totalMs: t4 - t0, witnessEngine: engine },
    };
  }

  /** The circuit's public signals must be what the integer reference and circomlibjs say. */
  private checkSignals(got: PublicSignals, want: readonly string[]): void {
    want.forEach((v, i) => {
      if (got[i] !== v) {
        const group = this.build.manifest.circuit.publicLayout.find((e) => i >= e.offset && i < e.offset + e.size)!.group;
        throw new CircuitMismatchError(`public signal ${i} (${group}) = ${got[i]} differs from the reference ${v}`);
      }
    });
  }

  /**
   * Proves one input. `salt` is the master salt of salted builds (default: random); `recipient`
   * the address the proof is bound to (default: none).
   */
  async prove(input: readonly number[], options: ProveOptions = {}): Promise<ProofResult> {
    const { program, manifest } = this.build;
    if (manifest.batch) throw new InvalidInputError(`${this.name} is a batched build (${manifest.batch.size} inputs per proof): prove with proveBatch (\`zkml prove --batch\`)`);
    const stage = options.onStage ?? (() => {});
    const t0 = performance.now();
    stage('quantize');
    // Quantize first: it validates shape, finiteness and range before any heavy work.
    const q = quantizeInput(program, input);
    const expected = referenceOutput(program, q);
    const t1 = performance.now();
    stage('float');
    const floatOutput = await this.floatOf(input);
    const t2 = performance.now();
    stage('witness');
    const salted = usesSalt(manifest.visibility);
    const salt = salted ? (options.salt ?? randomSalt()) : 0n;
    const params: StatementParams = { salts: salted ? await deriveSalts(manifest.visibility, salt) : {}, recipient: options.recipient ?? NO_RECIPIENT };
    const { wtns, engine } = await this.witnessOf(this.parts.statement.circuitInputs(q, params));
    const t3 = performance.now();
    stage('prove');
    const { proof, publicSignals } = await this.parts.key.prove(wtnsValues(wtns), this.parts.singleThread);
    const t4 = performance.now();
    stage('check');
    this.checkSignals(publicSignals, await this.parts.statement.publicSignals(q, expected, params));
    return {
      proof,
      publicSignals,
      output: decodeOutput(program, expected),
      outputRaw: expected.map(String),
      floatOutput,
      input: [...input],
      ...(salted ? { salt: String(salt), salts: saltStrings(params.salts) } : {}),
      recipient: recipientAddress(params.recipient),
      circuitSha256: manifest.circuit.sha256,
      timings: { quantizeMs: t1 - t0, floatMs: t2 - t1, witnessMs: t3 - t2, proveMs: t4 - t3, totalMs: t4 - t0, witnessEngine: engine },
    };
  }
}

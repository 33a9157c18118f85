import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WitnessCalculatorBuilder } from 'circom_runtime';
import { generateCircuit } from '../../src/circuit/codegen.js';
import { runCircom } from '../../src/compile/circom.js';
import { decodeModel, importGraph } from '../../src/onnx/import.js';
import { onnx } from '../../src/onnx/proto.js';
import { readTensor } from '../../src/onnx/tensor.js';
import { toField } from '../../src/prove/field.js';
import { decodeOutput, quantizeInput } from '../../src/quant/io.js';
import type { QuantConfig } from '../../src/quant/program.js';
import { quantize } from '../../src/quant/quantize.js';
import { isQuantizedGraph, quantizeQdq } from '../../src/quant/qdq.js';
import { referenceOutput } from '../../src/quant/reference.js';
import { scratchDir } from './fixtures.js';
import { crossCheck, nonLinear } from './r1cs_backend.js';
import { programCosts } from '../../src/quant/bounds.js';
import { synthesize } from '../../src/r1cs/synthesize.js';

/** Cases whose circuit has more non-linear constraints than this skip circom (see runCase). */
const CIRCOM_LIMIT = 100_000;
import { defaultVisibility } from '../../src/commit/visibility.js';

export const TESTDATA = '/usr/share/libonnx-testdata/data';

export interface CaseResult {
  name: string;
  ok: boolean;
  reason?: string;
  maxError?: number;
  tolerance?: number;
  constraints?: number;
}

/** Conformance settings: finer than the defaults, since test inputs are random normals. */
const config: QuantConfig = { inputBits: 14, weightBits: 14, activationBits: 16, inputMargin: 0 };

function readPb(file: string) {
  return readTensor(onnx.TensorProto.decode(readFileSync(file)), file);
}

/**
 * Runs one ONNX backend test case through the whole path. The first `computed` graph inputs stay
 * inputs of the circuit; the others (weights, shapes, slopes) become initializers with the test's
 * values, as they would be in an exported model.
 */
export async function runCase(dir: string, computed: number | number[] = 1, exact = false): Promise<CaseResult> {
  const isComputed = (k: number) => (Array.isArray(computed) ? computed.includes(k) : k < computed);
  const name = dir.split('/').slice(-2).join('/');
  try {
    const model = decodeModel(readFileSync(join(dir, 'model.onnx')), name);
    // Only output_0 is compared: a multi-output case (Split, LayerNorm's Mean) proves its first output.
    model.graph!.output = (model.graph!.output ?? []).slice(0, 1);
    const data = join(dir, 'test_data_set_0');
    const inits = new Set((model.graph!.initializer ?? []).map((t) => t.name));
    const graphInputs = (model.graph!.input ?? []).filter((i) => !inits.has(i.name));
    const values: number[] = [];
    graphInputs.forEach((input, k) => {
      const file = join(data, `input_${k}.pb`);
      if (!existsSync(file)) return;
      const t = onnx.TensorProto.decode(readFileSync(file));
      if (isComputed(k)) {
        for (const v of readPb(file).data) values.push(v);
      } else {
        t.name = input.name!;
        model.graph!.initializer = [...(model.graph!.initializer ?? []), t];
      }
    });
    const expected = readPb(join(data, 'output_0.pb'));
    const graph = importGraph(model, name);
    // An int8 model's own quantization is proved as it is, and must match bit for bit.
    const program = isQuantizedGraph(graph) ? quantizeQdq(graph) : quantize(graph, [values], config);
    const q = quantizeInput(program, values);
    const reference = referenceOutput(program, q);
    const signals = { in: q.map(String), recipient: '0' };
    let constraints: number;
    if (programCosts(program).reduce((a, c) => a + c.nonLinear, 0) > CIRCOM_LIMIT) {
      // A large case (a 3x32x32 input) through the r1cs backend alone: each of its ops is compared
      // with circom on the smaller cases of its group, and this keeps the suite's time in bounds.
      const s = synthesize(program, defaultVisibility, signals, true);
      for (let i = 0; i < reference.length; i++) {
        if (s.cs.values[1 + i] !== toField(reference[i])) return { name, ok: false, reason: `circuit output ${i} differs from the integer reference` };
      }
      constraints = nonLinear(s.cs.constraints);
    } else {
      const circuit = generateCircuit(program);
      const build = scratchDir('conformance');
      writeFileSync(join(build, 'model.circom'), circuit.source);
      const stats = await runCircom(build, 'model.circom', ['--r1cs', '--wasm']);
      const wc = await WitnessCalculatorBuilder(readFileSync(join(build, 'model_js', 'model.wasm')));
      const w = await wc.calculateWitness(signals, true);
      for (let i = 0; i < reference.length; i++) {
        if (w[1 + i] !== toField(reference[i])) return { name, ok: false, reason: `circuit output ${i} differs from the integer reference` };
      }
      const differs = crossCheck(program, defaultVisibility, signals, stats.nonLinear, w);
      if (differs) return { name, ok: false, reason: differs };
      constraints = stats.nonLinear;
    }
    const got = decodeOutput(program, reference);
    if (got.length !== expected.data.length) return { name, ok: false, reason: `${got.length} outputs, expected ${expected.data.length}` };
    if (exact) {
      const k = got.findIndex((v, i) => v !== expected.data[i]);
      return { name, ok: k < 0, maxError: k < 0 ? 0 : Math.abs(got[k] - expected.data[k]), tolerance: 0, constraints, ...(k >= 0 ? { reason: `output ${k} is ${got[k]}, expected exactly ${expected.data[k]}` } : {}) };
    }
    // Tolerance from the quantization: 16 steps of the relative precision the inputs were quantized
    // to (2^-(inputBits-1)), at the magnitude of the values involved, plus the stated error of any
    // approximated non-linearity (sigmoid, tanh).
    const magnitude = [...expected.data, ...values].reduce((a, v) => Math.max(a, Math.abs(v)), 1);
    const tolerance = 16 * 2 ** -(config.inputBits - 1) * magnitude + program.approximations.reduce((a, x) => a + x.maxError, 0);
    const maxError = got.reduce((a, v, i) => Math.max(a, Math.abs(v - expected.data[i])), 0);
    return { name, ok: maxError <= tolerance, maxError, tolerance, constraints, ...(maxError > tolerance ? { reason: `max error ${maxError} > tolerance ${tolerance}` } : {}) };
  } catch (err) {
    return { name, ok: false, reason: (err as Error).message.split('\n')[0] };
  }
}

export function listCases(suite: 'node' | 'pytorch-converted', prefix: RegExp): string[] {
  const root = join(TESTDATA, suite);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => prefix.test(d))
    .sort()
    .map((d) => join(root, d));
}


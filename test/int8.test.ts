import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fuseWithOnnxruntime, int8Fidelity } from '../src/bench/int8_fidelity.js';
import { deployVerifier, verifyOnChain } from '../src/chain/onchain.js';
import { embeddedChain } from '../src/chain/network.js';
import { verifierArtifact } from '../src/chain/verifier.js';
import { compile } from '../src/compile/compile.js';
import type { Manifest } from '../src/compile/manifest.js';
import { readSamples } from '../src/compile/samples.js';
import { InvalidInputError, UnsupportedModelError } from '../src/errors.js';
import { decodeModel, loadOnnx } from '../src/onnx/import.js';
import { modelsDir } from '../src/paths.js';
import { Prover } from '../src/prove/prover.js';
import { decodeOutput, quantizeInput } from '../src/quant/io.js';
import { quantizeQdq } from '../src/quant/qdq.js';
import { quantize } from '../src/quant/quantize.js';
import { referenceOutput } from '../src/quant/reference.js';
import { releaseCurves } from '../src/setup/curve.js';
import { setup } from '../src/setup/setup.js';
import { verify } from '../src/verify/verify.js';
import { scratchDir } from './helpers/fixtures.js';
import { GraphBuilder, rng } from './helpers/onnx_builder.js';
import { rationalRound } from './helpers/rational.js';

const model = (name: string, file = 'model.onnx') => join(modelsDir, name, file);
const test = (name: string) => readSamples(model(name, 'test.json'));
const DEV_KEYS = { insecureDevKeys: true };

/** ONNX element types. */
const UINT8 = 2;
const INT8 = 3;
const INT16 = 5;
const INT32 = 6;

describe('int8 models (issue 19): the model\'s own quantization, proved exactly', () => {
  after(releaseCurves);

  describe('digits CNN int8 (PyTorch FX, fbgemm, QDQ)', () => {
    const name = 'digits_cnn_int8';
    let dir: string;
    let manifest: Manifest;
    before(async () => {
      dir = join(scratchDir('int8'), name);
      manifest = await compile(model(name), { calibration: model(name, 'calibration.json'), test: model(name, 'test.json'), out: dir, task: 'classification' });
    });

    it('compiles without calibration: the model\'s int8 weights, identical outputs to onnxruntime on the held-out samples', () => {
      assert.equal(manifest.prequantized, true);
      assert.equal(manifest.accuracy.samples, 200);
      assert.equal(manifest.accuracy.top1Agreement, 1);
      assert.equal(manifest.accuracy.int8?.identical, 1);
      const program = quantizeQdq(loadOnnx(model(name)));
      // Row-gcd recovery gives back the int8 weights (per-channel symmetric: |w| <= 128).
      const linear = program.ops.filter((o) => o.kind === 'linear');
      assert.equal(linear.length, 3);
      for (const op of linear) assert.ok(op.kind === 'linear' && op.weight.every((w) => w >= -128n && w <= 128n));
      // The max pool climbed above both requantizations: it compares the conv's accumulators.
      const kinds = program.ops.map((o) => o.kind).join(' ');
      assert.match(kinds, /^input linear max requant requant linear requant requant gather linear requant$/);
      assert.ok(manifest.circuit.constraints < 20_000, `${manifest.circuit.constraints} constraints`);
    });

    it('int8 activations and outputs equal onnxruntime\'s element for element, at optimisation disabled and all', async () => {
      for (const level of ['disabled', 'all'] as const) {
        const f = await int8Fidelity(model(name), test(name).inputs, level);
        assert.equal(f.samples, 200);
        assert.equal(f.activations.tensors, 6);
        assert.equal(f.activations.identical, f.activations.total, `${level}: ${JSON.stringify(f.differences)}`);
        assert.equal(f.outputs.identical, f.outputs.total);
        assert.equal(f.top1, 200);
      }
    });

    it('proves, verifies off-chain and on the embedded EVM; a tampered output is rejected', async () => {
      await setup(dir);
      const prover = await Prover.load(dir);
      const x = test(name).inputs[3];
      const proof = await prover.prove(x);
      await prover.close();
      const program = quantizeQdq(loadOnnx(model(name)));
      assert.deepEqual(proof.output, decodeOutput(program, referenceOutput(program, quantizeInput(program, x))));
      const v = await verify(dir, proof, DEV_KEYS);
      assert.equal(v.valid, true, v.reason);
      const tampered = structuredClone({ proof: proof.proof, publicSignals: proof.publicSignals });
      tampered.publicSignals[0] = String(BigInt(tampered.publicSignals[0]) + 1n);
      assert.equal((await verify(dir, tampered, DEV_KEYS)).valid, false);
      const chain = await embeddedChain();
      try {
        const { contract } = await deployVerifier(chain, await verifierArtifact(dir), DEV_KEYS);
        assert.equal((await verifyOnChain(contract, proof.proof, proof.publicSignals)).valid, true);
        assert.equal((await verifyOnChain(contract, tampered.proof, tampered.publicSignals)).valid, false);
      } finally {
        await chain.close();
      }
    });

    it('with the circom backend: the same circuit size, and its witness proves', async () => {
      const circom = join(scratchDir('int8-circom'), name);
      const m = await compile(model(name), { calibration: model(name, 'calibration.json'), out: circom, backend: 'circom' });
      assert.ok(Math.abs(m.circuit.constraints - manifest.circuit.constraints) <= 20, `${m.circuit.constraints} vs ${manifest.circuit.constraints}`);
      await setup(circom);
      const prover = await Prover.load(circom);
      const proof = await prover.prove(test(name).inputs[0]);
      await prover.close();
      assert.equal((await verify(circom, proof, DEV_KEYS)).valid, true);
    });
  });

  it('LeNet-5 int8 on 28x28 (PyTorch FX, QDQ): compiles, and equals onnxruntime on every held-out sample', async () => {
    const name = 'lenet5_int8';
    const m = await compile(model(name), { calibration: model(name, 'calibration.json'), test: model(name, 'test.json'), out: join(scratchDir('int8'), name), task: 'classification' });
    assert.equal(m.accuracy.int8?.identical, 1);
    assert.equal(m.accuracy.top1Agreement, 1);
    assert.ok(m.circuit.constraints < 300_000, `${m.circuit.constraints} constraints`);
    const f = await int8Fidelity(model(name), test(name).inputs, 'disabled');
    assert.equal(f.activations.identical, f.activations.total);
    assert.equal(f.top1, f.samples);
  });

  describe("QOperator form: the models as onnxruntime's quantizer writes them (QLinearConv, com.microsoft QGemm, QLinearAdd, QLinear(Global)AveragePool)", () => {
    it('the digits CNN fused by onnxruntime proves the same outputs as its QDQ form', async () => {
      const file = await fuseWithOnnxruntime(model('digits_cnn_int8'), join(scratchDir('qop'), 'model.onnx'));
      const graph = loadOnnx(file);
      const f = await int8Fidelity(file, test('digits_cnn_int8').inputs, 'all');
      assert.equal(f.outputs.identical, f.outputs.total);
      assert.equal(f.activations.identical, f.activations.total);
      const qop = quantizeQdq(graph);
      const qdq = quantizeQdq(loadOnnx(model('digits_cnn_int8')));
      for (const x of test('digits_cnn_int8').inputs.slice(0, 20)) {
        assert.deepEqual(referenceOutput(qop, quantizeInput(qop, x)), referenceOutput(qdq, quantizeInput(qdq, x)));
      }
    });

    it("the residual CNN's QLinearAdd and average pools: exact rational semantics, which onnxruntime's float32 matches except at rounding ties", async () => {
      const name = 'digits_res_cnn_int8';
      const file = await fuseWithOnnxruntime(model(name), join(scratchDir('qop'), 'model.onnx'));
      const ops = new Set((decodeModel(readFileSync(file), file).graph!.node ?? []).map((n) => n.opType));
      for (const op of ['QLinearConv', 'QLinearAdd', 'QLinearAveragePool', 'QLinearGlobalAveragePool', 'QGemm']) assert.ok(ops.has(op), `onnxruntime wrote no ${op}`);
      for (const f of [await int8Fidelity(model(name), test(name).inputs, 'disabled'), await int8Fidelity(file, test(name).inputs, 'all')]) {
        // Differences start at the 2x2 average pool, whose exact .5 ties float32 resolves either
        // way, and propagate from there: the convolutions and the residual Add agree everywhere.
        const downstream = ['/pool/', '/gap/', '/QuantizeLinear_3', '/fc/'];
        for (const t of Object.keys(f.differingByTensor)) assert.ok(downstream.some((d) => t.startsWith(d)), `${t} differs`);
        assert.ok(f.activations.identical / f.activations.total > 0.998, JSON.stringify(f.activations));
        assert.ok(f.top1 / f.samples >= 0.97, `top-1 ${f.top1}/${f.samples}`);
      }
    });
  });

  it('int8 activations, per-channel weights and an int32 bias (a synthetic QDQ Conv): bit-exact against onnxruntime', async () => {
    const g = new GraphBuilder('x', [1, 1, 5, 5]);
    const next = rng(11);
    // Scales as calibration makes them (not round decimals: with 0.05, 0.01 and 0.07, A / 140 sits
    // within float32's error of k + 1/2 whenever A = 70 (2k + 1), and onnxruntime's float32 rounds
    // those either way).
    const sx = Math.fround(0.0473);
    const sw = [Math.fround(0.01137), Math.fround(0.0219)];
    const q = g.node('QuantizeLinear', ['x', g.init([], [sx]), g.intInit([], [-2], INT8)]);
    const x = g.node('DequantizeLinear', [q, g.init([], [sx]), g.intInit([], [-2], INT8)]);
    const w = g.node('DequantizeLinear', [g.intInit([2, 1, 3, 3], Array.from({ length: 18 }, () => Math.round(next() * 127)), INT8), g.init([2], sw), g.intInit([2], [0, 0], INT8)], { axis: 0 });
    const b = g.node('DequantizeLinear', [g.intInit([2], [1234, -987], INT32), g.init([2], sw.map((s) => Math.fround(sx * s))), g.intInit([2], [0, 0], INT32)], { axis: 0 });
    const conv = g.node('Conv', [x, w, b], { pads: [1, 1, 1, 1] });
    const y = g.node('QuantizeLinear', [conv, g.init([], [Math.fround(0.0691)]), g.intInit([], [5], INT8)]);
    const file = g.save(join(scratchDir('int8-conv'), 'm.onnx'), g.node('DequantizeLinear', [y, g.init([], [Math.fround(0.0691)]), g.intInit([], [5], INT8)]), [1, 2, 5, 5]);
    const samples = Array.from({ length: 50 }, () => Array.from({ length: 25 }, () => next() * 4));
    for (const level of ['disabled', 'all'] as const) {
      const f = await int8Fidelity(file, samples, level);
      assert.equal(f.activations.tensors, 2);
      assert.equal(f.activations.identical, f.activations.total, `${level}: ${JSON.stringify(f.differences)}`);
      assert.equal(f.outputs.identical, f.outputs.total);
    }
    // Saturation at both ends of int8 is reached by these inputs.
    const p = quantizeQdq(loadOnnx(file));
    const outs = samples.flatMap((v) => referenceOutput(p, quantizeInput(p, v)).map(Number));
    assert.ok(outs.includes(-128 - 5) && outs.includes(127 - 5), 'both saturation bounds reached');
  });

  it('ReLU6 (Clip(0, 6)) between a Conv and its QuantizeLinear is the saturation range: no constraint, bit-exact against onnxruntime', async () => {
    const g = new GraphBuilder('x', [1, 1, 5, 5]);
    const next = rng(5);
    const [sx, sw, sy] = [Math.fround(0.0473), Math.fround(0.0219), Math.fround(0.0311)];
    const x = g.node('DequantizeLinear', [g.node('QuantizeLinear', ['x', g.init([], [sx]), g.intInit([], [0], UINT8)]), g.init([], [sx]), g.intInit([], [0], UINT8)]);
    const w = g.node('DequantizeLinear', [g.intInit([1, 1, 3, 3], Array.from({ length: 9 }, () => Math.round(next() * 127)), INT8), g.init([], [sw]), g.intInit([], [0], INT8)]);
    const clip = g.node('Clip', [g.node('Conv', [x, w], { pads: [1, 1, 1, 1] }), g.init([], [0]), g.init([], [6])]);
    const y = g.node('QuantizeLinear', [clip, g.init([], [sy]), g.intInit([], [0], UINT8)]);
    const file = g.save(join(scratchDir('int8-relu6'), 'm.onnx'), g.node('DequantizeLinear', [y, g.init([], [sy]), g.intInit([], [0], UINT8)]), [1, 1, 5, 5]);
    const p = quantizeQdq(loadOnnx(file));
    const requant = p.ops.find((o) => o.kind === 'requant');
    // rne(6 / sy) = 193 bounds the output from above, 0 from below; the rest is the type's range.
    assert.ok(requant?.kind === 'requant' && requant.lo === 0n && requant.hi === BigInt(Math.round(6 / sy)));
    assert.ok(!p.ops.some((o) => o.kind === 'clamp'));
    const samples = Array.from({ length: 50 }, () => Array.from({ length: 25 }, () => (next() + 1) * 6));
    for (const level of ['disabled', 'all'] as const) {
      const f = await int8Fidelity(file, samples, level);
      assert.equal(f.outputs.identical, f.outputs.total, `${level}: ${JSON.stringify(f.differences)}`);
    }
    const outs = samples.flatMap((v) => referenceOutput(p, quantizeInput(p, v)).map(Number));
    assert.ok(outs.includes(0) && outs.includes(Math.round(6 / sy)), 'both ends of the clip reached');
  });

  it('an average whose border divisor (6) can tie: those elements divide exactly (RoundDiv), in circom and R1CS, and prove', async () => {
    // AveragePool 3x3, pads 1, count_include_pad 0: 9 taps inside (no tie: 9 is odd), 6 on the
    // edges (k + 1/2 happens), 4 in the corners (a power of two: RoundShift's ties to even).
    const g = new GraphBuilder('x', [1, 1, 5, 5]);
    const s = Math.fround(0.0473);
    const q = g.node('QuantizeLinear', ['x', g.init([], [s]), g.intInit([], [0], UINT8)]);
    const avg = g.node('AveragePool', [g.node('DequantizeLinear', [q, g.init([], [s]), g.intInit([], [0], UINT8)])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const y = g.node('QuantizeLinear', [avg, g.init([], [s]), g.intInit([], [0], UINT8)]);
    const dir = scratchDir('int8-avg');
    const file = g.save(join(dir, 'm.onnx'), g.node('DequantizeLinear', [y, g.init([], [s]), g.intInit([], [0], UINT8)]), [1, 1, 5, 5]);
    const p = quantizeQdq(loadOnnx(file));
    const requant = p.ops.find((o) => o.kind === 'requant');
    assert.ok(requant?.kind === 'requant' && requant.divisor?.filter((d) => d === 6n).length === 12);
    const next = rng(3);
    const samples = Array.from({ length: 100 }, () => Array.from({ length: 25 }, () => (next() + 1) * 6));
    const taps = (i: number) => [-1, 0, 1].flatMap((dr) => [-1, 0, 1].map((dc) => [Math.floor(i / 5) + dr, (i % 5) + dc])).filter(([r, c]) => r >= 0 && r < 5 && c >= 0 && c < 5);
    let ties = 0;
    for (const x of samples) {
      const c = quantizeInput(p, x);
      const got = referenceOutput(p, c);
      for (let i = 0; i < 25; i++) {
        const t = taps(i);
        const sum = t.reduce((a, [r, col]) => a + c[r * 5 + col], 0n);
        if ((2n * sum) % BigInt(t.length) === 0n && (sum % BigInt(t.length)) !== 0n) ties++;
        assert.equal(got[i], rationalRound(sum, BigInt(t.length), true), `element ${i}`);
      }
    }
    assert.ok(ties > 50, `${ties} ties`);
    const build = join(dir, 'circom');
    const r1cs = await compile(file, { calibration: { inputs: samples.slice(0, 4) }, out: join(dir, 'r1cs') });
    const m = await compile(file, { calibration: { inputs: samples.slice(0, 4) }, out: build, backend: 'circom' });
    assert.ok(Math.abs(m.circuit.constraints - r1cs.circuit.constraints) <= 30, `${m.circuit.constraints} vs ${r1cs.circuit.constraints}`);
    await setup(build);
    const prover = await Prover.load(build);
    const proof = await prover.prove(samples[5]);
    await prover.close();
    assert.equal((await verify(build, proof, DEV_KEYS)).valid, true);
  });

  describe('refusals name the problem', () => {
    /** x -> QuantizeLinear -> DequantizeLinear -> (op) -> output, with a uint8 zero point. */
    const qdq = (configure: (g: GraphBuilder, dq: string) => string, zeroType = UINT8, attrs: Record<string, number> = {}) => {
      const g = new GraphBuilder('x', [1, 4]);
      const scale = g.init([], [0.5]);
      const zero = g.intInit([], [3], zeroType);
      const q = g.node('QuantizeLinear', ['x', scale, zero], attrs);
      const y = configure(g, g.node('DequantizeLinear', [q, scale, zero]));
      return g.save(join(scratchDir('int8-bad'), 'm.onnx'), y, [1, 4]);
    };

    it('a round trip Q -> DQ is the host-side QuantizeLinear, bit for bit (ties to even, saturation)', () => {
      const p = quantizeQdq(loadOnnx(qdq((_, dq) => dq)));
      // x / 0.5 = 2.5 -> 2 (even), -1.25 -> -2 (even: -2.5), 1000 saturates at 255, -1000 at 0.
      const x = [1.25, -1.25, 1000, -1000];
      assert.deepEqual(decodeOutput(p, referenceOutput(p, quantizeInput(p, x))), [(5 - 3) * 0.5, (1 - 3) * 0.5, (255 - 3) * 0.5, (0 - 3) * 0.5]);
    });

    it('blocked quantization, int16 zero points and per-channel zero points of activations', () => {
      assert.throws(() => loadOnnx(qdq((_, dq) => dq, UINT8, { block_size: 2 })), (e: Error) => e instanceof UnsupportedModelError && /block_size/.test(e.message));
      assert.throws(() => loadOnnx(qdq((_, dq) => dq, INT16)), (e: Error) => e instanceof UnsupportedModelError && /uint8 or int8/.test(e.message));
      const perChannel = (() => {
        const g = new GraphBuilder('x', [1, 2, 2]);
        const q = g.node('QuantizeLinear', ['x', g.init([], [0.5]), g.intInit([], [0], INT8)]);
        const dq = g.node('DequantizeLinear', [q, g.init([], [0.5]), g.intInit([], [0], INT8)]);
        const relu = g.node('Relu', [dq]);
        const q2 = g.node('QuantizeLinear', [relu, g.init([2], [0.5, 0.25]), g.intInit([2], [0, 1], INT8)], { axis: 1 });
        return g.save(join(scratchDir('int8-bad'), 'm.onnx'), g.node('DequantizeLinear', [q2, g.init([2], [0.5, 0.25]), g.intInit([2], [0, 1], INT8)], { axis: 1 }), [1, 2, 2]);
      })();
      assert.throws(() => quantizeQdq(loadOnnx(perChannel)), (e: Error) => e instanceof UnsupportedModelError && /per-channel zero points/.test(e.message));
    });

    it('a float op outside the quantization, calibration settings, and the calibrated quantizer on an int8 graph', async () => {
      const sigmoid = qdq((g, dq) => g.node('Sigmoid', [dq]));
      assert.throws(() => quantizeQdq(loadOnnx(sigmoid)), (e: Error) => e instanceof UnsupportedModelError && /sigmoid is not supported in an int8 model/.test(e.message));
      const quantized = qdq((g, dq) => g.node('Relu', [dq]));
      assert.throws(() => quantize(loadOnnx(quantized), [[0, 0, 0, 0]]), (e: Error) => e instanceof UnsupportedModelError && /own int8 quantization/.test(e.message));
      const options = { calibration: { inputs: [[0, 1, 2, 3]] }, out: join(scratchDir('int8-bad'), 'b') };
      await assert.rejects(compile(quantized, { ...options, inputRange: '0:1' }), (e: Error) => e instanceof InvalidInputError && /--input-range does not apply/.test(e.message));
      await assert.rejects(compile(quantized, { ...options, quant: { weightBits: 8 } }), (e: Error) => e instanceof InvalidInputError && /bit budgets/.test(e.message));
    });
  });
});

import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { generateCircuit } from '../src/circuit/codegen.js';
import { compile } from '../src/compile/compile.js';
import { FieldOverflowError, FixedPointRangeError } from '../src/errors.js';
import { evaluateFloat } from '../src/ir/float_eval.js';
import { loadOnnx } from '../src/onnx/import.js';
import { onnx } from '../src/onnx/proto.js';
import { FloatModel } from '../src/onnx/runtime.js';
import { divDef } from '../src/ops/div.js';
import { divRound, floorSqrt, signedBits, unsignedBits } from '../src/ops/fixed_point.js';
import { pwlDef, pwlTables } from '../src/ops/pwl.js';
import type { DivOp, PwlOp } from '../src/ops/types.js';
import { Prover } from '../src/prove/prover.js';
import { FIELD_MODULUS, fromField, toField } from '../src/prove/field.js';
import { quantizeInput } from '../src/quant/io.js';
import { quantize } from '../src/quant/quantize.js';
import { runReference } from '../src/quant/reference.js';
import { setup } from '../src/setup/setup.js';
import { verify } from '../src/verify/verify.js';
import { modelsDir } from '../src/paths.js';
import { compileSource, setIfPresent, wire, type TestCircuit } from './helpers/circuit.js';
import { scratchDir } from './helpers/fixtures.js';
import { maxDifference, randomInputs } from './helpers/float_reference.js';
import { GraphBuilder, rng } from './helpers/onnx_builder.js';
import { readSamples } from '../src/compile/samples.js';

const header = (file: string) => `pragma circom 2.1.0;\ninclude "${file}";\n`;
const RECIPIENT = 0xaan;


describe("PyTorch's transformer exports (issue 16)", () => {
  const dir = join(modelsDir, 'exports');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort()) {
    it(`${file}: imports, and the float IR equals onnxruntime`, async () => {
      const graph = loadOnnx(join(dir, file));
      const n = graph.inputs[0].shape.reduce((a, b) => a * b, 1);
      assert.ok((await maxDifference(join(dir, file), randomInputs(3, n, 16, [0, 1]))) < 1e-4);
    });
  }

  it('multi-head attention: the quantized program proves softmax inside the model and tracks onnxruntime', async () => {
    const file = join(dir, 'multihead_attention_opset14.onnx');
    const graph = loadOnnx(file);
    const samples = randomInputs(24, 128, 5, [0, 1]);
    const p = quantize(graph, samples.slice(0, 16));
    assert.ok(p.ops.some((o) => o.kind === 'div' && o.quotientBits !== undefined));
    assert.ok(p.approximations.some((a) => a.fn === 'exp (softmax)' && a.maxError < 2 ** -8));
    const ort = await FloatModel.load(file, graph.inputs, graph.onnxOutputName);
    try {
      for (const x of samples.slice(16)) {
        const expected = await ort.run(x);
        const out = runReference(p, quantizeInput(p, x)).get(p.output.name)!;
        const got = out.map((v) => Number(v) * 2 ** -p.output.frac);
        expected.forEach((e, i) => assert.ok(Math.abs(e - got[i]) < 0.02, `element ${i}: ${got[i]} vs ${e}`));
      }
    } finally {
      await ort.release();
    }
  });
});

describe('shape folding of integer constants', () => {
  it("Shape -> Gather -> Add -> Div -> Mul -> Slice folds as onnxruntime computes it (integer Div truncates: MHA's 3-way split)", async () => {
    // nn.MultiheadAttention slices its packed [.., 48] projection at (48 + 2) / 3 * k.
    const g = new GraphBuilder('x', [1, 2, 48]);
    const shape = g.node('Shape', ['x']);
    const last = g.node('Gather', [shape, g.constantNode([], [-1], true)], { axis: 0 });
    const third = g.node('Div', [g.node('Add', [last, g.constantNode([], [2], true)]), g.constantNode([], [3], true)]);
    const end = g.node('Mul', [third, g.constantNode([], [1], true)]);
    const y = g.node('Slice', ['x', g.constantNode([1], [0], true), g.node('Unsqueeze', [end, g.shapeInit([0])]), g.shapeInit([-1])]);
    const file = g.save(join(scratchDir('fold'), 'm.onnx'), y, [1, 2, 16]);
    assert.deepEqual(loadOnnx(file).output.shape, [1, 2, 16]);
    assert.ok((await maxDifference(file, randomInputs(2, 96, 1, [0, 1]))) < 1e-6);
  });

  it('Expand, Split, Where with a constant mask, ConstantOfShape and Cast to float fold or re-index as onnxruntime does', async () => {
    const g = new GraphBuilder('x', [1, 4]);
    const wide = g.node('Expand', ['x', g.shapeInit([3, 4])]);
    const parts = g.node('Split', [wide, g.shapeInit([1, 2])], { axis: 0 }, 2);
    const mask = g.node('Less', [g.init([3, 4], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), g.init([1], [5])]);
    const zeros = g.node('Cast', [g.node('ConstantOfShape', [g.shapeInit([3, 4])]), ], { to: 1 });
    const masked = g.node('Where', [mask, wide, zeros]);
    const y = g.node('Add', [g.node('Cast', [masked], { to: 1 }), g.node('ReduceSum', [parts, g.shapeInit([0])], { keepdims: 1 })]);
    const file = g.save(join(scratchDir('fold'), 'm.onnx'), y, [3, 4]);
    assert.ok((await maxDifference(file, randomInputs(2, 4, 2, [0, 1]))) < 1e-6);
  });

  it('nodes the output does not depend on are not lowered (an unsupported op there is no error)', () => {
    const g = new GraphBuilder('x', [1, 4]);
    g.node('Reciprocal', ['x']);
    const y = g.node('Relu', ['x']);
    const file = g.save(join(scratchDir('fold'), 'm.onnx'), y, [1, 4]);
    assert.equal(loadOnnx(file).nodes.length, 1);
  });
});

describe('circuits/div_round.circom', () => {
  const shift = 3;
  const a = { lo: -20n, hi: 20n };
  const b = { lo: 1n, hi: 9n };
  const op: DivOp = { kind: 'div', source: 't', inputs: ['a', 'b'], output: 'y', left: [0], right: [0], shift };
  const [[qBits, rBits]] = [[signedBits(divDef.bounds(op, [[a], [b]])[0]), unsignedBits(2n * b.hi - 1n)]];
  let c: TestCircuit;
  before(async () => {
    c = await compileSource('div', `${header('div_round.circom')}template T() { signal input a; signal input b; signal output out; component d = DivRound(${qBits}, ${rBits}, ${shift}); d.a <== a; d.b <== b; out <== d.out; }\ncomponent main = T();`);
  });

  it(`costs qBits + 2 rBits + 1 = ${qBits + 2 * rBits + 1}, as divDef.cost says`, () => {
    assert.equal(c.stats.nonLinear, qBits + 2 * rBits + 1);
    assert.equal(divDef.cost(op, [[a], [b]]).nonLinear, qBits + 2 * rBits + 1);
  });

  it('equals round(a * 2^shift / b), half up, on every admissible pair', async () => {
    for (let x = -20; x <= 20; x++) {
      for (let y = 1; y <= 9; y++) {
        const w = await c.witness.calculateWitness({ a: String(x), b: String(y) }, true);
        const expected = divRound(BigInt(x), BigInt(y), shift);
        assert.equal(expected, BigInt(Math.floor((x * 2 ** shift) / y + 0.5)));
        assert.equal(fromField(w[1]), expected, `${x} / ${y}`);
        assert.deepEqual(c.r1cs.violations(w), []);
      }
    }
  });

  it('soundness: a wrong quotient with the remainder that balances it, a remainder out of range, or a zero divisor is rejected', async () => {
    const w = await c.witness.calculateWitness({ a: '13', b: '5' }, true);
    // q + 1 with r - 2b keeps 2b q + r unchanged: only the remainder's range check can catch it.
    const forged = [...w];
    const bits = (prefix: string, n: number, v: bigint) => {
      for (let i = 0; i < n; i++) setIfPresent(c, forged, `main.d.${prefix}[${i}]`, (v >> BigInt(i)) & 1n);
    };
    const offset = 1n << BigInt(qBits - 1);
    const q = divRound(13n, 5n, shift);
    bits('qb', qBits, q + 1n + offset);
    setIfPresent(c, forged, 'main.d.prod', toField((q + 1n + offset) * 10n));
    forged[1] = toField(q + 1n);
    assert.ok(c.r1cs.violations(forged).length > 0);
    // Tamper with one remainder bit alone, and with the output alone.
    const flipped = [...w];
    flipped[wire(c, 'main.d.rb[0]')] = 1n - flipped[wire(c, 'main.d.rb[0]')];
    assert.ok(c.r1cs.violations(flipped).length > 0);
    const out = [...w];
    out[1] = (out[1] + 1n) % FIELD_MODULUS;
    assert.ok(c.r1cs.violations(out).length > 0);
    await assert.rejects(c.witness.calculateWitness({ a: '13', b: '0' }, true));
  });

  it('a capped quotient does not let a wide dividend wrap the field: the widths refuse it at compile time', () => {
    // shift 4, quotientBits 8, a up to 2^249: a 2^(shift+1) would pass p, so q could be forged.
    const capped: DivOp = { ...op, shift: 4, quotientBits: 8 };
    assert.throws(() => divDef.cost(capped, [[{ lo: 0n, hi: 1n << 249n }], [{ lo: 1n, hi: 1n }]]), FieldOverflowError);
  });

  it('the reference refuses a quotient outside its enforced range, naming the op', () => {
    const capped: DivOp = { ...op, quotientBits: 4 };
    assert.throws(() => divDef.evaluate(capped, [[20n], [1n]]), FixedPointRangeError);
    assert.throws(() => divDef.evaluate(op, [[20n], [0n]]), /divisor/);
  });
});

describe('circuits/isqrt.circom', () => {
  const xMax = 300n;
  const yBits = unsignedBits(floorSqrt(xMax));
  const xBits = unsignedBits(xMax);
  let c: TestCircuit;
  before(async () => {
    c = await compileSource('isqrt', `${header('isqrt.circom')}template T() { signal input in; signal output out; component s = ISqrt(${yBits}, ${xBits}); s.in <== in; out <== s.out; }\ncomponent main = T();`);
  });

  it(`costs yBits + 2 xBits + 1 = ${yBits + 2 * xBits + 1}`, () => assert.equal(c.stats.nonLinear, yBits + 2 * xBits + 1));

  it('equals floor(sqrt(x)) on every admissible input', async () => {
    for (let x = 0; x <= 300; x++) {
      const w = await c.witness.calculateWitness({ in: String(x) }, true);
      assert.equal(fromField(w[1]), BigInt(Math.floor(Math.sqrt(x))), `sqrt(${x})`);
      assert.deepEqual(c.r1cs.violations(w), []);
    }
  });

  it('soundness: a root one too large or too small, with its square, is rejected; a negative input has no witness', async () => {
    const w = await c.witness.calculateWitness({ in: '200' }, true);
    for (const y of [13n, 15n]) {
      const forged = [...w];
      for (let i = 0; i < yBits; i++) setIfPresent(c, forged, `main.s.yb[${i}]`, (y >> BigInt(i)) & 1n);
      setIfPresent(c, forged, 'main.s.square', y * y);
      forged[1] = y;
      assert.ok(c.r1cs.violations(forged).length > 0, `root ${y}`);
    }
    await assert.rejects(c.witness.calculateWitness({ in: toField(-4n).toString() }, true));
  });
});

describe('circuits/piecewise_linear.circom with a centred domain (softmax exp)', () => {
  const op: PwlOp = { kind: 'pwl', source: 't', inputs: ['x'], output: 'y', ...pwlTables('exp', 3, 8, [-8, 0], 6) };
  const bits = 9;
  let c: TestCircuit;
  before(async () => {
    const tables = `function A() { return [${op.a.join(',')}]; }\nfunction B() { return [${op.b.join(',')}]; }`;
    c = await compileSource('pwl_exp', `${header('piecewise_linear.circom')}${tables}\ntemplate T() { signal input in; signal output out; component p = PiecewiseLinear(${bits}, ${op.domainBits}, ${op.segmentsLog2}, A(), B(), ${op.below}, ${op.above}, ${pwlDef.bounds(op, [[{ lo: -256n, hi: 0n }]])[0].hi.toString(2).length + 8}); p.in <== in - (${op.center}); out <== p.out; }\ncomponent main = T();`);
  });

  it('equals the reference on [-32, 0] and is exact (1) at 0', async () => {
    for (let x = -256; x <= 0; x += 3) {
      const w = await c.witness.calculateWitness({ in: toField(BigInt(x)).toString() }, true);
      assert.equal(fromField(w[1]), pwlDef.evaluate(op, [[BigInt(x)]])[0], `x = ${x}`);
      assert.deepEqual(c.r1cs.violations(w), []);
    }
    const w = await c.witness.calculateWitness({ in: '0' }, true);
    assert.equal(fromField(w[1]), 256n);
  });

  it("soundness: a wrong lookup index (another segment's one-hot) is rejected", async () => {
    const w = await c.witness.calculateWitness({ in: toField(-37n).toString() }, true);
    const onehot = [...c.symbols.keys()].filter((k) => k.startsWith('main.p.onehot['));
    const hot = onehot.find((k) => w[c.symbols.get(k)!] === 1n)!;
    const other = onehot.find((k) => k !== hot && c.symbols.get(k)! >= 0)!;
    const forged = [...w];
    forged[c.symbols.get(hot)!] = 0n;
    forged[c.symbols.get(other)!] = 1n;
    assert.ok(c.r1cs.violations(forged).length > 0);
  });
});

describe('circuits/one_hot.circom and embedding lookups by token id', () => {
  let c: TestCircuit;
  before(async () => {
    c = await compileSource('one_hot', `${header('one_hot.circom')}template T() { signal input in; signal output out[5]; component h = OneHot(5); h.in <== in; for (var j = 0; j < 5; j++) out[j] <== h.out[j]; }\ncomponent main = T();`);
  });

  it('costs n = 5 and selects exactly the row of every id in [0, 5); ids outside have no witness', async () => {
    assert.equal(c.stats.nonLinear, 5);
    for (let id = 0; id < 5; id++) {
      const w = await c.witness.calculateWitness({ in: String(id) }, true);
      assert.deepEqual(w.slice(1, 6), Array.from({ length: 5 }, (_, j) => BigInt(j === id)));
      assert.deepEqual(c.r1cs.violations(w), []);
    }
    for (const id of [5n, -1n]) await assert.rejects(c.witness.calculateWitness({ in: toField(id).toString() }, true));
  });

  it('soundness: a wrong lookup index (the one-hot of another row) is rejected', async () => {
    const w = await c.witness.calculateWitness({ in: '2' }, true);
    const forged = [...w];
    for (let j = 0; j < 5; j++) forged[1 + j] = BigInt(j === 3);
    for (let j = 0; j < 5; j++) setIfPresent(c, forged, `main.h.out[${j}]`, BigInt(j === 3));
    assert.ok(c.r1cs.violations(forged).length > 0);
  });

  it('an int64 token-id model (Gather into an embedding, mean, Gemm) imports, matches onnxruntime, compiles, proves and verifies', async () => {
    const g = new GraphBuilder('ids', [1, 6]);
    g.inputType = onnx.TensorProto.DataType.INT64;
    const r = rng(9);
    const table = g.init([10, 4], Array.from({ length: 40 }, () => r()));
    const pooled = g.node('ReduceMean', [g.node('Gather', [table, 'ids'], { axis: 0 })], { axes: [1], keepdims: 0 });
    const y = g.node('Gemm', [pooled, g.init([3, 4], Array.from({ length: 12 }, () => r())), g.init([3], [0.1, -0.2, 0.3])], { transB: 1 });
    const dir = scratchDir('embedding');
    const file = g.save(join(dir, 'm.onnx'), y, [1, 3]);
    const graph = loadOnnx(file);
    assert.deepEqual(graph.inputs[0].integer, { type: 'int64', max: 9 });
    const ids = Array.from({ length: 12 }, (_, k) => Array.from({ length: 6 }, (_, t) => (k * 7 + t * 3) % 10));
    const ort = await FloatModel.load(file, graph.inputs, graph.onnxOutputName);
    try {
      for (const x of ids) {
        const expected = await ort.run(x);
        evaluateFloat(graph, x).get(graph.output.name)!.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6));
      }
    } finally {
      await ort.release();
    }
    writeFileSync(join(dir, 'calibration.json'), JSON.stringify({ inputs: ids }));
    const out = join(dir, 'build');
    const m = await compile(file, { calibration: join(dir, 'calibration.json'), out });
    assert.equal(m.accuracy.decisionAgreement, 1);
    // A known range (--input-range) covers the float inputs; token ids keep the table's [0, rows - 1].
    const ranged = await compile(file, { calibration: join(dir, 'calibration.json'), out: join(dir, 'ranged'), inputRange: '0:1' });
    assert.equal(ranged.accuracy.decisionAgreement, 1);
    await setup(out);
    const prover = await Prover.load(out);
    try {
      const proof = await prover.prove(ids[3], { recipient: RECIPIENT });
      assert.equal((await verify(out, proof, { insecureDevKeys: true })).valid, true);
      await assert.rejects(prover.prove([10, 0, 0, 0, 0, 0], { recipient: RECIPIENT }), /token id of .* must be an integer in \[0, 9\]/);
      await assert.rejects(prover.prove([2.5, 0, 0, 0, 0, 0], { recipient: RECIPIENT }), /must be an integer/);
    } finally {
      await prover.close();
    }
  });

  it('token ids computed from the input, or read by anything but a lookup, are refused with the reason', () => {
    const g = new GraphBuilder('ids', [1, 4]);
    g.inputType = onnx.TensorProto.DataType.INT64;
    const y = g.node('Relu', ['ids']);
    const file = g.save(join(scratchDir('embedding'), 'm.onnx'), y, [1, 4]);
    assert.throws(() => loadOnnx(file), /integer inputs \(token ids\) can only be re-indexed/);
  });
});

describe('a softmax row inside the model', () => {
  it('a forged row (two probabilities swapped) is rejected by the R1CS', async () => {
    // x -> Softmax -> x 2: the softmax is not the output, so the circuit proves it.
    const g = new GraphBuilder('x', [1, 4]);
    const y = g.node('Mul', [g.node('Softmax', ['x'], { axis: -1 }), g.init([1], [2])]);
    const file = g.save(join(scratchDir('softmax'), 'm.onnx'), y, [1, 4]);
    const samples = randomInputs(8, 4, 3, [0, 1]).map((r) => r.map((v) => 4 * v - 2));
    const p = quantize(loadOnnx(file), samples);
    const k = p.ops.findIndex((o) => o.kind === 'div');
    assert.ok(k >= 0);
    const circuit = generateCircuit(p);
    const c = await compileSource('softmax_row', circuit.source);
    const x = quantizeInput(p, [1.5, -0.5, 0.25, 0.75]);
    const w = await c.witness.calculateWitness({ in: x.map(String), recipient: '0' }, true);
    assert.deepEqual(c.r1cs.violations(w), []);
    const q = runReference(p, x).get(p.ops[k].output)!;
    assert.notEqual(q[0], q[1]);
    const forged = [...w];
    const div = p.ops[k] as DivOp;
    const qBits = signedBits(divDef.bounds(div, div.inputs.map((i) => circuit.bounds.get(i)!))[0]);
    const setQuotient = (j: number, v: bigint) => {
      const offset = 1n << BigInt(qBits - 1);
      for (let i = 0; i < qBits; i++) setIfPresent(c, forged, `main.op${k}[${j}].qb[${i}]`, ((v + offset) >> BigInt(i)) & 1n);
    };
    setQuotient(0, q[1]);
    setQuotient(1, q[0]);
    assert.ok(c.r1cs.violations(forged).length > 0);
  });
});

describe('bundled transformer and GELU MLP end to end (issue 16)', () => {
  for (const [model, visibility] of [['digits_transformer', { input: 'hashed', output: 'hashed' }], ['digits_gelu_mlp', undefined]] as const) {
    it(`${model}: >= 98% top-1 agreement with onnxruntime on held-out samples, proves, verifies off-chain and on the EVM; a tampered proof fails both`, async () => {
      const { embeddedChain } = await import('../src/chain/network.js');
      const { deployVerifier, verifyOnChain } = await import('../src/chain/onchain.js');
      const { verifierArtifact } = await import('../src/chain/verifier.js');
      const src = (f: string) => join(modelsDir, model, f);
      const out = join(scratchDir(model), 'build');
      const m = await compile(src('model.onnx'), { calibration: src('calibration.json'), test: src('test.json'), out, ...(visibility ? { visibility } : {}) });
      assert.ok(m.accuracy.decisionAgreement! >= 0.98, `agreement ${m.accuracy.decisionAgreement}`);
      assert.ok(m.approximations.length > 0);
      await setup(out);
      const prover = await Prover.load(out);
      const chain = await embeddedChain();
      try {
        const r = await prover.prove(readSamples(src('test.json')).inputs[0], { recipient: RECIPIENT });
        assert.equal((await verify(out, r, { insecureDevKeys: true })).valid, true);
        const { contract } = await deployVerifier(chain, await verifierArtifact(out), { insecureDevKeys: true });
        assert.equal((await verifyOnChain(contract, r.proof, r.publicSignals)).valid, true);
        const bad = structuredClone({ proof: r.proof, publicSignals: r.publicSignals });
        bad.publicSignals[1] = String((BigInt(bad.publicSignals[1]) + 1n) % FIELD_MODULUS);
        assert.equal((await verify(out, bad, { insecureDevKeys: true })).valid, false);
        assert.equal((await verifyOnChain(contract, bad.proof, bad.publicSignals)).valid, false);
      } finally {
        await chain.close();
        await prover.close();
      }
    });
  }
});

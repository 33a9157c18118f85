import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { generateCircuit } from '../src/circuit/codegen.js';
import { loadBuild } from '../src/compile/manifest.js';
import { FIELD_MODULUS, toField } from '../src/prove/field.js';
import { quantizeInput } from '../src/quant/io.js';
import { runReference } from '../src/quant/reference.js';
import { loadCircuit, wire, type TestCircuit } from './helpers/circuit.js';
import { bundledModels, calibrationSamples, compiled, testSamples } from './helpers/fixtures.js';

for (const model of bundledModels) {
  describe(`${model} circuit`, () => {
    let c: TestCircuit;
    let build: ReturnType<typeof loadBuild>;
    let expressions: Map<string, string[]>;
    before(async () => {
      const { dir } = await compiled(model);
      build = loadBuild(dir);
      c = await loadCircuit(dir);
      expressions = generateCircuit(build.program).expressions;
    });

    it('outputs and every rescaled activation equal the integer reference, bit for bit, on >= 50 inputs', async () => {
      const inputs = [...testSamples(model).inputs, ...calibrationSamples(model).inputs].slice(0, 60);
      assert.ok(inputs.length >= 50);
      const { program } = build;
      for (const x of inputs) {
        const q = quantizeInput(program, x);
        const w = await c.witness.calculateWitness({ in: q.map(String), recipient: '0' }, true);
        const values = runReference(program, q);
        values.get(program.output.name)!.forEach((v, i) => assert.equal(w[wire(c, `main.out[${i}]`)], toField(v), `out[${i}]`));
        // --O2 substitutes some activations away (they stay pinned by linear constraints: it may
        // solve a consumer's linear constraint for them); check every one that is left.
        let checkedRescales = 0;
        program.ops.forEach((op) => {
          if (op.kind === 'input' || op.kind === 'linear' || op.kind === 'gather') return;
          let checked = 0;
          values.get(op.output)!.forEach((value, i) => {
            let v = value;
            const expr = expressions.get(op.output)![i];
            const index = c.symbols.get(`main.${expr.replace(/^\(-(.*)\)$/, '$1')}`);
            if (expr.startsWith('(-')) v = -v;
            if (index === undefined) return;
            assert.equal(w[index], toField(v), `${op.output}[${i}]`);
            checked++;
          });
          if (op.kind === 'rescale') checkedRescales += checked;
        });
        if (program.ops.some((op) => op.kind === 'rescale')) assert.ok(checkedRescales > 0, 'no rescaled activation is left in the witness');
        assert.deepEqual(c.r1cs.violations(w), []);
      }
    });

    it('the constraint count matches the sum of the op cost formulas', () => {
      // Templates are exact (test/templates*.test.ts); in a whole model circom may also keep an output's
      // linear constraint (an output linear in the public inputs alone) or fold a few more away.
      const formula = build.manifest.circuit.costs.reduce((a, op) => a + op.nonLinear, 0);
      const slack = build.manifest.output.size + Math.ceil(formula / 1000);
      assert.ok(Math.abs(build.manifest.circuit.constraints - formula) <= slack, `${build.manifest.circuit.constraints} constraints, formula ${formula}`);
      assert.equal(c.r1cs.constraints.length, build.manifest.circuit.constraints);
    });

    describe('soundness: a valid witness with a changed value fails the R1CS check', () => {
      let honest: bigint[];
      before(async () => {
        const q = quantizeInput(build.program, testSamples(model).inputs[0]);
        honest = await c.witness.calculateWitness({ in: q.map(String), recipient: '0' }, true);
      });

      it('the claimed output', () => {
        for (let i = 0; i < build.manifest.output.size; i++) {
          const w = [...honest];
          w[wire(c, `main.out[${i}]`)] = (w[wire(c, `main.out[${i}]`)] + 1n) % FIELD_MODULUS;
          assert.ok(c.r1cs.violations(w).length > 0, `out[${i}]`);
        }
      });

      it('a hidden non-linear value, and a decomposition bit', () => {
        // Signals of the first non-linear op whose out and bits survive --O2 (it may solve a
        // consumer's linear constraint for an out, which stays pinned but leaves the witness).
        const hidden = build.program.ops.flatMap((op, k) => (!['input', 'linear', 'gather'].includes(op.kind) && op.output !== build.program.output.name ? [k] : []));
        if (hidden.length === 0) return; // a purely linear model (linear regression) has no hidden non-linear value
        const candidates = hidden.map((k) => {
          const names = [...c.symbols.keys()].filter((n) => n.startsWith(`main.op${k}`));
          return { k, out: names.find((n) => n.endsWith('.out')), bit: names.find((n) => /\.(b|bit|s)\[\d+\]$/.test(n)) };
        });
        const { out, bit } = candidates.find((x) => x.out && x.bit) ?? {};
        assert.ok(out && bit, `no non-linear op keeps both an out and a bit: ${JSON.stringify(candidates)}`);
        const w = [...honest];
        w[wire(c, out)] += 1n;
        assert.ok(c.r1cs.violations(w).length > 0, out);
        const v = [...honest];
        v[wire(c, bit)] = 1n - v[wire(c, bit)];
        assert.ok(c.r1cs.violations(v).length > 0, bit);
      });

      it('the public input', () => {
        const w = [...honest];
        w[wire(c, 'main.in[0]')] += 1n;
        assert.ok(c.r1cs.violations(w).length > 0);
      });
    });
  });
}

// The proof the Solidity test checks: compile the bundled iris model, make development keys,
// export its verifier into src/zkml/ and write one proof, bound to an applicant, to fixtures/.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as z from 'zkml';

const require = createRequire(import.meta.url);
const model = join(dirname(require.resolve('zkml/package.json')), 'artifacts', 'models', 'iris_mlp');
const build = join('build', 'iris');
const applicant = '0x00000000000000000000000000000000000A11CE';

await z.compile(join(model, 'model.onnx'), { calibration: join(model, 'calibration.json'), out: build });
await z.setup(build);
// The test runs on Foundry's own EVM, so development keys do; the exported files say they are insecure.
await z.exportContracts(build, join('src', 'zkml'), { insecureDevKeys: true });
const proof = await z.prove(build, [6.3, 3.3, 6.0, 2.5], { recipient: BigInt(applicant) }); // a virginica flower, in cm
const [a, b, c, signals] = z.solidityArgs(proof.proof, proof.publicSignals);
const registration = JSON.parse(readFileSync(join('src', 'zkml', 'registration.json'), 'utf8'));
mkdirSync('fixtures', { recursive: true });
writeFileSync(
  join('fixtures', 'iris.json'),
  JSON.stringify({
    a,
    b: b.flat(),
    c,
    signals,
    applicant,
    vkHash: registration.vkHash,
    layout: registration.layout,
    frac: registration.output.frac,
    expectedClass: proof.output.indexOf(Math.max(...proof.output)),
  }),
);
console.log(`fixtures/iris.json: class ${proof.output.indexOf(Math.max(...proof.output))}, ${signals.length} public signals`);
await z.releaseCurves();

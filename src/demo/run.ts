/**
 * `npm run demo`: a bundled ONNX model becomes a proof that the generated Solidity verifier
 * accepts on an embedded EVM. Every stage prints what it did.
 */
import { join } from 'node:path';
import { argmax } from '../compile/accuracy.js';
import { readSamples } from '../compile/samples.js';
import { writeJsonAtomic } from '../files.js';
import * as z from '../index.js';
import { buildPaths, modelsDir, packageRoot } from '../paths.js';
import { percent, vector } from '../cli/format.js';

const MODEL = 'iris_mlp';
const CLASSES = ['setosa', 'versicolor', 'virginica'];

function stage(n: number, title: string) {
  console.log(`\n== ${n}. ${title}`);
}

async function main(): Promise<boolean> {
  const model = join(modelsDir, MODEL);
  const build = join(packageRoot, 'artifacts', 'build', MODEL);
  const log = (l: string) => console.log(l.replace(/^/gm, '   '));

  stage(1, `compile ${MODEL} (iris MLP 4-16-3, PyTorch -> ONNX) to a circuit`);
  const m = await z.compile(join(model, 'model.onnx'), { calibration: join(model, 'calibration.json'), test: join(model, 'test.json'), out: build, log });
  log(`top-1 agreement with the float model: ${percent(m.accuracy.top1Agreement)} on ${m.accuracy.samples} held-out samples`);

  stage(2, 'Groth16 setup');
  const s = await z.setup(build, { log });
  log(`ptau: ${s.ptau.source === 'dev' ? 'INSECURE dev ptau (development only)' : s.ptau.file}; keys ${s.cached ? 'from cache' : 'created'}`);

  stage(3, 'prove one held-out iris flower');
  const [input] = readSamples(join(model, 'input.json')).inputs;
  const r = await z.prove(build, input);
  const file = join(buildPaths(build).proofs, 'demo_proof.json');
  writeJsonAtomic(file, r);
  log(`input (cm): ${vector(input, 1)}`);
  log(`proved output: ${vector(r.output)} -> ${CLASSES[argmax(r.output)]}`);
  log(`float model (onnxruntime): ${vector(r.floatOutput)} -> ${CLASSES[argmax(r.floatOutput)]}`);
  log(`witness ${r.timings.witnessMs.toFixed(1)} ms, proof ${r.timings.proveMs.toFixed(1)} ms -> ${file}`);

  stage(4, 'verify off-chain (snarkjs)');
  // The demo's keys are dev keys (no ceremony): anyone who can read their verifying key can forge
  // proofs, so verify() refuses them unless told that this is a demonstration.
  const v = await z.verify(build, r, { insecureDevKeys: true });
  log(`valid: ${v.valid} (accepted with insecureDevKeys: these are development keys, which anyone can forge proofs for; run \`zkml ceremony\` for real keys)`);

  stage(5, 'verify on-chain (generated Solidity verifier on an embedded EVM, where dev keys are allowed)');
  const artifact = await z.verifierArtifact(build);
  const chain = await z.embeddedChain();
  try {
    const d = await z.deployVerifier(chain, artifact);
    log(`deployed ${artifact.contractName} at ${d.address} (${d.gasUsed} gas, solc ${artifact.solcVersion.split('+')[0]})`);
    const onchain = await z.verifyOnChain(d.contract, r.proof, r.publicSignals);
    const forged = [...r.publicSignals];
    forged[argmax(r.output)] = String(BigInt(forged[argmax(r.output)]) + 1n);
    const tampered = await z.verifyOnChain(d.contract, r.proof, forged);
    log(`a tampered output is rejected: verifyProof returned ${tampered.valid}`);
    console.log(`\non-chain verifier returned ${onchain.valid} (verification gas ${onchain.gas}) for "${CLASSES[argmax(r.output)]}"`);
    return onchain.valid && v.valid && !tampered.valid;
  } finally {
    await chain.close();
  }
}

try {
  if (!(await main())) process.exitCode = 1;
} catch (err) {
  console.error(err instanceof z.ZkmlError ? `error: ${err.message}` : err);
  process.exitCode = 1;
} finally {
  await z.releaseCurves();
}

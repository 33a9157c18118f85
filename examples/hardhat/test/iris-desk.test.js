// Runs with `npx hardhat test`: the whole path a Solidity developer takes, on Hardhat's network.
const assert = require('node:assert/strict');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');
const hre = require('hardhat');
const { ethers } = require('ethers');

describe('IrisDesk reads a verified zkml inference from the registry', function () {
  let z;
  after(async () => z?.releaseCurves());

  it('compile, setup, deploy, register, prove, submit; the consumer reads and decodes the output', async () => {
    z = await import('zkml'); // zkml is ESM-only: import() from CommonJS
    const model = join(dirname(require.resolve('zkml/package.json')), 'artifacts', 'models', 'iris_mlp');
    const build = mkdtempSync(join(tmpdir(), 'iris-'));
    await z.compile(join(model, 'model.onnx'), { calibration: join(model, 'calibration.json'), out: build });
    await z.setup(build); // development keys: fine on Hardhat's in-process network, refused on a public chain

    // Hardhat's in-process network: a development chain, so development keys are accepted (with a warning).
    const chain = await z.providerChain(hre.network.provider, { kind: 'embedded', description: 'Hardhat network' });
    const { registry, modelId } = await z.ensureDeployed(chain, { build, register: true, log: console.log });
    const manifest = z.loadBuild(build).manifest;

    const desk = await deploy('IrisDesk', [await registry.getAddress(), modelId, manifest.output.frac], chain.signer);
    const applicant = await chain.provider.getSigner(1);
    const input = [6.3, 3.3, 6.0, 2.5]; // a virginica flower, in cm
    // The proof is bound to the applicant: whoever submits it, the result is the applicant's.
    const proof = await z.prove(build, input, { recipient: BigInt(await applicant.getAddress()) });
    const { inputKey, recipient } = await z.submitProof(registry, modelId, proof.proof, proof.publicSignals);
    assert.equal(recipient, await applicant.getAddress());

    const [cls, scoreWad] = await desk.species(inputKey, recipient);
    const expected = proof.output.indexOf(Math.max(...proof.output));
    assert.equal(Number(cls), expected);
    assert.equal(Number(cls), 2, 'virginica');
    assert.ok(Math.abs(Number(ethers.formatEther(scoreWad)) - proof.output[expected]) < 1e-9, 'the decoded logit is the proved one');

    await (await desk.connect(applicant).record(inputKey)).wait();
    assert.equal(await desk.speciesOf(await applicant.getAddress()), cls + 1n);
    // Nobody else can use the applicant's result.
    await assert.rejects(desk.record(inputKey), (err) => desk.interface.parseError(err.data)?.name === 'NoVerifiedResult');
    await chain.close();
  });
});

async function deploy(name, args, signer) {
  const artifact = await hre.artifacts.readArtifact(name);
  const contract = await new ethers.ContractFactory(artifact.abi, artifact.bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract;
}

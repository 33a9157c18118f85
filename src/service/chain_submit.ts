import type { Groth16Proof, PublicSignals } from 'snarkjs';
import { readDeployment } from '../chain/deployment.js';
import type { Chain } from '../chain/network.js';
import { readFileSync } from 'node:fs';
import { attachRegistry, ContractRevertError, readResult, registrationFor, registrationMismatch, submitProof } from '../chain/registry.js';
import { ConflictError, InvalidRequestError } from './errors.js';
import type { ServedModel } from './models.js';

/** Reverts that mean "already done" or "not now", not "this proof is wrong". */
const CONFLICTS = new Set(['ResultExists', 'ModelDisabled', 'UnknownModel']);

/**
 * Submits proofs to the registry on one chain, where `zkml deploy` and `zkml register` recorded the
 * model (`<build>/deployments.json` under the same RPC URL). One transaction at a time: the
 * service's single signer must not race itself for nonces.
 */
export class ChainSubmitter {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly chain: Chain, readonly rpc: string) {}

  submit(model: ServedModel, proof: Groth16Proof, publicSignals: PublicSignals) {
    const run = this.tail.then(() => this.send(model, proof, publicSignals));
    this.tail = run.catch(() => {});
    return run;
  }

  private registration(model: ServedModel, verifier: string) {
    const vkey = JSON.parse(readFileSync(model.build.paths.vkey, 'utf8'));
    return registrationFor(model.build.manifest, vkey, verifier);
  }

  private async send(model: ServedModel, proof: Groth16Proof, publicSignals: PublicSignals) {
    const record = await readDeployment(model.dir, this.chain);
    if (!record?.registry || !record.modelId) {
      throw new ConflictError(`model ${model.name} is not registered on ${this.rpc}: run \`zkml deploy ${model.dir} --rpc ${this.rpc}\` and \`zkml register\` first`);
    }
    const registry = attachRegistry(this.chain, record.registry);
    // The recorded registry must hold this model's registration: a reset chain or a planted record is named, not used.
    const stale = (await this.chain.provider.getCode(record.registry)) === '0x' ? 'the registry has no code (the chain was reset?)' : await registrationMismatch(registry, BigInt(record.modelId), this.registration(model, record.verifier ?? ''));
    if (stale) {
      throw new ConflictError(`the registration recorded for ${model.name} (registry ${record.registry}, model ${record.modelId}) is not usable on ${this.rpc}: ${stale}; run \`zkml register ${model.dir} --rpc ${this.rpc}\` again`);
    }
    try {
      const s = await submitProof(registry, BigInt(record.modelId), proof, publicSignals);
      const r = await readResult(registry, BigInt(record.modelId), s);
      return {
        registry: record.registry,
        modelId: record.modelId,
        txHash: s.txHash,
        gasUsed: String(s.gasUsed),
        inputKey: s.inputKey,
        recipient: s.recipient,
        result: { submitter: r.submitter, blockNumber: String(r.blockNumber), outputCommitment: String(r.outputCommitment), output: r.output.map(String) },
      };
    } catch (err) {
      if (err instanceof ContractRevertError) {
        if (CONFLICTS.has(err.errorName)) throw new ConflictError(err.message);
        throw new InvalidRequestError(err.message, 422);
      }
      throw err;
    }
  }
}

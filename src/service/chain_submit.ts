import type { Groth16Proof, PublicSignals } from 'snarkjs';
import { readDeployment } from '../chain/deployment.js';
import type { Chain } from '../chain/network.js';
import { attachRegistry, ContractRevertError, readResult, submitProof } from '../chain/registry.js';
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

  private async send(model: ServedModel, proof: Groth16Proof, publicSignals: PublicSignals) {
    const record = await readDeployment(model.dir, this.chain);
    if (!record?.registry || !record.modelId) {
      throw new ConflictError(`model ${model.name} is not registered on ${this.rpc}: run \`zkml deploy ${model.dir} --rpc ${this.rpc}\` and \`zkml register\` first`);
    }
    if ((await this.chain.provider.getCode(record.registry)) === '0x') {
      throw new ConflictError(`the registry recorded for ${model.name} at ${record.registry} has no code on ${this.rpc}: the chain was reset; run \`zkml register ${model.dir} --rpc ${this.rpc}\` again`);
    }
    const registry = attachRegistry(this.chain, record.registry);
    try {
      const s = await submitProof(registry, BigInt(record.modelId), proof, publicSignals);
      const r = await readResult(registry, BigInt(record.modelId), s.inputKey, s.recipient);
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

import type { Groth16Proof, PublicSignals } from 'snarkjs';
import { readDeployment } from '../chain/deployment.js';
import type { Chain } from '../chain/network.js';
import { readFileSync } from 'node:fs';
import { attachRegistry, batchItemArg, ContractRevertError, openItem, readResult, registrationFor, registrationMismatch, submitBatch, submitProof } from '../chain/registry.js';
import type { BatchItemProof } from '../prove/prover.js';
import { ConflictError, InvalidRequestError } from './errors.js';
import type { ServedModel } from './models.js';

/** Reverts that mean "already done" or "not now", not "this proof is wrong". */
const CONFLICTS = new Set(['ResultExists', 'ModelDisabled', 'UnknownModel', 'BatchExists']);

/**
 * Submits proofs to the registry on one chain, where `zkml deploy` and `zkml register` recorded the
 * model (`<build>/deployments.json` under the same RPC URL). One transaction at a time: the
 * service's single signer must not race itself for nonces.
 */
export class ChainSubmitter {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly chain: Chain, readonly rpc: string) {}

  /** `item`: one item of a batched build's proof, whose result to record (after the batch, if the registry has not recorded it yet). */
  submit(model: ServedModel, proof: Groth16Proof, publicSignals: PublicSignals, item?: BatchItemProof) {
    const run = this.tail.then(() => this.send(model, proof, publicSignals, item));
    this.tail = run.catch(() => {});
    return run;
  }

  private registration(model: ServedModel, verifier: string) {
    const vkey = JSON.parse(readFileSync(model.build.paths.vkey, 'utf8'));
    return registrationFor(model.build.manifest, vkey, verifier);
  }

  private async send(model: ServedModel, proof: Groth16Proof, publicSignals: PublicSignals, item?: BatchItemProof) {
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
      if (model.build.manifest.batch) {
        const modelId = BigInt(record.modelId);
        const opening = item && batchItemArg(model.build.manifest, { publicSignals, items: [item] }, item.index);
        const [recorded] = opening ? await registry.batchOf(modelId, opening.root, opening.count, opening.recipient) : [false];
        const batch = recorded ? undefined : await submitBatch(registry, modelId, proof, publicSignals);
        const opened = opening && (await openItem(registry, modelId, opening));
        return {
          registry: record.registry,
          modelId: record.modelId,
          ...(batch ? { batch: { txHash: batch.txHash, gasUsed: String(batch.gasUsed), root: String(batch.root), count: String(batch.count), recipient: batch.recipient } } : {}),
          ...(opened ? { item: { index: item!.index, txHash: opened.txHash, gasUsed: String(opened.gasUsed), inputKey: opened.inputKey, recipient: opened.recipient, outputCommitment: String(opened.outputCommitment) } } : {}),
        };
      }
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

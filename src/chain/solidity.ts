import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ChainError } from '../errors.js';
import { packageRoot } from '../paths.js';

const require = createRequire(import.meta.url);

export interface CompiledContract {
  contractName: string;
  abi: unknown[];
  bytecode: string;
  /** Size of the deployed (runtime) code: the EVM refuses more than 24,576 bytes (EIP-170). */
  codeSize: number;
  /** The runtime code, to tell this contract from another at a recorded address. */
  deployedBytecode: string;
  solcVersion: string;
}

/** The project's own contracts (registry, consumer example). */
export const contractsDir = join(packageRoot, 'src', 'chain', 'contracts');

/**
 * Compiles Solidity sources with solc (optimizer on, 200 runs). Imports resolve against
 * `importDir`. Returns every contract of the named source file.
 */
export function compileSolidity(sources: Record<string, string>, importDir = contractsDir): Record<string, CompiledContract> {
  const solc = require('solc') as { compile(input: string, callbacks?: { import(path: string): { contents?: string; error?: string } }): string; version(): string };
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, { content }])),
    settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } } },
  };
  const findImports = (path: string) => {
    try {
      return { contents: readFileSync(join(importDir, path), 'utf8') };
    } catch {
      return { error: `${path} not found in ${importDir}` };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors ?? []).filter((e: { severity: string }) => e.severity === 'error');
  if (errors.length) throw new ChainError(`solc failed: ${errors.map((e: { formattedMessage: string }) => e.formattedMessage).join('\n')}`);
  const result: Record<string, CompiledContract> = {};
  for (const file of Object.keys(sources)) {
    for (const [contractName, c] of Object.entries(output.contracts[file] as Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>)) {
      result[contractName] = { contractName, abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, codeSize: c.evm.deployedBytecode.object.length / 2, deployedBytecode: `0x${c.evm.deployedBytecode.object}`, solcVersion: solc.version() };
    }
  }
  return result;
}

const cache = new Map<string, CompiledContract>();

/** One of the project's contracts, compiled once per process. */
export function projectContract(name: 'InferenceRegistry' | 'ApprovalPayout' | 'ZkmlOutputOpener'): CompiledContract {
  let c = cache.get(name);
  if (!c) {
    const file = `${name}.sol`;
    c = compileSolidity({ [file]: readFileSync(join(contractsDir, file), 'utf8') })[name];
    cache.set(name, c);
  }
  return c;
}

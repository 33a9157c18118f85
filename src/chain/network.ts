import { createRequire } from 'node:module';
import { ethers } from 'ethers';
import { ChainError } from '../errors.js';
import { hardhatConfig } from '../paths.js';

const require = createRequire(import.meta.url);

export interface Chain {
  signer: ethers.Signer;
  provider: ethers.Provider;
  /** "embedded EVM (Hardhat/EDR)" or the RPC URL. */
  description: string;
  close(): Promise<void>;
}

/** An in-process EVM: Hardhat 2's network (EDR), with its funded dev accounts. No port is opened. */
export async function embeddedChain(): Promise<Chain> {
  const { resolveConfig } = require('hardhat/internal/core/config/config-resolution');
  const { createProvider } = require('hardhat/internal/core/providers/construction');
  const eip1193 = await createProvider(resolveConfig(hardhatConfig, {}), 'hardhat');
  const provider = new ethers.BrowserProvider(eip1193);
  return { signer: await provider.getSigner(0), provider, description: 'embedded EVM (Hardhat network / EDR, in-process)', close: async () => provider.destroy() };
}

/**
 * Any JSON-RPC node. With a private key the key signs; without one the node's first unlocked
 * account does (as on `hardhat node` or anvil).
 */
export async function rpcChain(url: string, privateKey?: string): Promise<Chain> {
  // cacheTimeout -1: ethers otherwise reuses a nonce it read within 250 ms for the next transaction.
  const provider = new ethers.JsonRpcProvider(url, await chainId(url), { staticNetwork: true, cacheTimeout: -1 });
  let signer: ethers.Signer;
  if (privateKey) {
    try {
      signer = new ethers.Wallet(privateKey, provider);
    } catch (err) {
      provider.destroy();
      throw new ChainError('the private key is not a valid 32-byte hex key', { cause: err });
    }
  } else {
    const accounts = (await provider.send('eth_accounts', [])) as string[];
    if (accounts.length === 0) {
      provider.destroy();
      throw new ChainError(`${url} has no unlocked accounts; pass --private-key (or ZKML_PRIVATE_KEY)`);
    }
    signer = await provider.getSigner(accounts[0]);
  }
  return { signer, provider, description: url, close: async () => provider.destroy() };
}

/** Asks the node for its chain id once, so that ethers never retries a dead URL in the background. */
async function chainId(url: string): Promise<number> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { result?: string; error?: { message?: string } };
    if (!body.result) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
    return Number(BigInt(body.result));
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ChainError(`cannot reach the JSON-RPC node at ${url}: ${cause}`, { cause: err });
  }
}

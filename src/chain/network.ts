import { createRequire } from 'node:module';
import { ethers } from 'ethers';
import { ChainError } from '../errors.js';
import { hardhatConfig } from '../paths.js';

const require = createRequire(import.meta.url);

/**
 * Where a chain runs, for the key policy (src/setup/provenance.ts): the in-process EVM and a
 * development node accept development keys by default, any other chain only when told.
 */
export type ChainKind = 'embedded' | 'development' | 'remote';

export interface Chain {
  signer: ethers.Signer;
  provider: ethers.Provider;
  /** "embedded EVM (Hardhat/EDR)" or the RPC URL. */
  description: string;
  kind: ChainKind;
  chainId: number;
  close(): Promise<void>;
}

/** Chain ids of local development networks: Hardhat (31337) and Ganache/geth --dev (1337). */
export const DEVELOPMENT_CHAIN_IDS: readonly number[] = [31337, 1337];

/** localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Development nodes by their web3_clientVersion: Hardhat (EDR), anvil, Ganache. */
const DEVELOPMENT_CLIENTS = /^(HardhatNetwork|anvil|Ganache|EthereumJS TestRPC)\//i;

/**
 * A JSON-RPC node is a development chain only if all hold: its URL's host is loopback (a public
 * URL is someone else's chain), its chain id is a development one (a loopback URL can be a tunnel
 * to, or a fork of, a public chain, which keep their chain id), and, when the node says, its
 * client is a development node (a private network can use chain id 1337 too).
 */
export function chainKind(url: string, chainId: number, clientVersion?: string): ChainKind {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return 'remote';
  }
  const devClient = clientVersion === undefined || DEVELOPMENT_CLIENTS.test(clientVersion);
  return isLoopbackHost(host) && DEVELOPMENT_CHAIN_IDS.includes(chainId) && devClient ? 'development' : 'remote';
}

/** An in-process EVM: Hardhat 2's network (EDR), with its funded dev accounts. No port is opened. */
export async function embeddedChain(): Promise<Chain> {
  const { resolveConfig } = require('hardhat/internal/core/config/config-resolution');
  const { createProvider } = require('hardhat/internal/core/providers/construction');
  const eip1193 = await createProvider(resolveConfig(hardhatConfig, {}), 'hardhat');
  const provider = new ethers.BrowserProvider(eip1193);
  const chainId = Number((await provider.getNetwork()).chainId);
  return { signer: await provider.getSigner(0), provider, description: 'embedded EVM (Hardhat network / EDR, in-process)', kind: 'embedded', chainId, close: async () => provider.destroy() };
}

/**
 * A chain from any EIP-1193 provider: Hardhat's `hre.network.provider` inside a Hardhat project, a
 * wallet's `window.ethereum`. Its kind is the caller's word for it ('remote' unless told: the key
 * policy treats an unknown chain as a public one); the first account signs.
 */
export async function providerChain(eip1193: ethers.Eip1193Provider, options: { kind?: ChainKind; description?: string } = {}): Promise<Chain> {
  const provider = new ethers.BrowserProvider(eip1193);
  const chainId = Number((await provider.getNetwork()).chainId);
  return { signer: await provider.getSigner(0), provider, description: options.description ?? `EIP-1193 provider (chain ${chainId})`, kind: options.kind ?? 'remote', chainId, close: async () => provider.destroy() };
}

/**
 * Any JSON-RPC node. With a private key the key signs; without one the node's first unlocked
 * account does (as on `hardhat node` or anvil).
 */
export async function rpcChain(url: string, privateKey?: string): Promise<Chain> {
  // cacheTimeout -1: ethers otherwise reuses a nonce it read within 250 ms for the next transaction.
  const id = await chainId(url);
  const provider = new ethers.JsonRpcProvider(url, id, { staticNetwork: true, cacheTimeout: -1 });
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
  const client = String(await provider.send('web3_clientVersion', []).catch(() => ''));
  return { signer, provider, description: url, kind: chainKind(url, id, client), chainId: id, close: async () => provider.destroy() };
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

import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { ChainError } from '../errors.js';
import { hardhatConfig, packageRoot } from '../paths.js';

const require = createRequire(import.meta.url);

export interface LocalNode {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `hardhat node` (a real JSON-RPC server, EDR inside) on 127.0.0.1 and waits for it. Its
 * chain id is 31337 unless `chainId` says otherwise (a loopback node with another chain id is not
 * a development chain for the key policy, src/chain/network.ts).
 */
export async function startHardhatNode(port = 0, timeoutMs = 60_000, options: { chainId?: number } = {}): Promise<LocalNode> {
  const cli = require.resolve('hardhat/internal/cli/bootstrap.js');
  const chosen = port || 20000 + Math.floor(Math.random() * 20000);
  const child: ChildProcess = spawn(process.execPath, [cli, 'node', '--hostname', '127.0.0.1', '--port', String(chosen), '--config', hardhatConfig], {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ZKML_CHAIN_ID: String(options.chainId ?? 31337) },
  });
  const url = `http://127.0.0.1:${chosen}`;
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new ChainError(`hardhat node did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(err);
    };
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes('Started HTTP')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (output += d));
    child.on('exit', (code) => fail(new ChainError(`hardhat node exited with code ${code}:\n${output}`)));
  });
  child.stdout!.resume();
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.removeAllListeners('exit');
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

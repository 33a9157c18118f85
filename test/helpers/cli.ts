import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { scratchDir } from './fixtures.js';

const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
/** The registries a test process's commands deploy are remembered here, not in the user's state directory. */
const state = scratchDir('state');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in a child process, with no chain settings inherited from the environment. */
export function zkml(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZKML_RPC: '', ZKML_PRIVATE_KEY: '', ZKML_STATE: state } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A failed command: its exit code, a message matching `pattern`, and no stack trace. */
export function expectError(run: Run, pattern: RegExp, code = 1): void {
  assert.equal(run.code, code, `exit code (stderr: ${run.stderr})`);
  assert.match(run.stderr, pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

import * as snarkjs from 'snarkjs';

/**
 * snarkjs keeps one multi-threaded BN254 curve per process; its worker threads keep Node alive
 * until terminated. Call once when a command is done with snarkjs.
 */
export async function releaseCurves(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } };
  if (g.curve_bn128) {
    await g.curve_bn128.terminate();
    delete g.curve_bn128;
  }
}

export type Logger = (line: string) => void;

/** A snarkjs logger that forwards its info lines (progress of long steps) to ours. */
export function snarkLogger(log: Logger, errors: string[] = []) {
  return {
    debug: () => {},
    info: (msg: unknown) => log(`  ${String(msg)}`),
    warn: (msg: unknown) => log(`  warning: ${String(msg)}`),
    error: (msg: unknown) => {
      errors.push(String(msg));
    },
  };
}

export { snarkjs };

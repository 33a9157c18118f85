import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * snarkjs modules its package does not export, for the dev setup (src/setup/dev_ptau.ts,
 * dev_zkey.ts), which must write byte for byte what snarkjs writes, and for reading how keys were
 * made (src/setup/contributions.ts): the ptau helpers (header, contributions, beacon keys), the
 * zkey helpers (header, phase-2 contributions), misc (partial hashes) and the BLAKE2b it hashes with.
 */
const require = createRequire(import.meta.url);
const snarkjsSrc = join(dirname(require.resolve('snarkjs')), '..', 'src');

export interface Hasher {
  update(b: Uint8Array): Hasher;
  digest(): Uint8Array;
}

export interface SnarkjsInternals {
  utils: Record<string, (...args: any[]) => any>;
  zkeyUtils: Record<string, (...args: any[]) => any>;
  misc: { toPartialHash(h: Hasher): Uint8Array };
  blake2b(): Hasher;
}

export async function snarkjsInternals(): Promise<SnarkjsInternals> {
  const load = (name: string) => import(pathToFileURL(join(snarkjsSrc, name)).href);
  const [utils, zkeyUtils, misc, noble] = await Promise.all([
    load('powersoftau_utils.js'),
    load('zkey_utils.js'),
    load('misc.js'),
    import(pathToFileURL(require.resolve('@noble/hashes/blake2b', { paths: [snarkjsSrc] })).href),
  ]);
  return { utils, zkeyUtils, misc, blake2b: () => noble.blake2b.create({ dkLen: 64 }) };
}

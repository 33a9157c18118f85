/**
 * circomlibjs' Poseidon round constants and MDS matrices (hex strings), read from its package
 * folder: its package exports only its entry points. The browser bundle replaces this module with
 * one that imports circomlibjs' own constants module (src/browser/bundle.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function readPoseidonConstants(): { C: string[][]; M: string[][][] } {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('circomlibjs')), '..');
  return JSON.parse(readFileSync(join(root, 'src', 'poseidon_constants.json'), 'utf8')) as { C: string[][]; M: string[][][] };
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as snarkjs from 'snarkjs';
import { releaseCurves } from '../src/setup/curve.js';
import { devPhase1, preparePhase2FromSecret } from '../src/setup/dev_ptau.js';
import { scratchDir } from './helpers/fixtures.js';

describe('fast dev powers of tau', () => {
  after(releaseCurves);

  it('writes byte for byte what snarkjs prepare phase2 writes, and snarkjs verifies it', async () => {
    const dir = scratchDir('ptau');
    const phase1 = join(dir, 'phase1.ptau');
    const secret = await devPhase1(6, phase1);
    await preparePhase2FromSecret(phase1, join(dir, 'fast.ptau'), secret);
    await snarkjs.powersOfTau.preparePhase2(phase1, join(dir, 'snarkjs.ptau'));
    const fast = readFileSync(join(dir, 'fast.ptau'));
    assert.ok(fast.length > 10_000);
    assert.ok(fast.equals(readFileSync(join(dir, 'snarkjs.ptau'))), 'the files differ');
    assert.equal(await snarkjs.powersOfTau.verify(join(dir, 'fast.ptau')), true);
  });

  it('a wrong secret gives a different file (the comparison above can fail)', async () => {
    const dir = scratchDir('ptau');
    const phase1 = join(dir, 'phase1.ptau');
    const secret = await devPhase1(4, phase1);
    await preparePhase2FromSecret(phase1, join(dir, 'wrong.ptau'), { ...secret, tau: secret.tau + 1n });
    await snarkjs.powersOfTau.preparePhase2(phase1, join(dir, 'snarkjs.ptau'));
    assert.equal(readFileSync(join(dir, 'wrong.ptau')).equals(readFileSync(join(dir, 'snarkjs.ptau'))), false);
    assert.equal(await snarkjs.powersOfTau.verify(join(dir, 'wrong.ptau')), false);
  });
});

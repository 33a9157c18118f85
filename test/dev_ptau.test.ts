import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as snarkjs from 'snarkjs';
import { releaseCurves } from '../src/setup/curve.js';
import { generateDevPtau } from '../src/setup/dev_ptau.js';
import { devZkey } from '../src/setup/dev_zkey.js';
import { compiled, scratchDir } from './helpers/fixtures.js';

const BEACON = '5ca1ab1e'.repeat(8);
const quiet = () => {};

/** What snarkjs itself writes for the same beacon: new accumulator, beacon, prepare phase2. */
async function snarkjsPtau(dir: string, power: number, beacon: string): Promise<Buffer> {
  const ps = snarkjs.powersOfTau as unknown as { beacon(...a: unknown[]): Promise<unknown> };
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  await snarkjs.powersOfTau.newAccumulator(curve, power, join(dir, 'new.ptau'));
  await ps.beacon(join(dir, 'new.ptau'), join(dir, 'beacon.ptau'), 'zkml dev (insecure)', beacon, 10);
  await snarkjs.powersOfTau.preparePhase2(join(dir, 'beacon.ptau'), join(dir, 'snarkjs.ptau'));
  return readFileSync(join(dir, 'snarkjs.ptau'));
}

describe('fast dev powers of tau', () => {
  after(releaseCurves);

  it('writes byte for byte what snarkjs new + beacon + prepare phase2 write, and snarkjs verifies it', async () => {
    const dir = scratchDir('ptau');
    await generateDevPtau(6, join(dir, 'fast.ptau'), quiet, BEACON);
    const fast = readFileSync(join(dir, 'fast.ptau'));
    assert.ok(fast.length > 10_000);
    assert.ok(fast.equals(await snarkjsPtau(dir, 6, BEACON)), 'the files differ');
    assert.equal(await snarkjs.powersOfTau.verify(join(dir, 'fast.ptau')), true);
  });

  it('a different beacon gives a different file, and a changed point fails verification', async () => {
    const dir = scratchDir('ptau');
    await generateDevPtau(4, join(dir, 'other.ptau'), quiet, BEACON.replace('5', '6'));
    assert.equal(readFileSync(join(dir, 'other.ptau')).equals(await snarkjsPtau(dir, 4, BEACON)), false);
    // Replace one Lagrange point (the last G1 point of section 15) by another valid point.
    const bytes = readFileSync(join(dir, 'other.ptau'));
    const last = bytes.length - 64;
    bytes.copy(bytes, last, last - 64, last);
    writeFileSync(join(dir, 'tampered.ptau'), bytes);
    assert.equal(await snarkjs.powersOfTau.verify(join(dir, 'tampered.ptau')), false);
  });

  it('the dev proving key is byte for byte what snarkjs zkey new writes from the same ptau', async () => {
    const dir = scratchDir('zkey');
    const { dir: build } = await compiled('iris_mlp');
    const r1cs = join(build, 'model.r1cs');
    await generateDevPtau(11, join(dir, 'dev.ptau'), quiet, BEACON);
    assert.equal(await devZkey(r1cs, join(dir, 'dev.ptau'), join(dir, 'fast.zkey')), true);
    await snarkjs.zKey.newZKey(r1cs, join(dir, 'dev.ptau'), join(dir, 'snarkjs.zkey'));
    const fast = readFileSync(join(dir, 'fast.zkey'));
    assert.ok(fast.length > 100_000);
    assert.ok(fast.equals(readFileSync(join(dir, 'snarkjs.zkey'))), 'the keys differ');
  });

  it('a ptau with a secret contribution is left to snarkjs: no key is written', async () => {
    const dir = scratchDir('zkey');
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    await snarkjs.powersOfTau.newAccumulator(curve, 11, join(dir, 'new.ptau'));
    await snarkjs.powersOfTau.contribute(join(dir, 'new.ptau'), join(dir, 'one.ptau'), 'secret', 'entropy');
    const { dir: build } = await compiled('iris_mlp');
    // The contribution check runs before phase 2 is needed, so the unprepared file suffices.
    assert.equal(await devZkey(join(build, 'model.r1cs'), join(dir, 'one.ptau'), join(dir, 'never.zkey')), false);
    assert.equal(existsSync(join(dir, 'never.zkey')), false);
  });
});

import * as snarkjs from 'snarkjs';
import { readFileSync } from 'node:fs';
import { devZkey } from './dist/src/setup/dev_zkey.js';
const [r1cs, ptau] = process.argv.slice(2);
let t = performance.now();
const ok = await devZkey(r1cs, ptau, '/tmp/dev.zkey');
console.log('devZkey', ok, ((performance.now()-t)/1000).toFixed(1));
t = performance.now();
await snarkjs.zKey.newZKey(r1cs, ptau, '/tmp/snark.zkey');
console.log('newZKey', ((performance.now()-t)/1000).toFixed(1));
const a = readFileSync('/tmp/dev.zkey'), b = readFileSync('/tmp/snark.zkey');
console.log('sizes', a.length, b.length, 'equal', a.equals(b));
if (!a.equals(b)) { let i=0; while (a[i]===b[i]) i++; console.log('first diff at', i); }
process.exit(0);

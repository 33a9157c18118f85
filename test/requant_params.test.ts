/**
 * requantParams (src/quant/requant_params.ts): the fixed-point multiplier must round exactly as
 * the rational formula does, ties to even, for every accumulator in the bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundDiv, roundShift } from '../src/ops/fixed_point.js';
import { firstMultipleIn, rational, rationalOf, requantParams, roundHalfEven, type Rational, type RequantParams } from '../src/quant/requant_params.js';
import { rng } from './helpers/onnx_builder.js';
import { rationalRound } from './helpers/rational.js';

function exact(f: Rational, o: Rational, a: bigint): bigint {
  return rationalRound(f.n * a * o.d + o.n * f.d, f.d * o.d, true);
}

/** The requantization a RequantParams stands for: RoundShift, or RoundDiv (ties to even) where it has a divisor. */
function requantize(p: RequantParams, a: bigint): bigint {
  const v = p.multiplier * a + p.offset;
  return p.divisor ? roundDiv(v, p.divisor, true) : roundShift(v, p.shift, p.even);
}

function agreesEverywhere(f: Rational, o: Rational, lo: bigint, hi: bigint): RequantParams {
  const p = requantParams(f, o, { lo, hi }, 'test');
  for (let a = lo; a <= hi; a++) assert.equal(requantize(p, a), exact(f, o, a), `f=${f.n}/${f.d} o=${o.n}/${o.d} A=${a}`);
  return p;
}

describe('requantParams', () => {
  it('roundHalfEven is the rational rounding, ties to even', () => {
    for (let n = -60n; n <= 60n; n++) for (const d of [1n, 2n, 3n, 4n, 8n, 10n]) assert.equal(roundHalfEven(rational(n, d)), rationalRound(n, d, true), `${n}/${d}`);
  });

  it('reads doubles exactly', () => {
    assert.deepEqual(rationalOf(0.375), { n: 3n, d: 8n });
    assert.deepEqual(rationalOf(-2.5), { n: -5n, d: 2n });
    const s = Math.fround(0.00792);
    const r = rationalOf(s);
    assert.equal(Number(r.n) / Number(r.d), s);
  });

  it('power-of-two denominators: exact, ties to even where they occur, half up (cheaper) where none can', () => {
    agreesEverywhere(rational(3n, 8n), rational(0n), -200n, 200n);
    agreesEverywhere(rational(5n, 4n), rational(-3n, 8n), -100n, 100n);
    const p = requantParams(rational(3n, 8n), rational(0n), { lo: -200n, hi: 200n }, 'test');
    assert.equal(p.even, true, '3A/8 has ties (A = 4)');
    const q = requantParams(rational(1n, 4n), rational(1n, 8n), { lo: -50n, hi: 50n }, 'test');
    assert.equal(q.even, false, 'A/4 + 1/8 is never a half-integer');
    agreesEverywhere(rational(1n, 4n), rational(1n, 8n), -50n, 50n);
    assert.deepEqual(requantParams(rational(1n), rational(0n), { lo: -5n, hi: 5n }, 'test'), { multiplier: 1n, offset: 0n, shift: 0, even: false });
  });

  it('other denominators: exact over the whole bound when no tie can occur', () => {
    // Tie-free over [-300, 300]: 2PA + 2R + Q = 0 (mod 2Q) has no solution (Q odd, or checked below).
    for (const [fn, fd, on, od] of [[1n, 3n, 0n, 1n], [5n, 7n, 1n, 3n], [2n, 9n, -4n, 9n], [1n, 1000n, 3n, 7n], [3n, 10n, 1n, 7n]] as const) {
      agreesEverywhere(rational(fn, fd), rational(on, od), -300n, 300n);
    }
    // 7A/10 + 1/5 is a tie at A = -1 (-1/2) and A = 9: an exact divisor over any bound that holds
    // one, a fixed-point multiplier over one that does not.
    assert.equal(agreesEverywhere(rational(7n, 10n), rational(1n, 5n), -300n, 300n).divisor, 10n);
    assert.equal(agreesEverywhere(rational(7n, 10n), rational(1n, 5n), -1n, -1n).divisor, 10n);
    assert.equal(agreesEverywhere(rational(7n, 10n), rational(1n, 5n), 0n, 8n).divisor, undefined); // the next tie is at A = 9
  });

  it('reduces its arguments first', () => {
    agreesEverywhere({ n: 3n, d: 6n }, { n: 0n, d: 5n }, -20n, 20n);
    agreesEverywhere({ n: -2n, d: -4n }, { n: 1n, d: -4n }, -20n, 20n);
  });

  it('a reachable tie with a denominator that is not a power of two: an exact divisor, ties to even', () => {
    // A/6: A = 3 gives 1/2, A = 9 gives 3/2.
    const p = agreesEverywhere(rational(1n, 6n), rational(0n), -50n, 50n);
    assert.deepEqual([p.divisor, p.even], [6n, true]);
    // ... and a fixed-point multiplier where the bound excludes every tie.
    assert.equal(agreesEverywhere(rational(1n, 6n), rational(0n), 4n, 8n).divisor, undefined);
  });

  it('the least exact shift: exact on every accumulator of the bound, for 300 random multipliers and offsets', () => {
    const next = rng(7);
    for (let k = 0; k < 300; k++) {
      const d = BigInt(3 + Math.floor(((next() + 1) / 2) * 2 ** 20));
      const f = rational(BigInt(1 + Math.floor(((next() + 1) / 2) * 2 ** 18)), d);
      const o = rational(BigInt(Math.floor(next() * 2 ** 10)), BigInt(1 + Math.floor(((next() + 1) / 2) * 1000)));
      agreesEverywhere(f, o, -1500n, 1500n);
    }
  });

  it('the shift is sized by how close the accumulators come to a tie, not by the denominator alone', () => {
    // PyTorch-like: a denominator near 2^50 over an 18-bit accumulator. The bound every A satisfies
    // (2^shift > Q (max|A| + 1)) would need 68 bits.
    const f = rational(rationalOf(Math.fround(0.0123)).n * rationalOf(Math.fround(0.00377)).n * rationalOf(Math.fround(0.0451)).d, rationalOf(Math.fround(0.0123)).d * rationalOf(Math.fround(0.00377)).d * rationalOf(Math.fround(0.0451)).n);
    const p = requantParams(f, rational(0n), { lo: -(1n << 18n), hi: 1n << 18n }, 'conv');
    assert.ok(p.shift <= 52, `shift ${p.shift}`);
    for (let a = -(1n << 18n); a <= 1n << 18n; a += 7n) assert.equal(roundShift(p.multiplier * a + p.offset, p.shift, p.even), exact(f, rational(0n), a));
  });

  it('firstMultipleIn: the least x with (a x) mod m in [lo, hi], against a search', () => {
    for (let m = 1n; m < 24n; m++) {
      for (let a = 0n; a < m; a++) {
        for (let lo = 0n; lo < m; lo++) {
          for (let hi = lo; hi < m; hi++) {
            let want = -1n;
            for (let x = 0n; x < m && want < 0n; x++) if ((a * x) % m >= lo && (a * x) % m <= hi) want = x;
            assert.equal(firstMultipleIn(a, m, lo, hi), want, `a=${a} m=${m} [${lo}, ${hi}]`);
          }
        }
      }
    }
  });

  it('a tie inside the interval that no accumulator reaches keeps the cheaper fixed-point multiplier (an Add of two scales)', () => {
    // A/6 has a tie at A = 3; A = 4 x with x in [0, 60] never is one (4x/6 = 2x/3 is never j + 1/2).
    const terms = { weight: [4n], range: [{ lo: 0n, hi: 60n }], bias: 0n };
    assert.equal(requantParams(rational(1n, 6n), rational(0n), { lo: 0n, hi: 240n }, 'add').divisor, 6n);
    const p = requantParams(rational(1n, 6n), rational(0n), { lo: 0n, hi: 240n }, 'add', [terms]);
    assert.equal(p.divisor, undefined);
    for (let x = 0n; x <= 60n; x++) assert.equal(requantize(p, 4n * x), exact(rational(1n, 6n), rational(0n), 4n * x));
    // Two terms: (3x + 4y + 1) / 6 is a tie at x = 0, y = 2 (9/6): reachable, so an exact divisor.
    assert.equal(requantParams(rational(1n, 6n), rational(0n), { lo: 1n, hi: 100n }, 'add', [{ weight: [3n, 4n], range: [{ lo: 0n, hi: 5n }, { lo: 0n, hi: 5n }], bias: 1n }]).divisor, 6n);
    // (6x + 12y + 1) / 6 = x + 2y + 1/6: never a tie, though its interval [1, 100] holds some.
    const sparse = requantParams(rational(1n, 6n), rational(0n), { lo: 1n, hi: 100n }, 'add', [{ weight: [6n, 12n], range: [{ lo: 0n, hi: 5n }, { lo: 0n, hi: 5n }], bias: 1n }]);
    assert.deepEqual([sparse.divisor, sparse.even], [undefined, false]);
    // A max pool's window: a tie in any of its rows counts.
    assert.equal(requantParams(rational(1n, 6n), rational(0n), { lo: 0n, hi: 240n }, 'pool', [terms, { weight: [3n], range: [{ lo: 0n, hi: 5n }], bias: 0n }]).divisor, 6n);
  });

  it('float32 scales as PyTorch exports them: exact on every accumulator sampled over a 2^20 bound', () => {
    const signed = rng(19);
    const next = () => (signed() + 1) / 2; // [0, 1)
    for (let k = 0; k < 20; k++) {
      const sx = Math.fround(0.001 + next() * 0.02);
      const sw = Math.fround(0.0005 + next() * 0.01);
      const sy = Math.fround(0.005 + next() * 0.05);
      // A float32 bias at scale sx sw, over sy: a fractional offset (the output's zero point is added after rounding, outside).
      const bias = Math.fround((next() * 2 - 1) * 3);
      const f = rational(rationalOf(sx).n * rationalOf(sw).n * rationalOf(sy).d, rationalOf(sx).d * rationalOf(sw).d * rationalOf(sy).n);
      const o = rational(rationalOf(bias).n * rationalOf(sy).d, rationalOf(bias).d * rationalOf(sy).n);
      const bound = 1n << 20n;
      const p = requantParams(f, o, { lo: -bound, hi: bound }, 'fx');
      assert.ok(p.shift < 120, `shift ${p.shift}`);
      for (let i = 0; i < 2000; i++) {
        const a = BigInt(Math.floor((next() * 2 - 1) * Number(bound)));
        assert.equal(requantize(p, a), exact(f, o, a));
      }
      for (const a of [-bound, bound, 0n, 1n, -1n]) assert.equal(requantize(p, a), exact(f, o, a));
    }
  });
});

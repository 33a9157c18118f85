pragma circom 2.1.0;

// DivRound(qBits, rBits, shift): out = round(a * 2^shift / b), rounding half up, for b >= 1.
//
// out is the integer q with  2*a*2^shift + b = 2*b*q + r  and  0 <= r < 2*b, i.e.
// floor((a * 2^(shift+1) + b) / (2*b)). The quotient is held as qo = q + 2^(qBits-1) in qBits
// bits; r and 2*b - 1 - r are each decomposed in rBits bits, which pins r to [0, 2b) and, since
// 2b - 1 - r >= 0, proves b >= 1: a zero or negative divisor has no witness.
// Soundness: a and b are integers within their proven ranges (upstream range checks), and every
// term of the equation stays far below p: |a| 2^(shift+1) + b (1 + 2^qBits) < 2^250 (checked by
// src/ops/div.ts, also when qBits is a cap that does not bound a). So the one product constraint
// holds over the integers and q, r are the unique quotient and remainder.
//
// Spec:          src/ops/div.ts (divDef.evaluate; widths from divDef's bound analysis)
// Preconditions: -2^(qBits-1) <= q < 2^(qBits-1) for every admissible input; 2*b - 1 < 2^rBits;
//                qBits + rBits <= 250; |a| 2^(shift+1) + b (1 + 2^qBits) < 2^250.
// Cost:          qBits + 2*rBits (booleanity) + 1 (the product q * 2b) non-linear;
//                3 linear (recompositions of r and 2b - 1 - r, the output).
template DivRound(qBits, rBits, shift) {
    assert(qBits >= 1 && rBits >= 1 && qBits + rBits <= 250);
    signal input a;
    signal input b;
    signal output out;
    signal qb[qBits];
    signal rb[rBits];
    signal sb[rBits];
    signal prod;

    var offset = 1 << (qBits - 1);
    var num = 2 * a * (1 << shift) + b + 2 * b * offset;
    var qo = 0;
    var e2 = 1;
    for (var i = 0; i < qBits; i++) {
        qb[i] <-- ((num \ (2 * b)) >> i) & 1;
        qb[i] * (qb[i] - 1) === 0;
        qo += qb[i] * e2;
        e2 += e2;
    }
    prod <== qo * (2 * b);
    // r = num - qo * 2b
    var r = 0;
    e2 = 1;
    for (var i = 0; i < rBits; i++) {
        rb[i] <-- ((num - prod) >> i) & 1;
        rb[i] * (rb[i] - 1) === 0;
        r += rb[i] * e2;
        e2 += e2;
    }
    r === num - prod;
    var s = 0;
    e2 = 1;
    for (var i = 0; i < rBits; i++) {
        sb[i] <-- ((2 * b - 1 - r) >> i) & 1;
        sb[i] * (sb[i] - 1) === 0;
        s += sb[i] * e2;
        e2 += e2;
    }
    s === 2 * b - 1 - r;
    out <== qo - offset;
}

pragma circom 2.1.0;

// RoundDiv(qBits, rBits, d, even): out = in / d rounded to the nearest integer, ties to even when
// even == 1 (ONNX QuantizeLinear's rounding), ties up when even == 0, for a constant d >= 2. An
// int8 model's requantization takes it where its denominator is not a power of two and a tie can
// occur (RoundShift is the power-of-two case, and the fixed-point one when no tie can).
//
//     2 in + d = 2 d q + r,   0 <= r < 2d
// q = floor((in + d/2) / d) is held as qo = q + 2^(qBits-1) in qBits bits; r = 2 in + d - 2 d q
// (linear: d is a constant) and 2d - 1 - r are each decomposed in rBits bits, with 2d - 1 < 2^rBits,
// which pins r to [0, 2d) and so q to the one quotient. in / d is a tie exactly when r == 0: then
// q is the upper neighbour and half to even takes q - 1 when q is odd. z = (r == 0) is pinned by
// r * inv = 1 - z and r * z = 0; q's parity is qb[0] (its offset is even), or 1 - qb[0] when qBits == 1.
//
// Spec:          src/ops/fixed_point.ts (roundDiv) via src/ops/requant.ts
// Preconditions: -2^(qBits-1) <= q < 2^(qBits-1) for every admissible input; 2d - 1 < 2^rBits;
//                |2 in + d| + 2 d 2^qBits < 2^250 (checked by src/ops/requant.ts).
// Cost:          qBits + 2 rBits non-linear (booleanity) + 3 when even (r * inv, r * z, z * odd);
//                3 linear (recompositions of r and 2d - 1 - r, the output).
template RoundDiv(qBits, rBits, d, even) {
    assert(qBits >= 1 && rBits >= 1 && qBits + rBits <= 250);
    assert(d >= 2);
    signal input in;
    signal output out;
    signal qb[qBits];
    signal rb[rBits];
    signal sb[rBits];

    var offset = 1 << (qBits - 1);
    var num = 2 * in + d + 2 * d * offset;
    var qo = 0;
    var e2 = 1;
    for (var i = 0; i < qBits; i++) {
        qb[i] <-- ((num \ (2 * d)) >> i) & 1;
        qb[i] * (qb[i] - 1) === 0;
        qo += qb[i] * e2;
        e2 += e2;
    }
    // r = 2 in + d - 2 d q
    var r = num - 2 * d * qo;
    var rs = 0;
    e2 = 1;
    for (var i = 0; i < rBits; i++) {
        rb[i] <-- ((num % (2 * d)) >> i) & 1;
        rb[i] * (rb[i] - 1) === 0;
        rs += rb[i] * e2;
        e2 += e2;
    }
    rs === r;
    var s = 0;
    e2 = 1;
    for (var i = 0; i < rBits; i++) {
        sb[i] <-- ((2 * d - 1 - (num % (2 * d))) >> i) & 1;
        sb[i] * (sb[i] - 1) === 0;
        s += sb[i] * e2;
        e2 += e2;
    }
    s === 2 * d - 1 - r;

    if (even == 1) {
        signal inv;
        signal z;
        signal adjust;
        var rv = num % (2 * d);
        inv <-- rv != 0 ? 1 / rv : 0;
        z <== 1 - r * inv;
        r * z === 0;
        var odd = qb[0];
        if (qBits == 1) {
            odd = 1 - qb[0];
        }
        adjust <== z * odd;
        out <== qo - offset - adjust;
    } else {
        out <== qo - offset;
    }
}

pragma circom 2.1.0;

// RoundShift(bits, shift, even): out = in / 2^shift rounded to the nearest integer, ties to even
// when even == 1 (ONNX QuantizeLinear's rounding), ties up when even == 0.
//
// As in RescaleRelu, one decomposition of
//     t = in + 2^(shift-1) + 2^(bits-1)      (in [0, 2^bits) for every admissible input)
// gives q = floor((in + 2^(shift-1)) / 2^shift) (bits b[shift .. bits-1]) and the remainder
// r = t mod 2^shift (bits b[0 .. shift-1], range-checked by booleanity and the recomposition).
// in / 2^shift is a tie exactly when r == 0; then q is the upper neighbour, and half-to-even
// takes q - 1 when q is odd. z = (r == 0) is pinned by r * inv = 1 - z and r * z = 0; the parity
// of q is b[shift] (q's offset 2^(bits-1-shift) is even), or 1 - b[shift] when bits == shift + 1.
//
// Spec:          src/ops/fixed_point.ts (roundShift) via src/ops/requant.ts
// Preconditions: -2^(bits-1) <= in + 2^(shift-1) < 2^(bits-1) for every admissible input;
//                0 <= shift < bits <= 252 (a unique decomposition in BN254); even needs shift >= 1.
// Cost:          bits non-linear (booleanity) + 3 when even (r * inv, r * z, z * odd);
//                1 linear (recomposition) + 1 for the output.
template RoundShift(bits, shift, even) {
    assert(bits >= 1 && bits <= 252);
    assert(shift >= 0 && shift < bits);
    assert(even == 0 || shift >= 1);
    signal input in;
    signal output out;
    signal b[bits];

    var half = 0;
    if (shift > 0) {
        half = 1 << (shift - 1);
    }
    var offset = half + (1 << (bits - 1));

    var sum = 0;
    var e2 = 1;
    for (var i = 0; i < bits; i++) {
        b[i] <-- ((in + offset) >> i) & 1;
        b[i] * (b[i] - 1) === 0;
        sum += b[i] * e2;
        e2 += e2;
    }
    sum === in + offset;

    var low = 0;
    var f2 = 1;
    for (var i = shift; i < bits - 1; i++) {
        low += b[i] * f2;
        f2 += f2;
    }
    // floor((in + 2^(shift-1)) / 2^shift)
    var q = low - (1 - b[bits - 1]) * (1 << (bits - 1 - shift));

    if (even == 1) {
        var r = 0;
        var g2 = 1;
        for (var i = 0; i < shift; i++) {
            r += b[i] * g2;
            g2 += g2;
        }
        signal inv;
        signal z;
        signal adjust;
        inv <-- r != 0 ? 1 / r : 0;
        z <== 1 - r * inv;
        r * z === 0;
        var odd = b[shift];
        if (bits == shift + 1) {
            odd = 1 - b[shift];
        }
        adjust <== z * odd;
        out <== q - adjust;
    } else {
        out <== q;
    }
}

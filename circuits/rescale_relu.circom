pragma circom 2.1.0;

// RescaleRelu(bits, shift, relu): out = floor((in + 2^(shift-1)) / 2^shift), then max(out, 0)
// when relu == 1. Rounds half up; shift == 0 means no rescale (a plain ReLU when relu == 1).
//
// One decomposition serves both the division and the sign: with
//     t = in + 2^(shift-1) + 2^(bits-1)      (in [0, 2^bits) for every admissible input)
// the bits b[shift .. bits-2] are the quotient's magnitude and b[bits-1] is 1 exactly when
// in + 2^(shift-1) >= 0. No remainder is left unconstrained: all bits are pinned by the
// recomposition, so the low `shift` bits are the remainder and lie in [0, 2^shift).
//
// Spec:          src/ops/fixed_point.ts (rescale, relu) via src/ops/rescale.ts
// Preconditions: -2^(bits-1) <= in + 2^(shift-1) < 2^(bits-1) for every admissible input
//                (the compiler derives bits from its bound analysis); 0 <= shift < bits <= 252,
//                so the decomposition is unique in the BN254 field.
// Cost:          bits non-linear (booleanity) + 1 non-linear if relu and bits > shift + 1 (when
//                bits == shift + 1 the ReLU output is the constant 0); 1 linear (recomposition),
//                + 1 linear for the output when relu == 0.
template RescaleRelu(bits, shift, relu) {
    assert(bits >= 1 && bits <= 252);
    assert(shift >= 0 && shift < bits);
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

    // Quotient magnitude: floor(t / 2^shift) without its top bit.
    var low = 0;
    var f2 = 1;
    for (var i = shift; i < bits - 1; i++) {
        low += b[i] * f2;
        f2 += f2;
    }

    if (relu == 1) {
        // sign == 1: the quotient is low >= 0; sign == 0: it is negative and ReLU gives 0.
        out <== b[bits - 1] * low;
    } else {
        // floor(t / 2^shift) - 2^(bits-1-shift)
        out <== low - (1 - b[bits - 1]) * (1 << (bits - 1 - shift));
    }
}

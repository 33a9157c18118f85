pragma circom 2.1.0;

include "rescale_relu.circom";

// RescaleLeaky(signBits, bits, shift, alpha, alphaFrac): LeakyRelu / PRelu with its rescale:
//     z = in * 2^alphaFrac   if in >= 0
//     z = in * alpha         otherwise (alpha = the slope at scale 2^-alphaFrac)
//     out = floor((z + 2^(shift+alphaFrac-1)) / 2^(shift+alphaFrac))
//
// Spec:          src/ops/leaky.ts (leakyDef.evaluate)
// Preconditions: -2^(signBits-1) <= in < 2^(signBits-1); z fits RescaleRelu(bits, shift + alphaFrac)
//                (the compiler derives both widths from its bound analysis); widths <= 252.
// Cost:          signBits (sign decomposition) + 1 (sign * in) + bits (rescale) non-linear.
template RescaleLeaky(signBits, bits, shift, alpha, alphaFrac) {
    assert(signBits >= 1 && signBits <= 252);
    signal input in;
    signal output out;
    signal s[signBits];

    var offset = 1 << (signBits - 1);
    var sum = 0;
    var e2 = 1;
    for (var i = 0; i < signBits; i++) {
        s[i] <-- ((in + offset) >> i) & 1;
        s[i] * (s[i] - 1) === 0;
        sum += s[i] * e2;
        e2 += e2;
    }
    sum === in + offset;

    // s[signBits-1] == 1 exactly when in >= 0.
    signal negative;
    negative <== (1 - s[signBits - 1]) * in;

    component r = RescaleRelu(bits, shift + alphaFrac, 0);
    r.in <== in * (1 << alphaFrac) + (alpha - (1 << alphaFrac)) * negative;
    out <== r.out;
}

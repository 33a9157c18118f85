pragma circom 2.1.0;

// Max2(bits): out = max(a, b).
//
// One decomposition of a - b + 2^(bits-1) gives the sign of a - b; out selects with one product.
// Used for max pooling (a chain over each window) and for Clip (max(x, lo), and min(x, hi) as
// -max(-x, -hi)).
//
// Spec:          src/ops/max.ts and src/ops/clamp.ts (maxDef.evaluate, clampDef.evaluate)
// Preconditions: -2^(bits-1) <= a - b < 2^(bits-1) for every admissible input (the compiler
//                derives bits from its bound analysis); 1 <= bits <= 252.
// Cost:          bits non-linear (booleanity) + 1 (selection); 1 linear (recomposition).
template Max2(bits) {
    assert(bits >= 1 && bits <= 252);
    signal input a;
    signal input b;
    signal output out;
    signal bit[bits];

    var offset = 1 << (bits - 1);
    var sum = 0;
    var e2 = 1;
    for (var i = 0; i < bits; i++) {
        bit[i] <-- ((a - b + offset) >> i) & 1;
        bit[i] * (bit[i] - 1) === 0;
        sum += bit[i] * e2;
        e2 += e2;
    }
    sum === a - b + offset;

    // bit[bits-1] == 1 exactly when a - b >= 0.
    out <== b + bit[bits - 1] * (a - b);
}

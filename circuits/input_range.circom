pragma circom 2.1.0;

// InputRange(lo, bits): constrains `in` to the integers lo, lo + 1, ..., lo + 2^bits - 1.
//
// Why: the model input is a public (or private) field element; without this check a prover could
// claim an input such as 1/2 (mod p), for which the fixed-point semantics mean nothing. Every
// later bound, and so every decomposition width, starts from this range.
//
// Spec:          src/ops/input.ts (inputDef.evaluate rejects values outside the range)
// Preconditions: 1 <= bits <= 252, so the bit decomposition is unique in the BN254 field.
// Cost:          bits non-linear constraints (booleanity) + 1 linear (recomposition).
template InputRange(lo, bits) {
    assert(bits >= 1 && bits <= 252);
    signal input in;
    signal b[bits];

    var sum = 0;
    var e2 = 1;
    for (var i = 0; i < bits; i++) {
        b[i] <-- ((in - lo) >> i) & 1;
        b[i] * (b[i] - 1) === 0;
        sum += b[i] * e2;
        e2 += e2;
    }
    // Pins every b[i]: the only bit string of length bits whose value is in - lo.
    sum === in - lo;
}

pragma circom 2.1.0;

// ArgMax(n, bits, selectLast): out = the position of the largest in[i]; the first one on ties
// (the last when selectLast == 1), as ONNX ArgMax.
//
// A chain: best/pos start at in[0]; step i replaces them when in[i] > best (>= for selectLast),
// the comparison being the sign of one decomposition.
//
// Spec:          src/ops/argmax.ts (argmaxDef.evaluate)
// Preconditions: -2^(bits-1) <= in[i] - in[j] - 1 and in[i] - in[j] < 2^(bits-1) for all i, j
//                (from the compiler's bounds); n >= 2 (a group of one is the constant 0); bits <= 252.
// Cost:          (n - 1) * (bits + 2) - 1 non-linear (the first position update, from the
//                constant 0, is linear).
template ArgMax(n, bits, selectLast) {
    assert(n >= 2 && bits >= 1 && bits <= 252);
    signal input in[n];
    signal output out;
    signal best[n];
    signal pos[n];
    signal bit[n - 1][bits];

    best[0] <== in[0];
    pos[0] <== 0;
    var offset = 1 << (bits - 1);
    var strict = selectLast == 1 ? 0 : 1;
    for (var i = 1; i < n; i++) {
        var sum = 0;
        var e2 = 1;
        for (var j = 0; j < bits; j++) {
            bit[i - 1][j] <-- ((in[i] - best[i - 1] - strict + offset) >> j) & 1;
            bit[i - 1][j] * (bit[i - 1][j] - 1) === 0;
            sum += bit[i - 1][j] * e2;
            e2 += e2;
        }
        sum === in[i] - best[i - 1] - strict + offset;
        // bit[i][bits-1] == 1 exactly when in[i] - best - strict >= 0: a new maximum.
        best[i] <== best[i - 1] + bit[i - 1][bits - 1] * (in[i] - best[i - 1]);
        pos[i] <== pos[i - 1] + bit[i - 1][bits - 1] * (i - pos[i - 1]);
    }
    out <== pos[n - 1];
}


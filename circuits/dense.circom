pragma circom 2.1.0;

// Dense(nIn, nOut, W, B): out[j] = B[j] + sum_i W[j][i] * in[i], W and B constant integers.
//
// The weights are circuit constants, so each output is a linear combination of inputs: this costs
// no multiplication constraint, and circom --O2 substitutes the linear constraints away.
//
// Spec:          src/ops/dense.ts (denseDef.evaluate)
// Preconditions: |out[j]| < p/2 for every input the circuit admits (checked by the compiler's
//                bound analysis, src/quant/bounds.ts, before this template is instantiated).
// Cost:          0 non-linear; nOut linear (removed by --O2).
template Dense(nIn, nOut, W, B) {
    signal input in[nIn];
    signal output out[nOut];

    for (var j = 0; j < nOut; j++) {
        var acc = B[j];
        for (var i = 0; i < nIn; i++) {
            acc += W[j][i] * in[i];
        }
        out[j] <== acc;
    }
}

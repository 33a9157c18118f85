pragma circom 2.1.0;

// OneHot(n): out[j] = 1 if in == j else 0, for in in [0, n); no witness for any other in.
//
// out[j] * (in - j) === 0 forces out[j] = 0 unless in == j, and sum(out) === 1 then forces the one
// at in to 1 (and leaves no solution when in is outside [0, n)), so each out[j] is pinned and
// boolean without a booleanity constraint. An embedding lookup is then linear: row[d] =
// sum_j table[j][d] * out[j], with constant coefficients.
//
// Spec:          src/ops/lookup.ts (lookupDef.evaluate)
// Preconditions: n >= 1; in is an integer (the model input's range check).
// Cost:          n non-linear; 1 linear (the sum; circom --O2 substitutes one out[j] with it).
template OneHot(n) {
    assert(n >= 1);
    signal input in;
    signal output out[n];
    var total = 0;
    for (var j = 0; j < n; j++) {
        out[j] <-- in == j ? 1 : 0;
        out[j] * (in - j) === 0;
        total += out[j];
    }
    total === 1;
}

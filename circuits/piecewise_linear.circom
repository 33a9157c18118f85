pragma circom 2.1.0;

include "rescale_relu.circom";

// PiecewiseLinear(bits, domainBits, k, A, B, below, above, vBits): a saturating piecewise-linear
// function on 2^k equal segments of [-2^domainBits, 2^domainBits) (sigmoid, tanh).
//
//   outside the domain:  V = below (in < -2^domainBits) or above (in >= 2^domainBits)
//   inside:              u = in + 2^domainBits, idx = u >> w, t = u mod 2^w, w = domainBits + 1 - k
//                        V = A[idx] * 2^w + B[idx] * t
//   out = floor((V + 2^(w-1)) / 2^w)
//
// The segment index and the offset inside it are bits of the input's own decomposition, so the
// table lookup costs a one-hot decoder (2^k constraints) and no comparison per segment.
//
// Spec:          src/ops/pwl.ts (pwlDef.evaluate, tables from pwlTables)
// Preconditions: -2^(bits-1) <= in < 2^(bits-1), bits >= domainBits + 1, k <= domainBits + 1;
//                V fits RescaleRelu(vBits, w); all widths <= 252.
// Cost:          bits + 3 (range test, only when bits > domainBits + 1) + 2^k (decoder)
//                + 2 (slope product, saturation select) + vBits (final rescale) non-linear.
template PiecewiseLinear(bits, domainBits, k, A, B, below, above, vBits) {
    assert(bits >= domainBits + 1 && bits <= 252 && k <= domainBits + 1);
    signal input in;
    signal output out;
    signal b[bits];

    var offset = 1 << (bits - 1);
    var sum = 0;
    var e2 = 1;
    for (var i = 0; i < bits; i++) {
        b[i] <-- ((in + offset) >> i) & 1;
        b[i] * (b[i] - 1) === 0;
        sum += b[i] * e2;
        e2 += e2;
    }
    sum === in + offset;
    var s = b[bits - 1];

    // In the domain iff the bits above domainBits all equal the sign's complement pattern:
    // none set for in >= 0, all set for in < 0. d counts the disagreeing bits.
    var nHigh = bits - 1 - domainBits;
    signal inRange;
    if (nHigh > 0) {
        var high = 0;
        for (var i = domainBits; i < bits - 1; i++) high += b[i];
        signal sh;
        sh <== s * (2 * high - nHigh);
        var d = nHigh - high + sh;
        signal inv;
        inv <-- d != 0 ? 1 / d : 0;
        inRange <== 1 - d * inv;
        d * inRange === 0;
    } else {
        inRange <== 1;
    }

    // u = in + 2^domainBits: its low bits are b[0 .. domainBits-1], its top bit is s.
    var w = domainBits + 1 - k;
    var idx = 0;
    var f2 = 1;
    for (var m = 0; m < k; m++) {
        var pos = w + m;
        if (pos == domainBits) {
            idx += s * f2;
        } else {
            idx += b[pos] * f2;
        }
        f2 += f2;
    }
    var t = 0;
    var g2 = 1;
    for (var i = 0; i < w; i++) {
        t += b[i] * g2;
        g2 += g2;
    }

    // One-hot decoder: onehot[j] is forced to 0 unless idx == j, and they sum to 1.
    var n = 1 << k;
    signal onehot[n];
    var total = 0;
    var aSel = 0;
    var bSel = 0;
    for (var j = 0; j < n; j++) {
        onehot[j] <-- idx == j ? 1 : 0;
        onehot[j] * (idx - j) === 0;
        total += onehot[j];
        aSel += onehot[j] * A[j];
        bSel += onehot[j] * B[j];
    }
    total === 1;

    signal slope;
    slope <== bSel * t;
    var sat = below + s * (above - below);
    signal v;
    v <== sat + inRange * (aSel * (1 << w) + slope - sat);

    component r = RescaleRelu(vBits, w, 0);
    r.in <== v;
    out <== r.out;
}

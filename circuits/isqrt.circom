pragma circom 2.1.0;

// ISqrt(yBits, xBits): out = floor(sqrt(in)), the integer y with y^2 <= in < (y + 1)^2.
//
// y is decomposed in yBits bits (so 0 <= y < 2^yBits); in - y^2 and y^2 + 2y - in (that is,
// (y+1)^2 - 1 - in) are each decomposed in xBits bits, the double inequality. A negative input
// has no witness. Every term is an integer far below p, so the inequalities hold over the integers.
//
// Spec:          src/ops/sqrt.ts (sqrtDef.evaluate; widths from its bound analysis)
// Preconditions: in < 2^xBits and 2*floor(sqrt(in)) + 1 <= 2^xBits for every admissible input;
//                2^yBits > floor(sqrt(max in)); xBits <= 250.
// Cost:          yBits + 2*xBits (booleanity) + 1 (y^2) non-linear; 3 linear (two
//                recompositions, the output).
function isqrt(n) {
    var x = n;
    var y = (x + 1) \ 2;
    while (y < x) {
        x = y;
        y = (x + n \ x) \ 2;
    }
    return x;
}

template ISqrt(yBits, xBits) {
    assert(yBits >= 1 && xBits >= 1 && xBits <= 250);
    signal input in;
    signal output out;
    signal yb[yBits];
    signal lb[xBits];
    signal hb[xBits];
    signal square;

    var y = 0;
    var e2 = 1;
    for (var i = 0; i < yBits; i++) {
        yb[i] <-- (isqrt(in) >> i) & 1;
        yb[i] * (yb[i] - 1) === 0;
        y += yb[i] * e2;
        e2 += e2;
    }
    square <== y * y;
    var low = 0;
    var high = 0;
    e2 = 1;
    for (var i = 0; i < xBits; i++) {
        lb[i] <-- ((in - square) >> i) & 1;
        hb[i] <-- ((square + 2 * y - in) >> i) & 1;
        lb[i] * (lb[i] - 1) === 0;
        hb[i] * (hb[i] - 1) === 0;
        low += lb[i] * e2;
        high += hb[i] * e2;
        e2 += e2;
    }
    low === in - square;
    high === square + 2 * y - in;
    out <== y;
}

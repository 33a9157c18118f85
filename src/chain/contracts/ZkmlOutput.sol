// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title ZkmlOutput
/// @notice Reads a zkml model output as the registry records it (IInferenceRegistry.resultOf):
/// public signals are BN254 field elements, a negative value v is p - |v|, and the value stands
/// for v * 2^-frac (the build's `manifest.output.frac`; `zkml export-verifier` writes it to
/// registration.json).
library ZkmlOutput {
    /// BN254 scalar field modulus.
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    error NotAFieldElement(uint256 value);
    error ScaleTooLarge(uint8 frac);
    error NotAnAddress(uint256 value);

    /// @notice The signed integer a field element stands for (values above p/2 are negative).
    function toInt(uint256 v) internal pure returns (int256) {
        if (v >= FIELD) revert NotAFieldElement(v);
        return v > FIELD / 2 ? -int256(FIELD - v) : int256(v);
    }

    /// @notice The output value scaled to `unit` (1e18 for 18 decimals): toInt(v) * unit / 2^frac,
    /// rounded toward zero.
    function toFixed(uint256 v, uint8 frac, uint256 unit) internal pure returns (int256) {
        if (frac > 254) revert ScaleTooLarge(frac);
        return (toInt(v) * int256(unit)) / int256(uint256(1) << frac);
    }

    /// @notice The recipient a proof names, read from its public signals by a contract that calls
    /// the verifier directly (the registry checks this itself): a value of 2^160 or more is no
    /// address, and truncating it with address(uint160(v)) would credit another.
    function toAddress(uint256 v) internal pure returns (address) {
        if (v >> 160 != 0) revert NotAnAddress(v);
        return address(uint160(v));
    }

    /// @notice Index of the largest output (the first, on ties): a classifier's class.
    function argmax(uint256[] memory output) internal pure returns (uint256 index) {
        int256 best = type(int256).min;
        for (uint256 i = 0; i < output.length; i++) {
            int256 x = toInt(output[i]);
            if (x > best) (best, index) = (x, i);
        }
    }
}

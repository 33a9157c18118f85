// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice What other contracts read from an InferenceRegistry: verified inference results.
interface IInferenceRegistry {
    /// @notice The verified result of model `modelId` for `inputKey`, bound to `recipient` (the
    /// address the proof names; address(0) for a proof bound to no one). `exists` is false when no
    /// proof has been accepted for it. `submitter` sent the transaction (anyone may relay a proof;
    /// only `recipient` is credited). `output` holds the output values (field elements; values
    /// above p/2 are negative) when the model's output is public, `outputCommitment` the Poseidon
    /// commitment when it is hashed.
    function resultOf(uint256 modelId, bytes32 inputKey, address recipient)
        external
        view
        returns (bool exists, address submitter, uint64 blockNumber, uint256 outputCommitment, uint256[] memory output);

    /// @notice Whether the model is registered and accepting proofs.
    function isActive(uint256 modelId) external view returns (bool);
}

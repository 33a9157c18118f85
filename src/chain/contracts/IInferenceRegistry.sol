// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice What other contracts read from an InferenceRegistry: verified inference results.
interface IInferenceRegistry {
    /// @notice One item of a batch proof (a batched model; zkml's batch file records every field):
    /// the batch's key (root, count, recipient), the item's position, its input key (commitment
    /// or nullifier) and output commitment, and its path to the root (its partner's two keys, then
    /// 3 siblings per level of the 4-ary tree; InferenceRegistry._itemProblem).
    struct BatchItem {
        uint256 root;
        uint256 count;
        address recipient;
        uint256 index;
        uint256 inputKey;
        uint256 outputCommitment;
        uint256[] path;
    }

    /// @notice Whether `item` belongs to a batch the registry has verified for `modelId`, and who
    /// submitted the batch when. A view: it records nothing (openItem records the item's result,
    /// after which resultOfCommitted reads it too).
    function itemOf(uint256 modelId, BatchItem calldata item) external view returns (bool exists, address submitter, uint64 blockNumber);

    /// @notice The verified result of a public-output model `modelId` for `inputKey`, bound to
    /// `recipient` (the address the proof names; address(0) for a proof bound to no one). `exists`
    /// is false when no proof has been accepted for it. `submitter` sent the transaction (anyone
    /// may relay a proof; only `recipient` is credited). `output` holds the output values (field
    /// elements; values above p/2 are negative; see ZkmlOutput).
    function resultOf(uint256 modelId, bytes32 inputKey, address recipient)
        external
        view
        returns (bool exists, address submitter, uint64 blockNumber, uint256 outputCommitment, uint256[] memory output);

    /// @notice The same for a hashed-output model: its results are also keyed by the output
    /// commitment, so a proof of the same input and recipient under another output salt (which
    /// anyone who can prove the input can make) is another result and never takes this one's
    /// place. ZkmlOutputOpener computes the commitment from the revealed output and salt.
    function resultOfCommitted(uint256 modelId, bytes32 inputKey, address recipient, uint256 outputCommitment)
        external
        view
        returns (bool exists, address submitter, uint64 blockNumber);

    /// @notice Whether the model's input key commits to the input itself (public or hashed input),
    /// as a consumer that pays per input must require. A private input's key is a nullifier: it
    /// names a proof, not the data behind it.
    function commitsToInput(uint256 modelId) external view returns (bool);

    /// @notice Whether the model is registered and accepting proofs.
    function isActive(uint256 modelId) external view returns (bool);
}

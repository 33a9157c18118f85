// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceRegistry} from "./IInferenceRegistry.sol";

/// @title ApprovalPayout
/// @notice An example consumer: pays a fixed amount to an applicant once the registry holds a
/// verified result, from one registered (for example committed-weights) model, whose output at
/// `outputIndex` is at least `threshold`: a credit line that opens only when the committed model
/// says yes. It trusts nothing but the registry's verified results.
contract ApprovalPayout {
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    IInferenceRegistry public immutable registry;
    uint256 public immutable modelId;
    uint256 public immutable outputIndex;
    /// Fixed-point threshold on the output (the build's output scale), signed.
    int256 public immutable threshold;
    uint256 public immutable payout;
    mapping(bytes32 => bool) public paid;

    event Paid(bytes32 indexed inputKey, address indexed applicant, int256 score, uint256 amount);

    error NoVerifiedResult(bytes32 inputKey);
    error NotApplicant(address submitter);
    error AlreadyPaid(bytes32 inputKey);
    error Declined(int256 score, int256 threshold);
    error OutputNotPublic();
    error PayoutFailed();

    constructor(IInferenceRegistry registry_, uint256 modelId_, uint256 outputIndex_, int256 threshold_, uint256 payout_) payable {
        registry = registry_;
        modelId = modelId_;
        outputIndex = outputIndex_;
        threshold = threshold_;
        payout = payout_;
    }

    /// @notice Pays the applicant whose proof the registry verified under `inputKey`, if the model said yes.
    function claim(bytes32 inputKey) external {
        (bool exists, address submitter, , , uint256[] memory output) = registry.resultOf(modelId, inputKey);
        if (!exists) revert NoVerifiedResult(inputKey);
        if (submitter != msg.sender) revert NotApplicant(submitter);
        if (paid[inputKey]) revert AlreadyPaid(inputKey);
        if (output.length <= outputIndex) revert OutputNotPublic();
        int256 score = _signed(output[outputIndex]);
        if (score < threshold) revert Declined(score, threshold);
        paid[inputKey] = true;
        emit Paid(inputKey, msg.sender, score, payout);
        (bool ok, ) = payable(msg.sender).call{value: payout}("");
        if (!ok) revert PayoutFailed();
    }

    receive() external payable {}

    function _signed(uint256 v) internal pure returns (int256) {
        return v > FIELD / 2 ? -int256(FIELD - v) : int256(v);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceRegistry} from "./IInferenceRegistry.sol";

/// @title ApprovalPayout
/// @notice An example consumer, written to be copied: pays a fixed amount once per application
/// when the registry holds a verified result, from one registered (for example committed-weights)
/// model, whose output at `outputIndex` is at least `threshold`: a credit line that opens only when
/// the committed model says yes.
///
/// What it defends against, each a test (test/registry.test.ts):
///  - Farming. Proofs are free to make: the same data with a fresh salt, or slightly changed data,
///    is a new input key with its own verified result. So a result alone pays nothing: the
///    `issuer` (who checks an applicant's identity and data off-chain) opens each application for
///    one input key and one applicant, and an applicant is paid at most once, whatever the number
///    of applications or results.
///  - Front-running. Payment goes to the applicant, and only a result bound to the applicant (the
///    recipient the proof names, which no copy can change) counts. Who submits the proof or calls
///    claim does not matter.
///  - A withdrawn model. No payout while the registry has the model disabled.
/// It trusts nothing but the registry's verified results and the issuer's applications.
contract ApprovalPayout {
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    IInferenceRegistry public immutable registry;
    uint256 public immutable modelId;
    uint256 public immutable outputIndex;
    /// Fixed-point threshold on the output (the build's output scale), signed.
    int256 public immutable threshold;
    uint256 public immutable payout;
    /// Who opens applications.
    address public immutable issuer;

    struct Application {
        address applicant;
        bool paid;
    }

    /// Applications by input key (the commitment to the applicant's data, for hashed input).
    mapping(bytes32 => Application) public applications;
    mapping(address => bool) public paidApplicant;

    event ApplicationOpened(bytes32 indexed inputKey, address indexed applicant);
    event Paid(bytes32 indexed inputKey, address indexed applicant, int256 score, uint256 amount);

    error NotIssuer(address caller);
    error InvalidApplicant();
    error ApplicationExists(bytes32 inputKey);
    error UnknownApplication(bytes32 inputKey);
    error AlreadyPaid(address applicant);
    error ModelInactive(uint256 modelId);
    error NoVerifiedResult(bytes32 inputKey, address applicant);
    error Declined(int256 score, int256 threshold);
    error OutputNotPublic();
    error PayoutFailed();

    constructor(IInferenceRegistry registry_, uint256 modelId_, uint256 outputIndex_, int256 threshold_, uint256 payout_, address issuer_) payable {
        registry = registry_;
        modelId = modelId_;
        outputIndex = outputIndex_;
        threshold = threshold_;
        payout = payout_;
        issuer = issuer_;
    }

    /// @notice The issuer vouches that `inputKey` commits to `applicant`'s checked data.
    function openApplication(bytes32 inputKey, address applicant) external {
        if (msg.sender != issuer) revert NotIssuer(msg.sender);
        if (applicant == address(0)) revert InvalidApplicant();
        if (applications[inputKey].applicant != address(0)) revert ApplicationExists(inputKey);
        applications[inputKey].applicant = applicant;
        emit ApplicationOpened(inputKey, applicant);
    }

    /// @notice Pays the application's applicant if the registry holds a verified "yes" for its
    /// input key bound to the applicant. Anyone may call it; only the applicant is ever paid.
    function claim(bytes32 inputKey) external {
        Application storage app = applications[inputKey];
        address applicant = app.applicant;
        if (applicant == address(0)) revert UnknownApplication(inputKey);
        if (app.paid || paidApplicant[applicant]) revert AlreadyPaid(applicant);
        if (!registry.isActive(modelId)) revert ModelInactive(modelId);
        (bool exists, , , , uint256[] memory output) = registry.resultOf(modelId, inputKey, applicant);
        if (!exists) revert NoVerifiedResult(inputKey, applicant);
        if (output.length <= outputIndex) revert OutputNotPublic();
        int256 score = _signed(output[outputIndex]);
        if (score < threshold) revert Declined(score, threshold);
        app.paid = true;
        paidApplicant[applicant] = true;
        emit Paid(inputKey, applicant, score, payout);
        (bool ok, ) = payable(applicant).call{value: payout}("");
        if (!ok) revert PayoutFailed();
    }

    receive() external payable {}

    function _signed(uint256 v) internal pure returns (int256) {
        return v > FIELD / 2 ? -int256(FIELD - v) : int256(v);
    }
}

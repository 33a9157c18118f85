// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceRegistry} from "./IInferenceRegistry.sol";
import {ZkmlOutput} from "./ZkmlOutput.sol";

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
///  - Data swapped after the check. The model's input key must commit to the input (public or
///    hashed input; checked at construction): a private input's nullifier does not, so its prover
///    could show the issuer one input and prove another under the same key.
/// It trusts nothing but the registry's verified results and the issuer's applications. The issuer
/// may revoke an unpaid application and withdraw what is not needed.
contract ApprovalPayout {

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
    event ApplicationRevoked(bytes32 indexed inputKey);
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
    error InputNotCommitted(uint256 modelId);

    constructor(IInferenceRegistry registry_, uint256 modelId_, uint256 outputIndex_, int256 threshold_, uint256 payout_, address issuer_) payable {
        registry = registry_;
        modelId = modelId_;
        outputIndex = outputIndex_;
        threshold = threshold_;
        payout = payout_;
        issuer = issuer_;
        if (!registry_.commitsToInput(modelId_)) revert InputNotCommitted(modelId_);
    }

    modifier onlyIssuer() {
        if (msg.sender != issuer) revert NotIssuer(msg.sender);
        _;
    }

    /// @notice The issuer vouches that `inputKey` commits to `applicant`'s checked data.
    function openApplication(bytes32 inputKey, address applicant) external onlyIssuer {
        if (applicant == address(0)) revert InvalidApplicant();
        if (applications[inputKey].applicant != address(0)) revert ApplicationExists(inputKey);
        applications[inputKey].applicant = applicant;
        emit ApplicationOpened(inputKey, applicant);
    }

    /// @notice Withdraws an application that was not paid.
    function revokeApplication(bytes32 inputKey) external onlyIssuer {
        Application storage app = applications[inputKey];
        if (app.applicant == address(0)) revert UnknownApplication(inputKey);
        if (app.paid) revert AlreadyPaid(app.applicant);
        delete applications[inputKey];
        emit ApplicationRevoked(inputKey);
    }

    /// @notice Sends funds the issuer no longer wants to pay out.
    function withdraw(address payable to, uint256 amount) external onlyIssuer {
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert PayoutFailed();
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
        int256 score = ZkmlOutput.toInt(output[outputIndex]);
        if (score < threshold) revert Declined(score, threshold);
        app.paid = true;
        paidApplicant[applicant] = true;
        emit Paid(inputKey, applicant, score, payout);
        (bool ok, ) = payable(applicant).call{value: payout}("");
        if (!ok) revert PayoutFailed();
    }

    receive() external payable {}
}

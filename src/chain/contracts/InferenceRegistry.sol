// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceRegistry} from "./IInferenceRegistry.sol";

/// @title InferenceRegistry
/// @notice Model owners register zkml models (a generated Groth16 verifier, the model's public
/// signal layout and, for hashed weights, the weights commitment). Anyone submits a proof for a
/// registered model; the registry verifies it with the model's verifier, checks the public signals
/// against the registration, records the result under (model, input key, recipient) and emits an
/// event.
///
/// Rules:
///  - A registration's verifier, layout, key hash and weights commitment never change: results
///    recorded under it keep their meaning. A new model version is a new registration.
///  - Only a model's owner may disable or re-enable it, change its metadata URI, or hand it over
///    (two steps: the new owner accepts).
///  - Proofs for an unknown or disabled model revert (UnknownModel, ModelDisabled). Results
///    recorded before a model was disabled stay readable.
///  - Every proof names a recipient, a public signal that no one can change without a new proof:
///    the result is credited to it, whoever sends the transaction. A copy of a pending submission
///    sent first (front-running) records the same result for the same recipient; a proof of the
///    same public input for another recipient is another result and blocks no one.
///  - The input key is the input commitment (hashed input), the input nullifier Poseidon(salt)
///    (private input), or keccak256 of the input signals (public input). Results are keyed by
///    (model, input key, recipient, output commitment), the last 0 for a public output: with a
///    hashed output, whoever can prove an input can prove it under any output salt, and each such
///    commitment is its own result, so none can take the place of the recipient's own.
///  - The first accepted result for a key is final: a resubmission, whether a replay of the same
///    proof or another proof of the same statement, reverts with ResultExists. The circuits are
///    deterministic, so no second valid result could differ in what it attests.
contract InferenceRegistry is IInferenceRegistry {
    /// BN254 scalar field modulus: every public signal must be below it.
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint16 internal constant NONE = type(uint16).max;

    enum InputMode { Public, Private, Hashed }
    enum OutputMode { Public, Hashed }
    enum WeightsMode { Fixed, Hashed }

    /// Where each part of the statement sits among the public signals.
    struct Layout {
        InputMode inputMode;
        OutputMode outputMode;
        WeightsMode weightsMode;
        uint16 publicSignals;
        /// Output values (public output) or the output commitment (hashed output, size 1).
        uint16 outputOffset;
        uint16 outputSize;
        /// Input values (public input), the input commitment (hashed) or the input nullifier (private): size 1 unless public.
        uint16 inputOffset;
        uint16 inputSize;
        /// The weights commitment (hashed weights), else NONE.
        uint16 weightsIndex;
        /// The recipient the proof is bound to.
        uint16 recipientIndex;
    }

    struct Model {
        address owner;
        bool active;
        bytes4 selector;
        address verifier;
        bytes32 vkHash;
        uint256 weightsCommitment;
        Layout layout;
        string metadataURI;
    }

    struct Result {
        address submitter;
        uint64 blockNumber;
        uint256 outputCommitment;
        uint256[] output;
    }

    uint256 public modelCount;
    mapping(uint256 => Model) private _models;
    mapping(uint256 => address) public pendingOwner;
    /// modelId => keccak256(inputKey, recipient, output commitment or 0) => result
    mapping(uint256 => mapping(bytes32 => Result)) private _results;

    event ModelRegistered(uint256 indexed modelId, address indexed owner, address verifier, bytes32 vkHash, uint256 weightsCommitment, string metadataURI);
    event ModelActiveChanged(uint256 indexed modelId, bool active);
    event ModelOwnershipTransferStarted(uint256 indexed modelId, address indexed owner, address indexed pendingOwner);
    event ModelOwnerChanged(uint256 indexed modelId, address indexed previousOwner, address indexed newOwner);
    event MetadataURIChanged(uint256 indexed modelId, string metadataURI);
    event InferenceVerified(uint256 indexed modelId, bytes32 indexed inputKey, address indexed recipient, address submitter, uint256 outputCommitment, uint256[] output);

    error UnknownModel(uint256 modelId);
    error ModelDisabled(uint256 modelId);
    error NotModelOwner(uint256 modelId, address caller);
    error NotPendingOwner(uint256 modelId, address caller);
    error InvalidRegistration(string reason);
    error WrongSignalCount(uint256 expected, uint256 actual);
    error SignalNotInField(uint256 index);
    error RecipientNotAnAddress(uint256 value);
    error WeightsCommitmentMismatch(uint256 expected, uint256 actual);
    error ResultExists(uint256 modelId, bytes32 inputKey, address recipient, uint256 outputCommitment);
    error InvalidProof();

    modifier onlyOwner(uint256 modelId) {
        if (_models[modelId].owner != msg.sender) {
            if (_models[modelId].owner == address(0)) revert UnknownModel(modelId);
            revert NotModelOwner(modelId, msg.sender);
        }
        _;
    }

    /// @notice Registers a model; the caller becomes its owner. Model ids start at 1.
    function register(address verifier, bytes32 vkHash, uint256 weightsCommitment, Layout calldata layout, string calldata metadataURI)
        external
        returns (uint256 modelId)
    {
        if (verifier.code.length == 0) revert InvalidRegistration("verifier has no code");
        _checkLayout(layout, weightsCommitment);
        modelId = ++modelCount;
        Model storage m = _models[modelId];
        m.owner = msg.sender;
        m.active = true;
        m.selector = bytes4(keccak256(abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", _decimal(layout.publicSignals), "])")));
        m.verifier = verifier;
        m.vkHash = vkHash;
        m.weightsCommitment = weightsCommitment;
        m.layout = layout;
        m.metadataURI = metadataURI;
        emit ModelRegistered(modelId, msg.sender, verifier, vkHash, weightsCommitment, metadataURI);
    }

    function setActive(uint256 modelId, bool active) external onlyOwner(modelId) {
        _models[modelId].active = active;
        emit ModelActiveChanged(modelId, active);
    }

    function setMetadataURI(uint256 modelId, string calldata metadataURI) external onlyOwner(modelId) {
        _models[modelId].metadataURI = metadataURI;
        emit MetadataURIChanged(modelId, metadataURI);
    }

    /// @notice Starts handing the model over; `newOwner` takes it with acceptModelOwnership.
    /// address(0) cancels a pending transfer. A mistyped address therefore never owns a model.
    function transferModelOwnership(uint256 modelId, address newOwner) external onlyOwner(modelId) {
        pendingOwner[modelId] = newOwner;
        emit ModelOwnershipTransferStarted(modelId, msg.sender, newOwner);
    }

    function acceptModelOwnership(uint256 modelId) external {
        if (msg.sender != pendingOwner[modelId] || msg.sender == address(0)) revert NotPendingOwner(modelId, msg.sender);
        emit ModelOwnerChanged(modelId, _models[modelId].owner, msg.sender);
        _models[modelId].owner = msg.sender;
        delete pendingOwner[modelId];
    }

    /// @notice Verifies a proof for a registered model and records its result for the recipient it names.
    /// @param a,b,c the Groth16 proof, as the generated verifier takes it (b's coordinates swapped)
    /// @param signals the public signals, in the model's layout
    /// @return inputKey and recipient: the result is recorded under (modelId, inputKey, recipient) and, for a hashed output, its commitment
    function submit(uint256 modelId, uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c, uint256[] calldata signals)
        external
        returns (bytes32 inputKey, address recipient)
    {
        Model storage m = _models[modelId];
        Layout memory l = _checkSignals(m, modelId, signals);
        uint256 r = signals[l.recipientIndex];
        if (r >> 160 != 0) revert RecipientNotAnAddress(r);
        recipient = address(uint160(r));

        // The proof first: a tampered proof is InvalidProof even when its statement has a result.
        (bool ok, bytes memory ret) = m.verifier.staticcall(abi.encodePacked(m.selector, abi.encode(a, b, c), signals));
        if (!ok || ret.length != 32 || abi.decode(ret, (uint256)) != 1) revert InvalidProof();

        inputKey = _inputKey(l, signals);
        _record(modelId, l, inputKey, recipient, signals);
    }

    /// The model accepts proofs, and the signals fit its layout and registration.
    function _checkSignals(Model storage m, uint256 modelId, uint256[] calldata signals) internal view returns (Layout memory l) {
        if (m.owner == address(0)) revert UnknownModel(modelId);
        if (!m.active) revert ModelDisabled(modelId);
        l = m.layout;
        if (signals.length != l.publicSignals) revert WrongSignalCount(l.publicSignals, signals.length);
        for (uint256 i = 0; i < signals.length; i++) if (signals[i] >= FIELD) revert SignalNotInField(i);
        if (l.weightsMode == WeightsMode.Hashed && signals[l.weightsIndex] != m.weightsCommitment) {
            revert WeightsCommitmentMismatch(m.weightsCommitment, signals[l.weightsIndex]);
        }
    }

    function _record(uint256 modelId, Layout memory l, bytes32 inputKey, address recipient, uint256[] calldata signals) internal {
        uint256 commitment = l.outputMode == OutputMode.Hashed ? signals[l.outputOffset] : 0;
        Result storage res = _results[modelId][_resultKey(inputKey, recipient, commitment)];
        if (res.submitter != address(0)) revert ResultExists(modelId, inputKey, recipient, commitment);
        res.submitter = msg.sender;
        res.blockNumber = uint64(block.number);
        if (commitment != 0) res.outputCommitment = commitment;
        else res.output = signals[l.outputOffset:l.outputOffset + l.outputSize];
        emit InferenceVerified(modelId, inputKey, recipient, msg.sender, res.outputCommitment, res.output);
    }

    /// @notice The key a proof's result is recorded under with its recipient (see the contract's rules).
    function inputKeyOf(uint256 modelId, uint256[] calldata signals) external view returns (bytes32) {
        Model storage m = _models[modelId];
        if (m.owner == address(0)) revert UnknownModel(modelId);
        if (signals.length != m.layout.publicSignals) revert WrongSignalCount(m.layout.publicSignals, signals.length);
        return _inputKey(m.layout, signals);
    }

    function resultOf(uint256 modelId, bytes32 inputKey, address recipient)
        external
        view
        returns (bool exists, address submitter, uint64 blockNumber, uint256 outputCommitment, uint256[] memory output)
    {
        Result storage r = _results[modelId][_resultKey(inputKey, recipient, 0)];
        return (r.submitter != address(0), r.submitter, r.blockNumber, r.outputCommitment, r.output);
    }

    function resultOfCommitted(uint256 modelId, bytes32 inputKey, address recipient, uint256 outputCommitment)
        external
        view
        returns (bool exists, address submitter, uint64 blockNumber)
    {
        Result storage r = _results[modelId][_resultKey(inputKey, recipient, outputCommitment)];
        return (r.submitter != address(0), r.submitter, r.blockNumber);
    }

    function isActive(uint256 modelId) external view returns (bool) {
        return _models[modelId].active;
    }

    function commitsToInput(uint256 modelId) external view returns (bool) {
        if (_models[modelId].owner == address(0)) revert UnknownModel(modelId);
        return _models[modelId].layout.inputMode != InputMode.Private;
    }

    function getModel(uint256 modelId) external view returns (Model memory) {
        if (_models[modelId].owner == address(0)) revert UnknownModel(modelId);
        return _models[modelId];
    }

    function _resultKey(bytes32 inputKey, address recipient, uint256 outputCommitment) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(inputKey, recipient, outputCommitment));
    }

    function _inputKey(Layout memory l, uint256[] calldata signals) internal pure returns (bytes32) {
        if (l.inputMode == InputMode.Public) return keccak256(abi.encodePacked(signals[l.inputOffset:l.inputOffset + l.inputSize]));
        return bytes32(signals[l.inputOffset]);
    }

    function _checkLayout(Layout calldata l, uint256 weightsCommitment) internal pure {
        uint256 n = l.publicSignals;
        if (n == 0) revert InvalidRegistration("no public signals");
        if (l.outputSize == 0 || uint256(l.outputOffset) + l.outputSize > n) revert InvalidRegistration("output outside the public signals");
        if (l.outputMode == OutputMode.Hashed && l.outputSize != 1) revert InvalidRegistration("a hashed output is one commitment");
        if (l.inputSize == 0 || uint256(l.inputOffset) + l.inputSize > n) revert InvalidRegistration("input outside the public signals");
        if (l.inputMode != InputMode.Public && l.inputSize != 1) revert InvalidRegistration("a hashed input is one commitment and a private input one nullifier");
        if (l.recipientIndex >= n) revert InvalidRegistration("recipient outside the public signals");
        if (_overlap(l.outputOffset, l.outputSize, l.inputOffset, l.inputSize) || _overlap(l.recipientIndex, 1, l.outputOffset, l.outputSize) || _overlap(l.recipientIndex, 1, l.inputOffset, l.inputSize)) {
            revert InvalidRegistration("output, input and recipient overlap");
        }
        if (l.weightsMode == WeightsMode.Hashed) {
            if (l.weightsIndex >= n) revert InvalidRegistration("weights commitment outside the public signals");
            if (l.weightsIndex == l.recipientIndex || _overlap(l.weightsIndex, 1, l.outputOffset, l.outputSize) || _overlap(l.weightsIndex, 1, l.inputOffset, l.inputSize)) {
                revert InvalidRegistration("the weights commitment overlaps another part of the statement");
            }
            if (weightsCommitment == 0 || weightsCommitment >= FIELD) revert InvalidRegistration("hashed weights need their commitment");
        } else if (l.weightsIndex != NONE || weightsCommitment != 0) {
            revert InvalidRegistration("fixed weights have no commitment");
        }
    }

    function _overlap(uint256 aOffset, uint256 aSize, uint256 bOffset, uint256 bSize) internal pure returns (bool) {
        return aOffset < bOffset + bSize && bOffset < aOffset + aSize;
    }

    function _decimal(uint256 v) internal pure returns (bytes memory s) {
        if (v == 0) return "0";
        uint256 len;
        for (uint256 t = v; t != 0; t /= 10) len++;
        s = new bytes(len);
        for (; v != 0; v /= 10) s[--len] = bytes1(uint8(48 + (v % 10)));
    }
}

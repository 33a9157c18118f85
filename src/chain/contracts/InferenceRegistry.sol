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
///  - Batched models (one proof of up to batchSize inferences; src/commit/batch.ts) are submitted
///    with submitBatch, which records the batch, one storage slot keyed (root, count, recipient),
///    whatever its size. An item's result is recorded when someone opens it (openItem: its input
///    key, output commitment and path to the root of its batch's 4-ary tree, checked with circomlib's Poseidon), under
///    the same key a single proof of that item would have; from then on resultOfCommitted reads it.
///    itemOf checks an item without recording it. Replaying a batch reverts BatchExists; opening
///    an item twice, or an item already recorded from any proof, reverts ResultExists; an index at
///    or past the batch's count (padding) reverts ItemOutsideBatch. Items of a batch recorded
///    before its model was disabled can still be opened: they were verified while it was active.
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
        /// Inferences per proof: 1, or a batched model's size (its item tree: see _itemProblem).
        uint16 batchSize;
        /// A batched model's count of real items, else NONE. Its output is the root of the item tree.
        uint16 countIndex;
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

    /// A recorded batch: who submitted it, and when.
    struct Batch {
        address submitter;
        uint64 blockNumber;
    }

    /// keccak256 of circomlibjs' Poseidon(4) creation code (poseidon_gencontract createCode(4)):
    /// the only code installPoseidon deploys as the item tree's hash, so any registry with this
    /// runtime code opens items with exactly the circuit's hash.
    bytes32 public constant POSEIDON4_CODE_HASH = 0x5fc978a5e74c6c2f2585067c7280478d2d4d289e76ea6b721d3a6ffd17b95a0a;
    /// The Poseidon(4) contract installPoseidon deployed (0: not yet).
    address public poseidon4;

    uint256 public modelCount;
    mapping(uint256 => Model) private _models;
    mapping(uint256 => address) public pendingOwner;
    /// modelId => keccak256(inputKey, recipient, output commitment or 0) => result
    mapping(uint256 => mapping(bytes32 => Result)) private _results;
    /// modelId => keccak256(root, count, recipient) => batch
    mapping(uint256 => mapping(bytes32 => Batch)) private _batches;

    event ModelRegistered(uint256 indexed modelId, address indexed owner, address verifier, bytes32 vkHash, uint256 weightsCommitment, string metadataURI);
    event ModelActiveChanged(uint256 indexed modelId, bool active);
    event ModelOwnershipTransferStarted(uint256 indexed modelId, address indexed owner, address indexed pendingOwner);
    event ModelOwnerChanged(uint256 indexed modelId, address indexed previousOwner, address indexed newOwner);
    event MetadataURIChanged(uint256 indexed modelId, string metadataURI);
    event BatchVerified(uint256 indexed modelId, uint256 indexed root, address indexed recipient, uint256 count, address submitter);
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
    error NotPoseidon();
    error PoseidonInstalled(address poseidon4);
    error PoseidonNotInstalled();
    error BatchedModel(uint256 modelId);
    error NotBatched(uint256 modelId);
    error CountOutsideBatch(uint256 count, uint256 batchSize);
    error BatchExists(uint256 modelId, uint256 root, uint256 count, address recipient);
    error UnknownBatch(uint256 modelId, uint256 root, uint256 count, address recipient);
    error ItemOutsideBatch(uint256 index, uint256 count);
    error ItemNotInBatch(uint256 index);
    error ItemKeyNotInField(uint256 index);

    /// @notice Deploys the item tree's hash, once, from circomlibjs' Poseidon(4) creation code
    /// (anyone may: the code must hash to POSEIDON4_CODE_HASH). `zkml deploy` does it with the
    /// registry; until then batches can be submitted but their items not opened.
    function installPoseidon(bytes calldata poseidon4Code) external {
        if (poseidon4 != address(0)) revert PoseidonInstalled(poseidon4);
        if (keccak256(poseidon4Code) != POSEIDON4_CODE_HASH) revert NotPoseidon();
        bytes memory code = poseidon4Code;
        address p;
        assembly {
            p := create(0, add(code, 32), mload(code))
        }
        if (p == address(0)) revert NotPoseidon();
        poseidon4 = p;
    }

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
        if (l.batchSize > 1) revert BatchedModel(modelId);
        recipient = _recipient(l, signals);
        // The proof first: a tampered proof is InvalidProof even when its statement has a result.
        _verify(m, a, b, c, signals);
        inputKey = _inputKey(l, signals);
        _record(modelId, l, inputKey, recipient, signals);
    }

    /// @notice Verifies one proof of a batched model and records the batch (one slot): its items'
    /// results are recorded as they are opened (openItem).
    /// @return root the root of its items; with count and recipient, the batch's key
    function submitBatch(uint256 modelId, uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c, uint256[] calldata signals)
        external
        returns (uint256 root, uint256 count, address recipient)
    {
        Model storage m = _models[modelId];
        Layout memory l = _checkSignals(m, modelId, signals);
        if (l.batchSize <= 1) revert NotBatched(modelId);
        recipient = _recipient(l, signals);
        count = signals[l.countIndex];
        if (count == 0 || count > l.batchSize) revert CountOutsideBatch(count, l.batchSize);
        root = signals[l.outputOffset];
        _verify(m, a, b, c, signals);
        Batch storage batch = _batches[modelId][_batchKey(root, count, recipient)];
        if (batch.submitter != address(0)) revert BatchExists(modelId, root, count, recipient);
        batch.submitter = msg.sender;
        batch.blockNumber = uint64(block.number);
        emit BatchVerified(modelId, root, recipient, count, msg.sender);
    }

    /// @notice Records the result of one item of a recorded batch, under the key a single proof of
    /// it would have (input key, recipient, output commitment), credited to the batch's submitter
    /// and block. Anyone may open an item: it takes the item's keys and path, never its data.
    function openItem(uint256 modelId, BatchItem calldata item) external returns (bytes32 inputKey) {
        Batch memory batch = _checkItem(modelId, item);
        inputKey = bytes32(item.inputKey);
        Result storage res = _results[modelId][_resultKey(inputKey, item.recipient, item.outputCommitment)];
        if (res.submitter != address(0)) revert ResultExists(modelId, inputKey, item.recipient, item.outputCommitment);
        res.submitter = batch.submitter;
        res.blockNumber = batch.blockNumber;
        res.outputCommitment = item.outputCommitment;
        emit InferenceVerified(modelId, inputKey, item.recipient, batch.submitter, item.outputCommitment, res.output);
    }

    /// @inheritdoc IInferenceRegistry
    function itemOf(uint256 modelId, BatchItem calldata item) external view returns (bool exists, address submitter, uint64 blockNumber) {
        Model storage m = _models[modelId];
        if (m.owner == address(0) || m.layout.batchSize <= 1 || poseidon4 == address(0)) return (false, address(0), 0);
        Batch memory batch = _batches[modelId][_batchKey(item.root, item.count, item.recipient)];
        if (batch.submitter == address(0) || _itemProblem(m.layout.batchSize, item) != 0) return (false, address(0), 0);
        return (true, batch.submitter, batch.blockNumber);
    }

    /// @notice A batch's record: exists is false until submitBatch accepted it.
    function batchOf(uint256 modelId, uint256 root, uint256 count, address recipient) external view returns (bool exists, address submitter, uint64 blockNumber) {
        Batch memory batch = _batches[modelId][_batchKey(root, count, recipient)];
        return (batch.submitter != address(0), batch.submitter, batch.blockNumber);
    }

    function _checkItem(uint256 modelId, BatchItem calldata item) internal view returns (Batch memory batch) {
        Model storage m = _models[modelId];
        if (m.owner == address(0)) revert UnknownModel(modelId);
        if (m.layout.batchSize <= 1) revert NotBatched(modelId);
        batch = _batches[modelId][_batchKey(item.root, item.count, item.recipient)];
        if (batch.submitter == address(0)) revert UnknownBatch(modelId, item.root, item.count, item.recipient);
        if (poseidon4 == address(0)) revert PoseidonNotInstalled();
        uint256 problem = _itemProblem(m.layout.batchSize, item);
        if (problem == 1) revert ItemOutsideBatch(item.index, item.count);
        if (problem == 2) revert ItemKeyNotInField(item.index);
        if (problem == 3) revert ItemNotInBatch(item.index);
    }

    /// 0: the item is in the batch its root names; 1: its index is padding; 2: a key is not a
    /// canonical field element (two encodings of one item would be two results); 3: its keys and
    /// path do not lead to the root. The tree (src/commit/batch.ts): depth D, the least D >= 1
    /// with 2 * 4^(D-1) >= batchSize; level 0 holds each item's (inputKey, outputCommitment) at
    /// positions 2j, 2j+1; every node is Poseidon of its 4 children. The path is the partner
    /// item's two keys, then the 3 siblings of the item's node at each level above, in order.
    function _itemProblem(uint256 batchSize, BatchItem calldata item) internal view returns (uint256) {
        if (item.index >= item.count) return 1;
        if (item.inputKey >= FIELD || item.outputCommitment >= FIELD) return 2;
        uint256 depth = 1;
        while ((uint256(2) << (2 * (depth - 1))) < batchSize) depth++;
        if (item.path.length != 2 + 3 * (depth - 1)) return 3;
        uint256[4] memory c = item.index & 1 == 0
            ? [item.inputKey, item.outputCommitment, item.path[0], item.path[1]]
            : [item.path[0], item.path[1], item.inputKey, item.outputCommitment];
        uint256 node = _poseidon4(c);
        uint256 position = item.index >> 1;
        for (uint256 d = 1; d < depth; d++) {
            uint256 next = 2 + 3 * (d - 1);
            for (uint256 i = 0; i < 4; i++) c[i] = i == position & 3 ? node : item.path[next++];
            node = _poseidon4(c);
            position >>= 2;
        }
        return node == item.root ? 0 : 3;
    }

    function _poseidon4(uint256[4] memory c) internal view returns (uint256 h) {
        (bool ok, bytes memory ret) = poseidon4.staticcall(abi.encodeWithSignature("poseidon(uint256[4])", c));
        require(ok && ret.length == 32, "poseidon call failed");
        h = abi.decode(ret, (uint256));
    }

    function _batchKey(uint256 root, uint256 count, address recipient) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(root, count, recipient));
    }

    function _recipient(Layout memory l, uint256[] calldata signals) internal pure returns (address) {
        uint256 r = signals[l.recipientIndex];
        if (r >> 160 != 0) revert RecipientNotAnAddress(r);
        return address(uint160(r));
    }

    function _verify(Model storage m, uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c, uint256[] calldata signals) internal view {
        (bool ok, bytes memory ret) = m.verifier.staticcall(abi.encodePacked(m.selector, abi.encode(a, b, c), signals));
        if (!ok || ret.length != 32 || abi.decode(ret, (uint256)) != 1) revert InvalidProof();
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
        if (m.layout.batchSize > 1) revert BatchedModel(modelId);
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
        if (l.batchSize == 0) revert InvalidRegistration("a batch size of 0");
        if (l.batchSize > 1) return _checkBatchLayout(l, weightsCommitment);
        if (l.countIndex != NONE) revert InvalidRegistration("a single-inference model has no count");
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

    /// A batched model: hashed output (the root of its item tree) with hashed or private input,
    /// a count, a recipient and, for hashed weights, their commitment, each at its own index.
    function _checkBatchLayout(Layout calldata l, uint256 weightsCommitment) internal pure {
        uint256 n = l.publicSignals;
        if (l.outputMode != OutputMode.Hashed || l.inputMode == InputMode.Public) revert InvalidRegistration("a batched model needs hashed output and hashed or private input");
        if (l.outputSize != 1 || l.outputOffset >= n) revert InvalidRegistration("a batch's root is one signal");
        if (l.inputSize != 0) revert InvalidRegistration("a batch has no input signal: its items' keys are in the root");
        if (l.countIndex >= n || l.recipientIndex >= n) revert InvalidRegistration("count or recipient outside the public signals");
        bool hashedWeights = l.weightsMode == WeightsMode.Hashed;
        if (hashedWeights && l.weightsIndex >= n) revert InvalidRegistration("weights commitment outside the public signals");
        if (!hashedWeights && (l.weightsIndex != NONE || weightsCommitment != 0)) revert InvalidRegistration("fixed weights have no commitment");
        if (hashedWeights && (weightsCommitment == 0 || weightsCommitment >= FIELD)) revert InvalidRegistration("hashed weights need their commitment");
        if (
            l.outputOffset == l.countIndex || l.outputOffset == l.recipientIndex || l.countIndex == l.recipientIndex ||
            (hashedWeights && (l.weightsIndex == l.outputOffset || l.weightsIndex == l.countIndex || l.weightsIndex == l.recipientIndex))
        ) revert InvalidRegistration("root, count, recipient and weights commitment overlap");
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

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceRegistry} from "./IInferenceRegistry.sol";

/// @title ZkmlOutputOpener
/// @notice Opens a hashed output on-chain: recomputes a build's output commitment from the output
/// values and the output salt exactly as its circuit does (src/commit/packing.ts, poseidon.ts), so
/// a contract can act on an output that the registry holds only as a commitment, once the prover
/// reveals it. One opener per build (its output windows are constructor arguments).
///
/// The commitment packs each value v_i, known to lie in [lo_i, lo_i + 2^bits_i), as
/// sum (v_i - lo_i) 2^offset_i into field elements of at most 253 bits (greedily, in order), then
/// chains circomlib's Poseidon: h = salt; h = Poseidon(h, chunks...). The Poseidon contracts are
/// circomlibjs' (poseidon_gencontract), which take 1 to 8 inputs: outputs of up to 7 chunks
/// (7 x 253 packed bits) can be opened.
contract ZkmlOutputOpener {
    uint256 internal constant CHUNK_BITS = 253;
    uint256 internal constant MAX_CHUNKS = 7;

    /// Each output value's window, in output order.
    int256[] public lo;
    uint16[] public bits;
    /// Each value's chunk and bit offset inside it.
    uint8[] internal _chunk;
    uint16[] internal _offset;
    uint256 public immutable chunks;
    /// circomlibjs' Poseidon contract taking 1 + chunks inputs.
    address public immutable poseidon;
    bytes4 internal immutable _selector;

    error InvalidWindows(string reason);
    error WrongValueCount(uint256 expected, uint256 actual);
    error ValueOutsideWindow(uint256 index, int256 value);

    constructor(int256[] memory lo_, uint16[] memory bits_, address poseidon_) {
        if (lo_.length == 0 || lo_.length != bits_.length) revert InvalidWindows("one window per value");
        uint256 chunk;
        uint256 used;
        for (uint256 i = 0; i < bits_.length; i++) {
            if (bits_[i] == 0 || bits_[i] > CHUNK_BITS) revert InvalidWindows("a window is 1 to 253 bits");
            if (used + bits_[i] > CHUNK_BITS) (chunk, used) = (chunk + 1, 0);
            _chunk.push(uint8(chunk));
            _offset.push(uint16(used));
            used += bits_[i];
        }
        chunks = chunk + 1;
        if (chunks > MAX_CHUNKS) revert InvalidWindows("more than 7 packed chunks: Poseidon contracts take at most 8 inputs");
        if (poseidon_.code.length == 0) revert InvalidWindows("the Poseidon contract has no code");
        lo = lo_;
        bits = bits_;
        poseidon = poseidon_;
        _selector = bytes4(keccak256(abi.encodePacked("poseidon(uint256[", bytes1(uint8(48 + chunks + 1)), "])")));
    }

    /// @notice The output commitment of `values` under `salt` (the proof file's `salts.output`).
    function commitment(uint256 salt, int256[] calldata values) public view returns (uint256 h) {
        if (values.length != lo.length) revert WrongValueCount(lo.length, values.length);
        uint256[] memory packed = new uint256[](chunks);
        for (uint256 i = 0; i < values.length; i++) {
            int256 d = values[i] - lo[i];
            if (d < 0 || uint256(d) >> bits[i] != 0) revert ValueOutsideWindow(i, values[i]);
            packed[_chunk[i]] |= uint256(d) << _offset[i];
        }
        (bool ok, bytes memory ret) = poseidon.staticcall(abi.encodePacked(_selector, salt, packed));
        require(ok && ret.length == 32, "poseidon call failed");
        h = abi.decode(ret, (uint256));
    }

    /// @notice Whether `values` under `salt` are the output of an item of a batch the registry has
    /// verified (a batched model): the consumer reads one item without anyone recording it.
    function opensItem(IInferenceRegistry registry, uint256 modelId, IInferenceRegistry.BatchItem calldata item, uint256 salt, int256[] calldata values) external view returns (bool) {
        if (commitment(salt, values) != item.outputCommitment) return false;
        (bool exists, , ) = registry.itemOf(modelId, item);
        return exists;
    }

    /// @notice Whether the registry holds a verified result for (modelId, inputKey, recipient)
    /// whose output commitment `values` and `salt` open.
    function opens(IInferenceRegistry registry, uint256 modelId, bytes32 inputKey, address recipient, uint256 salt, int256[] calldata values) external view returns (bool exists) {
        (exists, , ) = registry.resultOfCommitted(modelId, inputKey, recipient, commitment(salt, values));
    }
}

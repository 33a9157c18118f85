// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Both come with the zkml package (or `zkml export-verifier` writes them next to your verifier).
import {IInferenceRegistry} from "zkml/src/chain/contracts/IInferenceRegistry.sol";
import {ZkmlOutput} from "zkml/src/chain/contracts/ZkmlOutput.sol";

/// @notice A consumer of verified inferences: reads what the zkml iris classifier said about a
/// caller's flower, from the registry only, and decodes it (class and score).
contract IrisDesk {
    IInferenceRegistry public immutable registry;
    uint256 public immutable modelId;
    /// The model's output scale: values are v * 2^-frac (registration.json: output.frac).
    uint8 public immutable frac;

    /// species + 1 per address, 0 for none yet.
    mapping(address => uint256) public speciesOf;

    event Classified(address indexed who, bytes32 indexed inputKey, uint256 species, int256 scoreWad);

    error NoVerifiedResult(bytes32 inputKey, address recipient);

    constructor(IInferenceRegistry registry_, uint256 modelId_, uint8 frac_) {
        registry = registry_;
        modelId = modelId_;
        frac = frac_;
    }

    /// @notice The class the model gave for `inputKey`, in a proof bound to `recipient`, and its
    /// logit with 18 decimals.
    function species(bytes32 inputKey, address recipient) public view returns (uint256 cls, int256 scoreWad) {
        (bool exists, , , , uint256[] memory output) = registry.resultOf(modelId, inputKey, recipient);
        if (!exists) revert NoVerifiedResult(inputKey, recipient);
        cls = ZkmlOutput.argmax(output);
        scoreWad = ZkmlOutput.toFixed(output[cls], frac, 1e18);
    }

    /// @notice Records the caller's flower: only a result bound to the caller counts.
    function record(bytes32 inputKey) external {
        (uint256 cls, int256 scoreWad) = species(inputKey, msg.sender);
        speciesOf[msg.sender] = cls + 1;
        emit Classified(msg.sender, inputKey, cls, scoreWad);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {InferenceRegistry} from "zkml/src/chain/contracts/InferenceRegistry.sol";
import {ZkmlOutput} from "zkml/src/chain/contracts/ZkmlOutput.sol";
import {Groth16Verifier} from "../src/zkml/Verifier.sol";

/// Foundry's cheatcodes used here (forge-std is not needed).
interface Vm {
    function readFile(string calldata path) external view returns (string memory);
    function parseJsonUint(string calldata json, string calldata key) external pure returns (uint256);
    function parseJsonUintArray(string calldata json, string calldata key) external pure returns (uint256[] memory);
    function parseJsonAddress(string calldata json, string calldata key) external pure returns (address);
    function parseJsonBytes32(string calldata json, string calldata key) external pure returns (bytes32);
    function expectRevert(bytes4 selector) external;
    function expectRevert(bytes calldata revertData) external;
}

/// Registers the zkml iris model (its exported verifier), submits the fixture's proof, and reads and
/// decodes the verified output as a consumer contract would.
contract IrisRegistryTest {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    InferenceRegistry internal registry;
    uint256 internal modelId;

    function setUp() public {
        string memory j = vm.readFile("fixtures/iris.json");
        registry = new InferenceRegistry();
        modelId = registry.register(address(new Groth16Verifier()), vm.parseJsonBytes32(j, ".vkHash"), 0, layoutOf(j), "zkml://iris_mlp");
    }

    function test_submit_then_read_and_decode() public {
        string memory j = vm.readFile("fixtures/iris.json");
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c, uint256[] memory signals) = proofOf(j);
        (bytes32 inputKey, address recipient) = registry.submit(modelId, a, b, c, signals);
        require(recipient == vm.parseJsonAddress(j, ".applicant"), "credited to the applicant the proof names");

        uint256 cls = classOf(inputKey, recipient, uint8(vm.parseJsonUint(j, ".frac")));
        require(cls == vm.parseJsonUint(j, ".expectedClass"), "the proved class");
        (bool none, , , , ) = registry.resultOf(modelId, inputKey, address(this));
        require(!none, "nothing for another recipient");

        // A replay is refused; so is the proof with its class changed.
        vm.expectRevert(abi.encodeWithSelector(InferenceRegistry.ResultExists.selector, modelId, inputKey, recipient, uint256(0)));
        registry.submit(modelId, a, b, c, signals);
        signals[cls] += 1;
        vm.expectRevert(InferenceRegistry.InvalidProof.selector);
        registry.submit(modelId, a, b, c, signals);
    }

    /// What a consumer does: read the recipient's result and decode it (class, and its logit with 18 decimals).
    function classOf(bytes32 inputKey, address recipient, uint8 frac) internal view returns (uint256 cls) {
        (bool exists, , , , uint256[] memory output) = registry.resultOf(modelId, inputKey, recipient);
        require(exists, "recorded");
        cls = ZkmlOutput.argmax(output);
        require(ZkmlOutput.toFixed(output[cls], frac, 1e18) > 0, "a positive winning logit");
    }

    function proofOf(string memory j) internal pure returns (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c, uint256[] memory signals) {
        uint256[] memory pa = vm.parseJsonUintArray(j, ".a");
        uint256[] memory pb = vm.parseJsonUintArray(j, ".b");
        uint256[] memory pc = vm.parseJsonUintArray(j, ".c");
        a = [pa[0], pa[1]];
        b = [[pb[0], pb[1]], [pb[2], pb[3]]];
        c = [pc[0], pc[1]];
        signals = vm.parseJsonUintArray(j, ".signals");
    }

    function layoutOf(string memory j) internal pure returns (InferenceRegistry.Layout memory l) {
        l.inputMode = InferenceRegistry.InputMode(vm.parseJsonUint(j, ".layout.inputMode"));
        l.outputMode = InferenceRegistry.OutputMode(vm.parseJsonUint(j, ".layout.outputMode"));
        l.weightsMode = InferenceRegistry.WeightsMode(vm.parseJsonUint(j, ".layout.weightsMode"));
        l.publicSignals = uint16(vm.parseJsonUint(j, ".layout.publicSignals"));
        l.outputOffset = uint16(vm.parseJsonUint(j, ".layout.outputOffset"));
        l.outputSize = uint16(vm.parseJsonUint(j, ".layout.outputSize"));
        l.inputOffset = uint16(vm.parseJsonUint(j, ".layout.inputOffset"));
        l.inputSize = uint16(vm.parseJsonUint(j, ".layout.inputSize"));
        l.weightsIndex = uint16(vm.parseJsonUint(j, ".layout.weightsIndex"));
        l.recipientIndex = uint16(vm.parseJsonUint(j, ".layout.recipientIndex"));
        l.batchSize = uint16(vm.parseJsonUint(j, ".layout.batchSize"));
        l.countIndex = uint16(vm.parseJsonUint(j, ".layout.countIndex"));
    }
}

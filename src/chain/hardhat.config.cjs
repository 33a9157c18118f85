// Hardhat 2 configuration for the embedded EVM and `hardhat node`: no project, no sources, just
// the local network (chain id 31337, Hardhat's publicly known dev accounts). `hardhat node` takes
// another chain id from ZKML_CHAIN_ID (startHardhatNode's chainId), e.g. to stand in for a public
// chain in tests of the key policy.
module.exports = { networks: { hardhat: { chainId: Number(process.env.ZKML_CHAIN_ID || 31337) } } };

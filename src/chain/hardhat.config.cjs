// Hardhat 2 configuration for the embedded EVM and `hardhat node`: no project, no sources, just
// the local network (chain id 31337, Hardhat's publicly known dev accounts).
module.exports = { networks: { hardhat: { chainId: 31337 } } };

// Minimal Hardhat 2 configuration for the embedded EVM and `hardhat node` (no project, no sources).
module.exports = {};

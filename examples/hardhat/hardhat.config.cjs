// Hardhat 2 (Hardhat 3 needs Node 22). The contracts compile with the solc npm package (solcjs,
// which zkml also uses) instead of a compiler Hardhat would download: the example runs offline.
const { subtask } = require('hardhat/config');
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require('hardhat/builtin-tasks/task-names');

const solcVersion = require('solc/package.json').version;

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== solcVersion) return runSuper();
  return { compilerPath: require.resolve('solc/soljson.js'), isSolcJs: true, version: solcVersion, longVersion: require('solc').version() };
});

module.exports = {
  solidity: { version: solcVersion, settings: { optimizer: { enabled: true, runs: 200 } } },
  mocha: { timeout: 600_000 },
};

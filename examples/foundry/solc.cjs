#!/usr/bin/env node
// solc's command line as Foundry calls it (--version, --standard-json on stdin), over the solc npm
// package: Foundry would otherwise download a native compiler, which an offline machine cannot.
const fs = require('node:fs');
const path = require('node:path');
const solc = require('solc');

const args = process.argv.slice(2);
if (args.includes('--version')) {
  // Foundry reads the version from this line; solcjs builds say Emscripten.clang.
  console.log(`solc, the solidity compiler commandline interface\nVersion: ${solc.version().replace('Emscripten.clang', 'Linux.g++')}`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  console.error(`solc.cjs: only --version and --standard-json are supported, got: ${args.join(' ')}`);
  process.exit(1);
}
const at = args.indexOf('--base-path');
const roots = [at >= 0 ? args[at + 1] : process.cwd(), process.cwd()];
const findImports = (file) => {
  for (const root of roots) {
    const full = path.resolve(root, file);
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, 'utf8') };
  }
  return { error: `${file} not found` };
};
process.stdout.write(solc.compile(fs.readFileSync(0, 'utf8'), { import: findImports }));

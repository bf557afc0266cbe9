// Runs before start and test on any Node version: a clear message instead of a crash on an old runtime.
const required = 22;
const major = Number(process.versions.node.split('.')[0]);
if (major < required) {
  console.error(
    `diyml needs Node.js >= 22.12 (24 recommended); this is ${process.version}.\n` +
      'Install a current Node, or run `source scripts/node24.sh` to use Node 24 from the npm registry in this shell.',
  );
  process.exit(1);
}

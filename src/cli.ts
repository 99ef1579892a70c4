#!/usr/bin/env node
/**
 * The `pinget` executable. It checks the Node.js version before loading anything that needs a newer
 * one (undici 8 fails to load on older Node), then runs main(); the modules load only after the check.
 */
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(`pinget needs Node.js >= 22.19 (this is ${process.version})\n`);
  process.exit(2);
}
// --help and --version print their text rendered at build time: no yargs, no command modules (src/fast-help.ts).
const { fastOutput } = await import('./fast-help.js');
const fast = fastOutput(process.argv.slice(2), process.env, process.stdout.columns);
if (fast !== undefined) {
  process.stdout.write(fast);
} else {
  // V8's code cache for the modules below, kept in the OS temp dir (Node >= 22.1; ignored where it cannot write):
  // the modules compile once, not on every run.
  (await import('node:module')).enableCompileCache?.();
  const { main } = await import('./main.js');
  process.exitCode = await main(process.argv.slice(2));
}

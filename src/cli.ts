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
/**
 * ES-module imports of string-width (yargs', cliui's) get ui/ascii-string-width.js instead, which loads the
 * real one only for a string that is not printable ASCII. require() (cli-progress's CommonJS copy) is left
 * alone. module.registerHooks: Node >= 22.15; without it nothing changes.
 */
function deferStringWidth(mod: { registerHooks?: typeof import('node:module').registerHooks }): void {
  // import.meta.resolve, not new URL: under tsx (the tests) the module is the .ts source.
  const shim = import.meta.resolve('./ui/ascii-string-width.js');
  mod.registerHooks?.({
    resolve(specifier, context, nextResolve) {
      if (specifier !== 'string-width' || !context.conditions?.includes('import') || context.parentURL?.startsWith(shim)) return nextResolve(specifier, context);
      return { url: `${shim}?of=${encodeURIComponent(nextResolve(specifier, context).url)}`, format: 'module', shortCircuit: true };
    },
  });
}

// --help and --version print their text rendered at build time: no yargs, no command modules (src/fast-help.ts).
const { fastOutput } = await import('./fast-help.js');
const fast = fastOutput(process.argv.slice(2), process.env, process.stdout.columns);
if (fast !== undefined) {
  process.stdout.write(fast);
} else {
  // V8's code cache for the modules below, kept in the OS temp dir (Node >= 22.1; ignored where it cannot write):
  // the modules compile once, not on every run.
  const mod = await import('node:module');
  mod.enableCompileCache?.();
  deferStringWidth(mod);
  const { main } = await import('./main.js');
  process.exitCode = await main(process.argv.slice(2));
}

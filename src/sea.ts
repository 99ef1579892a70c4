/**
 * The main script of the single executable (`npm run sea`, scripts/sea.mjs): what src/cli.ts does, without
 * its Node version check (the executable carries its own Node) and without top-level await (Node 24 runs a
 * SEA's main script as CommonJS). --help and --version print their rendered text (src/fast-help.ts).
 */
import { fastOutput } from './fast-help.js';

const fast = fastOutput(process.argv.slice(2), process.env, process.stdout.columns);
if (fast !== undefined) {
  process.stdout.write(fast);
} else {
  void import('./main.js').then(async ({ main }) => {
    process.exitCode = await main(process.argv.slice(2));
  });
}

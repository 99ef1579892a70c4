#!/usr/bin/env node
/** The pinget command line: yargs wiring, and the one place errors become exit codes. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_CODES, isPingetError } from './errors.js';
import { closeHttp } from './fetch/http-client.js';
import { hashCommand } from './commands/hash.js';
import { installCommand } from './commands/install.js';
import { downloadCommand } from './commands/download.js';
import { diffCommand } from './commands/diff.js';
import { cacheCommand } from './commands/cache.js';
import { providersCommand } from './commands/providers.js';
import { dockerfileCommand } from './commands/dockerfile.js';

declare const PINGET_VERSION: string | undefined;

const STDIN = '/dev/stdin';

const EXIT_TABLE = `Exit codes:
  0   ok
  1   drift or difference found (hash verify, diff --exit-code)
  2   bad usage or bad input (lockfile syntax, unknown distro, missing package database)
  3   integrity failure (no provider served bytes matching the hash; bad signature)
  4   unavailable (not found on any provider, network, missing tool)
  5   the distro's package manager failed
  70  internal error (a bug: --verbose prints the stack)`;

function report(e: unknown, verbose: boolean): number {
  if (isPingetError(e)) {
    if (e.code !== 'DRIFT' || e.message) process.stderr.write(`pinget: ${e.message}\n`);
    for (const line of e.details) process.stderr.write(`  ${line}\n`);
    if (verbose && e.cause) process.stderr.write(`caused by: ${e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : String(e.cause)}\n`);
    return e.exitCode;
  }
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`pinget: internal error: ${message}${verbose ? '' : ' (run with --verbose for details; please report it)'}\n`);
  if (verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return EXIT_CODES.INTERNAL;
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  let usageError: string | undefined;
  // yargs reads a lone '-' as an unnamed flag; it means stdin wherever pinget takes a lockfile.
  const cli = yargs(argv.map((a) => (a === '-' ? STDIN : a)))
    .scriptName('pinget')
    .usage('pinget: pin OS packages by sha256 and reinstall exactly those bytes\n\nUsage: $0 <command> [options]')
    .command(hashCommand)
    .command(installCommand)
    .command(downloadCommand)
    .command(diffCommand)
    .command(cacheCommand)
    .command(providersCommand)
    .command(dockerfileCommand)
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .strict()
    .epilogue(EXIT_TABLE)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .help()
    .alias('h', 'help')
    .fail((msg, err) => {
      if (err) throw err;
      usageError = msg;
    });
  // The bundle (npm run bundle) sets PINGET_VERSION: alone in a directory it has no package.json to read.
  if (typeof PINGET_VERSION === 'string') cli.version(PINGET_VERSION);
  else cli.version();
  try {
    await cli.parseAsync();
    if (usageError) {
      process.stderr.write(`pinget: ${usageError} (see pinget --help)\n`);
      return EXIT_CODES.USAGE;
    }
    return 0;
  } catch (e) {
    return report(e, verbose);
  } finally {
    await closeHttp().catch(() => {});
  }
}

const code = await main(hideBin(process.argv));
process.exitCode = code;

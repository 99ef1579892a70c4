/** The pinget command line: yargs wiring, and the one place errors become exit codes. */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { clip, EXIT_CODES, isPingetError, PingetError } from './errors.js';
import { checkArchiveUrls, REPEATABLE_OPTIONS, sharedOptionArity } from './commands/context.js';
import { example, helpWidth } from './commands/help-examples.js';
import { handleInterrupts, interruptExitCode } from './interrupt.js';
import { closest } from './ui/suggest.js';
import { pingetVersion } from './version.js';
import { tempTarget } from './fs-atomic.js';

const STDIN = '/dev/stdin';
/** Characters of an error message or detail line shown at most (a path of 4096 bytes still fits). */
const MESSAGE_MAX = 4500;

export const EXIT_TABLE = `Exit codes:
  0   ok
  1   drift or difference found (hash verify, diff --exit-code)
  2   bad usage or bad input (an option, a path, lockfile syntax, a lockfile for another distro)
  3   integrity failure (no provider served bytes matching the hash; bad signature)
  4   unavailable (not found on any provider, network, missing tool, disk full)
  5   the distro's package manager failed
  70  internal error (a bug: --verbose prints the stack)
  130 interrupted (SIGINT; 143 for SIGTERM)`;

/** Node's errno codes: a bad path given (2) or a resource that is not there now (4), and what to do. */
const ERRNO: Record<string, { exit: number; what: string }> = {
  ENOENT: { exit: 2, what: 'no such file or directory' },
  ENOTDIR: { exit: 2, what: 'a component of the path is not a directory' },
  EISDIR: { exit: 2, what: 'is a directory; give a file' },
  EACCES: { exit: 2, what: 'permission denied; run as a user who may use it, or choose another path' },
  EPERM: { exit: 2, what: 'operation not permitted; run as a user who may use it, or choose another path' },
  EROFS: { exit: 2, what: 'read-only file system; choose a writable path' },
  ELOOP: { exit: 2, what: 'too many levels of symbolic links' },
  ENAMETOOLONG: { exit: 2, what: 'file name too long' },
  EEXIST: { exit: 2, what: 'already exists' },
  ENOSPC: { exit: 4, what: 'no space left on the device; free some, or use --cache/-o on another disk' },
  EDQUOT: { exit: 4, what: 'disk quota exceeded; free some, or use --cache/-o on another disk' },
  EIO: { exit: 4, what: 'input/output error on the device' },
  EMFILE: { exit: 4, what: 'too many open files; lower --jobs or raise the limit (ulimit -n)' },
  ENFILE: { exit: 4, what: 'too many open files in the system; lower --jobs' },
};

/** The first errno error in a cause chain. */
function errnoOf(e: unknown): NodeJS.ErrnoException | undefined {
  for (let c = e, depth = 0; c instanceof Error && depth < 5; c = (c as Error).cause, depth++) {
    const code = (c as NodeJS.ErrnoException).code;
    if (code && ERRNO[code]) return c as NodeJS.ErrnoException;
  }
  return undefined;
}

function printCause(e: Error): void {
  if (e.cause) process.stderr.write(`caused by: ${e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : String(e.cause)}\n`);
}

export function report(e: unknown, verbose: boolean): number {
  const interrupted = interruptExitCode();
  if (interrupted !== undefined) {
    process.stderr.write('pinget: interrupted\n');
    return interrupted;
  }
  if (isPingetError(e) && e.code !== 'INTERNAL') {
    // A message is one line of a readable length, however long the input it quotes.
    if (e.code !== 'DRIFT' || e.message) process.stderr.write(`pinget: ${clip(e.message, MESSAGE_MAX)}\n`);
    for (const line of e.details) process.stderr.write(`  ${clip(line, MESSAGE_MAX)}\n`);
    if (verbose) printCause(e);
    return e.exitCode;
  }
  const errno = errnoOf(e);
  if (errno) {
    const known = ERRNO[errno.code!];
    const dest = (errno as { dest?: string }).dest;
    // A temp file beside its target (written then renamed) is named as the target.
    const where = errno.path ? `${tempTarget(errno.path)}${dest ? ` -> ${tempTarget(dest)}` : ''}` : (errno.syscall ?? 'file system');
    process.stderr.write(`pinget: ${where}: ${known.what} (${errno.code})\n`);
    if (verbose && errno.stack) process.stderr.write(`${errno.stack}\n`);
    return known.exit;
  }
  const message = clip(e instanceof Error ? e.message : String(e), MESSAGE_MAX);
  process.stderr.write(`pinget: internal error: ${message}${verbose ? '' : ' (run with --verbose for details; please report it)'}\n`);
  if (verbose && e instanceof Error && e.stack) {
    process.stderr.write(`${e.stack}\n`);
    printCause(e);
  }
  return EXIT_CODES.INTERNAL;
}

/** Names yargs knows in the failing command's context: its options (with --) and subcommands. */
function knownNames(y: Argv): { options: string[]; commands: string[] } {
  const opts = (y as unknown as { getOptions(): unknown }).getOptions() as { key: Record<string, unknown>; alias: Record<string, string[]> };
  const internal = (y as unknown as { getInternalMethods?: () => { getCommandInstance(): { getCommands(): string[] } } }).getInternalMethods?.();
  const options = [...Object.keys(opts.key), ...Object.values(opts.alias).flat()].filter((k) => k.length > 1 && !k.includes('.') && k !== '$0' && k !== '_');
  return { options, commands: internal?.getCommandInstance().getCommands() ?? [] };
}

/** One line for a yargs complaint; "did you mean" for near misses. */
function usageMessage(msg: string, y: Argv, argv: string[]): string {
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknown) {
    const { options, commands } = knownNames(y);
    const kebab = (n: string) => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const given = (n: string) => argv.some((a) => a === `--${n}` || a.startsWith(`--${n}=`) || a === `-${n}`);
    const listed = unknown[1].split(', ');
    // yargs adds the camelCase twin of an unknown --dry-run ("dryRun") and names --no-such as "such": say what was typed
    const names = [
      ...new Set(
        listed
          .filter((n) => given(n) || !(n !== kebab(n) && (listed.includes(kebab(n)) || given(kebab(n)))))
          .map((n) => (!given(n) && given(`no-${n}`) ? `no-${n}` : n)),
      ),
    ];
    const parts = names.map((name) => {
      const asOption = given(name);
      // A single letter is no typo of a long name: offer the options it begins, when there are few.
      const starting = name.length === 1 ? options.filter((o) => o.startsWith(name)) : [];
      const near = asOption ? (name.length === 1 ? (starting.length && starting.length <= 3 ? starting.map((o) => `--${o}`).join(' or ') : undefined) : closest(name, options)) : closest(name, commands);
      const shown = asOption ? (name.length === 1 ? `-${name}` : `--${name}`) : `"${name}"`;
      const kind = asOption ? 'unknown option' : commands.length ? 'unknown command' : 'unexpected argument';
      return `${kind} ${shown}${near ? ` (did you mean ${asOption && name.length > 1 ? `--${near}` : near}?)` : ''}`;
    });
    return parts.join('; ');
  }
  // `pinget --nosuch info`: yargs took `info` as the unknown option's value and saw no command
  const lead = /^--?(?:no-)?([^=]+)/s.exec(argv[0] ?? '');
  if (msg.startsWith('name a command') && lead && !['help', 'h', 'version', 'V'].includes(lead[1]) && !sharedOptionArity(lead[1])) {
    return `unknown option ${argv[0].replace(/=.*$/s, '')} before the command (see pinget --help)`;
  }
  const recommend = /^Did you mean (.+)\?$/.exec(msg);
  if (recommend) {
    const typed = argv.find((a) => !a.startsWith('-') && closest(a, [recommend[1]]) === recommend[1]);
    return `unknown command${typed ? ` "${typed}"` : ''} (did you mean ${recommend[1]}?)`;
  }
  const words = argv.filter((a) => !a.startsWith('-'));
  if (/^Not enough non-option arguments/.test(msg) && words.length === 1 && GROUP_WORDS.has(words[0])) {
    return `name a ${words[0]} command (pinget ${words[0]} --help lists them)`;
  }
  const invalid = /^Invalid values:\s*Argument: (\S+), Given: (.*), Choices: (.*)$/s.exec(msg.trim());
  if (invalid) return `--${invalid[1]} ${invalid[2]}: not one of ${invalid[3].replace(/\s+/g, ' ')}`;
  return msg
    .replace(/^Not enough arguments following: (.+)$/, '--$1 needs a value')
    .replace(/^Not enough non-option arguments: got (\d+), need at least (\d+)$/, 'missing arguments: got $1, need at least $2')
    .replace(/^Too many non-option arguments: got (\d+), maximum of (\d+)$/, 'too many arguments: got $1, at most $2');
}

function stdoutClosedQuietly(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // The reader went away (`pinget providers | head -1`): nothing left to say to it.
    if (e.code === 'EPIPE') process.exit(0);
    process.stderr.write(`pinget: cannot write to stdout: ${e.message}\n`);
    process.exit(ERRNO[e.code ?? '']?.exit ?? EXIT_CODES.UNAVAILABLE);
  });
}

/**
 * yargs renders the whole help of a command before running its handler, in case the handler fails and
 * help must be shown later (yargs' command.js, cacheHelpMessage): a third of a command's start-up, for
 * text pinget never prints that way (fail() above turns every failure into one line). Help asked for
 * with --help is rendered when asked, as before.
 */
function skipHelpCache(cli: Argv): void {
  const internal = (cli as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/** An option that takes one value, given twice: yargs collects both into a list, which nothing downstream expects. */
function refuseRepeats(cli: Argv, argv: Record<string, unknown>): void {
  const opts = (cli as unknown as { getOptions(): { array: string[]; alias: Record<string, string[]> } }).getOptions();
  for (const [key, value] of Object.entries(argv)) {
    if (key === '_' || key === '$0' || !Array.isArray(value)) continue;
    // yargs also sets each option under its camelCase name (archiveUrl for archive-url).
    const kebab = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const names = [key, kebab, ...(opts.alias[key] ?? []), ...Object.keys(opts.alias).filter((k) => opts.alias[k].includes(key))];
    if (names.some((n) => opts.array.includes(n) || REPEATABLE_OPTIONS.has(n))) continue;
    const long = names.filter((n) => !/[A-Z]/.test(n)).sort((x, y) => y.length - x.length)[0];
    throw new PingetError('USAGE', `--${long} given ${value.length} times; give it once`);
  }
}

/**
 * A switch given a value (`--offline=such`): yargs reads anything but "true" as false and goes on, so the
 * switch the user meant to turn on is silently off. Only true and false are taken.
 */
function refuseSwitchValues(cli: Argv, args: string[]): void {
  const opts = (cli as unknown as { getOptions(): { boolean: string[] } }).getOptions();
  const end = args.indexOf('--');
  for (const a of end < 0 ? args : args.slice(0, end)) {
    const m = /^--(?:no-)?([^=]+)=(.*)$/s.exec(a);
    if (!m || !opts.boolean.includes(m[1]) || /^(true|false)$/.test(m[2])) continue;
    throw new PingetError('USAGE', `--${m[1]} is a switch: give it alone (or =true, =false), not ${JSON.stringify(clip(m[2], 40))}`);
  }
}

/** A command module of any argument shape (each command's own types stay in its file). */
type AnyCommand = CommandModule<any, any>;

/** Each command's module, in the order `pinget --help` lists them. */
const COMMANDS: Record<string, () => Promise<AnyCommand>> = {
  lock: async () => (await import('./commands/lock.js')).lockCommand,
  hash: async () => (await import('./commands/hash.js')).hashCommand,
  install: async () => (await import('./commands/install.js')).installCommand,
  download: async () => (await import('./commands/download.js')).downloadCommand,
  diff: async () => (await import('./commands/diff.js')).diffCommand,
  cache: async () => (await import('./commands/cache.js')).cacheCommand,
  providers: async () => (await import('./commands/providers.js')).providersCommand,
  dockerfile: async () => (await import('./commands/dockerfile.js')).dockerfileCommand,
  info: async () => (await import('./commands/info.js')).infoCommand,
  sbom: async () => (await import('./commands/sbom.js')).sbomCommand,
  ipfs: async () => (await import('./commands/ipfs.js')).ipfsCommand,
};

/**
 * The commands yargs needs: only the one named when it is the first argument (`pinget lock ...`: the other
 * commands' modules, a third of the start-up, are not loaded); all of them otherwise (global help, a typo,
 * options before the command).
 */
async function commandsFor(args: string[]): Promise<AnyCommand[]> {
  const named = Object.hasOwn(COMMANDS, args[0] ?? '') ? COMMANDS[args[0]] : undefined;
  return Promise.all(named ? [named()] : Object.values(COMMANDS).map((load) => load()));
}

/**
 * `pinget --verbose lock hello`, `pinget --cache DIR download F`: the shared options are each command's own, so
 * yargs knows them only behind the command word (and a group's subcommand word). Given before it, they are moved
 * there; anything else before the command (an unknown option, a value-less --cache) is left for yargs to refuse.
 */
export function commandFirst(args: string[]): string[] {
  const moved: string[] = [];
  let i = 0;
  while (i < args.length && args[i].startsWith('-') && args[i] !== '--') {
    const m = /^--?(?:no-)?([^=]+)(=.*)?$/s.exec(args[i]);
    const arity = m && (args[i].startsWith('--') || m[1].length === 1) ? sharedOptionArity(m[1]) : undefined;
    if (!arity || (arity === 'value' && !m![2] && (i + 1 >= args.length || args[i + 1].startsWith('-')))) return args;
    const width = arity === 'value' && !m![2] ? 2 : 1;
    moved.push(...args.slice(i, i + width));
    i += width;
  }
  if (moved.length === 0 || !Object.hasOwn(COMMANDS, args[i] ?? '')) return args;
  const words = GROUP_WORDS.has(args[i]) ? 2 : 1;
  if (words === 2 && (args[i + 1] === undefined || args[i + 1].startsWith('-'))) return args;
  return [...args.slice(i, i + words), ...moved, ...args.slice(i + words)];
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  handleInterrupts();
  stdoutClosedQuietly();
  // yargs reads a lone '-' as an unnamed flag; it means stdin wherever pinget takes a lockfile.
  const args = commandFirst(argv.map((a) => (a === '-' ? STDIN : a)));
  let ranCommand = false;
  const cli: Argv = yargs(args)
    .scriptName('pinget')
    .usage('pinget: pin OS packages by sha256 and reinstall exactly those bytes\n\nUsage: $0 <command> [options]');
  for (const command of await commandsFor(args)) cli.command(command);
  cli
    .middleware(async (argv) => {
      ranCommand = true;
      refuseRepeats(cli, argv);
      refuseSwitchValues(cli, args);
      await checkArchiveUrls(argv);
    })
    .example(example('$0 hash generate -o SHA256SUMS-amd64', 'pin the packages installed on this system'))
    .example(example('$0 install SHA256SUMS-amd64', 'later, install exactly those bytes again'))
    .example(example('$0 diff git:origin/main:SHA256SUMS-amd64 SHA256SUMS-amd64 --format markdown', 'review what a pull request changes in a lockfile'))
    .demandCommand(1, 'name a command (pinget --help lists them)')
    .recommendCommands()
    .strict()
    .epilogue(EXIT_TABLE)
    .wrap(helpWidth())
    .help()
    .alias('h', 'help')
    .version(pingetVersion())
    .alias('V', 'version')
    .fail((msg, err) => {
      if (err && !(err.name === 'YError' && msg)) throw err;
      if (isPingetError(err)) throw err;
      // yargs runs each command's builder on this same instance: it knows the failing command's options now.
      const text = usageMessage(msg ?? String(err), cli, args);
      throw new PingetError('USAGE', text.includes('--help') ? text : `${text} (see pinget ${commandPath(args)}--help)`);
    });
  // Types and defaults are said in the descriptions; yargs' [string] [default: []] tags are noise (yargs >= 17.7).
  (cli as unknown as { usageConfiguration(c: Record<string, boolean>): unknown }).usageConfiguration({ 'hide-types': true });
  skipHelpCache(cli);
  try {
    await cli.parseAsync();
    return interruptExitCode() ?? 0;
  } catch (e) {
    return report(e, verbose);
  } finally {
    // Only a command that ran can have opened connections; --help never loads the HTTP client.
    if (ranCommand) await (await import('./fetch/http-client.js')).closeHttp().catch(() => {});
  }
}

const GROUP_WORDS = new Set(['hash', 'cache', 'dockerfile', 'ipfs']);
const SUBCOMMAND_WORDS = new Set(['generate', 'verify', 'update', 'inspect', 'ls', 'clean', 'export', 'import', 'push']);

/** "install " for `pinget install --bad`: where to look for help. */
function commandPath(args: string[]): string {
  const words: string[] = [];
  const first = args.find((a) => !a.startsWith('-'));
  if (!first || !Object.hasOwn(COMMANDS, first)) return '';
  words.push(first);
  const second = args[args.indexOf(first) + 1];
  if (second && SUBCOMMAND_WORDS.has(second)) words.push(second);
  return `${words.join(' ')} `;
}

/**
 * Options the commands share, in help groups, and what they turn into: logger, cache, provider context.
 * Each group is a table: a new shared option is one entry (it lands in the group's help section).
 * Validation happens in coerce functions, so a bad value stops yargs before any handler starts.
 */
import type { Argv, Options } from 'yargs';
import { Cache, defaultCacheDir } from '../cache.js';
import { PingetError } from '../errors.js';
import { createLogger, type Logger } from '../ui/log.js';
import type { ProviderContext } from '../fetch/types.js';
import { join } from 'node:path';
import { parseSize } from '../size.js';

export interface GlobalArgs {
  root: string;
  cache?: string;
  /** Accept a cache directory other users can write (or $PINGET_TRUST_SHARED_CACHE=1). */
  'trust-shared-cache'?: boolean;
  jobs: number;
  distro?: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  'allow-unsigned': boolean;
  provider?: string[];
  'provider-append'?: string[];
  'archive-url'?: string[];
  /** --archive-url checked and parsed by checkArchiveUrls (a middleware, before the handler). */
  archiveUrls?: Record<string, string>;
  /** Bytes, from --max-size. */
  'max-size': number;
  'connect-timeout': number;
  'speed-limit': number;
  'speed-time'?: number;
  'ipfs-api'?: string;
  timeout: number;
  retries: number;
}

export const COMMON_GROUP = 'Common options:';
export const SYSTEM_GROUP = 'System options:';
export const FETCH_GROUP = 'Fetch options:';

const usage = (message: string) => new PingetError('USAGE', message);

/** A number option's coerce: rejects what is not a number in range, naming the option. */
export function numberIn(name: string, what: string, ok: (n: number) => boolean): (v: unknown) => number {
  return (v) => {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    const n = typeof last === 'number' ? last : typeof last === 'string' && last.trim() !== '' ? Number(last) : NaN;
    if (!Number.isFinite(n) || !ok(n)) throw usage(`--${name} expects ${what}, got "${String(last)}"`);
    return n;
  };
}

/** Splits on commas outside `{{ }}` template actions, as repro-get's --provider (a string slice) reads them. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    if (value.startsWith('{{', i)) depth++;
    else if (value.startsWith('}}', i) && depth > 0) depth--;
    if (value[i] === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += value[i];
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/** The options made with repeatable(): given several times, they are a list; any other option is refused twice. */
export const REPEATABLE_OPTIONS = new Set(['provider', 'provider-append', 'archive-url', 'dedupe', 'mirror', 'keyring']);

/** A repeatable option: one value per flag (never a positional), collected into a list; name it in REPEATABLE_OPTIONS. */
export function repeatable(describe: string, opts: { commas?: boolean } = {}): Options {
  return {
    type: 'string',
    requiresArg: true,
    describe,
    coerce: (v: unknown) => {
      const values = (Array.isArray(v) ? v : [v]).map(String);
      return opts.commas ? values.flatMap(splitList) : values;
    },
  };
}

const OUTPUT_OPTIONS: Record<string, Options> = {
  json: { type: 'boolean', default: false, describe: 'machine-readable output on stdout (see docs/json-output.md)' },
  quiet: { alias: 'q', type: 'boolean', default: false, describe: 'only errors' },
  verbose: { alias: 'v', type: 'boolean', default: false, describe: 'say more, and print stacks of internal errors' },
};

const SYSTEM_OPTIONS: Record<string, Options> = {
  root: { type: 'string', requiresArg: true, default: '/', describe: 'the system to read or install into: a mounted root works (default: /)' },
  distro: {
    type: 'string',
    requiresArg: true,
    describe: 'debian, ubuntu, fedora, alpine or arch instead of detection from os-release (or $PINGET_DISTRO, $REPRO_GET_DISTRO)',
  },
};

const FETCH_OPTIONS: Record<string, Options> = {
  provider: repeatable('provider URL template, or a comma-separated list; repeatable; replaces the default chain (or $PINGET_PROVIDER, $REPRO_GET_PROVIDER)', { commas: true }),
  'provider-append': repeatable('provider URL template added after the default chain; repeatable', { commas: true }),
  'archive-url': {
    ...repeatable('NAME=URL: base URL of a snapshot archive (an internal mirror of it); repeatable'),
    coerce: (v: unknown) => {
      const values = (Array.isArray(v) ? v : [v]).map(String);
      for (const value of values) if (value.indexOf('=') <= 0) throw usage(`--archive-url expects NAME=URL, got "${value}"`);
      return values;
    },
  },
  cache: { type: 'string', requiresArg: true, describe: 'cache directory (default: $PINGET_CACHE, $REPRO_GET_CACHE, else $XDG_CACHE_HOME/pinget)' },
  'trust-shared-cache': {
    type: 'boolean',
    describe: 'use a cache directory other users can write (re-verified, never hard-linked; or $PINGET_TRUST_SHARED_CACHE=1)',
  },
  jobs: { alias: 'j', requiresArg: true, default: 8, describe: 'parallel downloads (default: 8)', coerce: numberIn('jobs', 'a whole number >= 1', (n) => Number.isInteger(n) && n >= 1) },
  timeout: { requiresArg: true, default: 60, describe: 'network timeout in seconds (default: 60)', coerce: numberIn('timeout', 'a number of seconds > 0', (n) => n > 0) },
  retries: { requiresArg: true, default: 3, describe: 'retries on server errors and resets (default: 3)', coerce: numberIn('retries', 'a whole number >= 0', (n) => Number.isInteger(n) && n >= 0) },
  'ipfs-api': { type: 'string', requiresArg: true, describe: 'Kubo RPC endpoint for ipfs:// providers (default: $IPFS_API, else 127.0.0.1:5001)' },
  'allow-unsigned': { type: 'boolean', default: false, describe: 'skip signature checks of indexes and packages (says what it skips)' },
  'max-size': {
    requiresArg: true,
    default: '4G',
    describe: 'largest file accepted from a provider: K/M/G/T or KiB/MiB/GiB/TiB (default: 4G)',
    coerce: (v: unknown) => {
      const last = String(Array.isArray(v) ? v[v.length - 1] : v);
      const n = parseSize(last);
      if (!n) throw usage(`--max-size expects a size like 4G, 512MiB or 1048576, got "${last}"`);
      return n;
    },
  },
  'connect-timeout': { requiresArg: true, default: 15, describe: 'connect timeout in seconds (default: 15)', coerce: numberIn('connect-timeout', 'a number of seconds > 0', (n) => n > 0) },
  'speed-limit': {
    requiresArg: true,
    default: 1024,
    describe: 'abandon a download slower than this many bytes/s over --speed-time; 0: never (default: 1024)',
    coerce: numberIn('speed-limit', 'a number of bytes per second >= 0', (n) => n >= 0),
  },
  'speed-time': { requiresArg: true, describe: 'seconds over which --speed-limit is averaged (default: --timeout)', coerce: numberIn('speed-time', 'a number of seconds > 0', (n) => n > 0) },
};

/**
 * Whether a shared option (output, system, fetch; by name or alias, without dashes) is a switch or takes a
 * value; undefined for any other name. main.ts uses it to move shared options given before the command word.
 */
export function sharedOptionArity(name: string): 'switch' | 'value' | undefined {
  for (const table of [OUTPUT_OPTIONS, SYSTEM_OPTIONS, FETCH_OPTIONS]) {
    for (const [key, o] of Object.entries(table)) {
      const aliases = o.alias === undefined ? [] : Array.isArray(o.alias) ? o.alias : [o.alias];
      if (key === name || aliases.includes(name)) return o.type === 'boolean' ? 'switch' : 'value';
    }
  }
  return undefined;
}

interface Introspect {
  getGroups(): Record<string, string[]>;
  getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> };
}

/** The command's own options (defined before the shared ones) go first in help, under "Options:". */
function ownOptionsFirst<T>(y: Argv<T>): Argv<T> {
  const i = y as unknown as Introspect;
  const groups = i.getGroups();
  if (groups['Options:']) return y;
  const grouped = new Set(Object.values(groups).flat());
  const aliases = new Set(Object.values(i.getOptions().alias).flat());
  const own = Object.keys(i.getOptions().key).filter((k) => !grouped.has(k) && !aliases.has(k) && !['help', 'version', '$0'].includes(k));
  return own.length ? (y.group(own, 'Options:') as unknown as Argv<T>) : y;
}

function withGroup<T>(y: Argv<T>, table: Record<string, Options>, group: string, extra: string[] = []): Argv<T> {
  return ownOptionsFirst(y).options(table).group([...Object.keys(table), ...extra], group) as unknown as Argv<T>;
}

/** --json, --quiet, --verbose (and --help), shown once under "Common options". Call it last in a builder. */
export function withOutputOptions<T>(y: Argv<T>): Argv<T> {
  return withGroup(y, OUTPUT_OPTIONS, COMMON_GROUP, ['help', 'version']);
}

/** --root and --distro. */
export function withSystemOptions<T>(y: Argv<T>): Argv<T> {
  return withGroup(y, SYSTEM_OPTIONS, SYSTEM_GROUP);
}

/** Where files come from and how they are fetched. */
export function withFetchOptions<T>(y: Argv<T>): Argv<T> {
  return withGroup(y, FETCH_OPTIONS, FETCH_GROUP);
}

/** All shared options (commands that read a system and fetch). */
export function withGlobalOptions<T>(y: Argv<T>): Argv<T & GlobalArgs> {
  return withOutputOptions(withFetchOptions(withSystemOptions(y))) as unknown as Argv<T & GlobalArgs>;
}

export interface CommandContext {
  args: GlobalArgs;
  log: Logger;
  cache: Cache;
  providerContext: ProviderContext;
}

/** --archive-url NAME=URL values, names checked against the known archives. */
export async function parseArchiveUrls(values: string[] | undefined): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (!values?.length) return out;
  const known = (await import('../fetch/archives/index.js')).archiveNames();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw usage(`--archive-url expects NAME=URL, got "${v}"`);
    if (!known.includes(v.slice(0, eq))) throw usage(`--archive-url: unknown archive "${v.slice(0, eq)}"; known: ${known.join(', ')}`);
    out[v.slice(0, eq)] = v.slice(eq + 1).replace(/\/+$/, '');
  }
  return out;
}

/** yargs middleware: runs after parsing, before any handler, so a bad archive name stops the command. */
export async function checkArchiveUrls(argv: Record<string, unknown>): Promise<void> {
  const values = argv['archive-url'] as string[] | undefined;
  if (values?.length) argv.archiveUrls = await parseArchiveUrls(values);
}

/**
 * Settings repro-get users already have in their environment: PINGET_* wins over REPRO_GET_*, a flag
 * over both. REPRO_GET_PROVIDER is comma-separated, as repro-get reads it.
 */
export function applyEnvironment(args: GlobalArgs, env: NodeJS.ProcessEnv = process.env): GlobalArgs {
  const pick = (name: string) => env[`PINGET_${name}`] || env[`REPRO_GET_${name}`] || undefined;
  const provider = args.provider?.length ? args.provider : pick('PROVIDER') ? splitList(pick('PROVIDER')!) : undefined;
  const trust = args['trust-shared-cache'] ?? (/^(1|true|yes)$/i.test(env.PINGET_TRUST_SHARED_CACHE ?? '') || undefined);
  return { ...args, cache: args.cache ?? pick('CACHE'), distro: args.distro ?? pick('DISTRO'), provider, 'trust-shared-cache': trust };
}

export function makeContext(raw: GlobalArgs): CommandContext {
  const args = applyEnvironment(raw);
  const log = createLogger({ quiet: args.quiet || args.json, verbose: args.verbose });
  const cache = new Cache(args.cache ?? defaultCacheDir(), { trustShared: !!args['trust-shared-cache'] });
  return {
    args,
    log,
    cache,
    providerContext: {
      log,
      timeoutMs: args.timeout * 1000,
      connectTimeoutMs: args['connect-timeout'] * 1000,
      retries: args.retries,
      maxBytes: args['max-size'],
      speedLimit: { bytesPerSecond: args['speed-limit'], seconds: args['speed-time'] ?? args.timeout },
      spoolDir: join(cache.dir, 'tmp'),
      jobs: args.jobs,
      ipfsApi: args['ipfs-api'] ?? process.env.IPFS_API,
      archiveUrls: args.archiveUrls ?? {},
    },
  };
}

/** JSON output's version: bumped when a field changes meaning or goes away (docs/json-output.md). */
export const JSON_SCHEMA = 1;

/** Prints a result as JSON, one document on stdout, `"schema": 1` first. */
export function printJson(value: object): void {
  process.stdout.write(JSON.stringify({ schema: JSON_SCHEMA, ...value }, null, 2) + '\n');
}

export function warnUnsigned(log: Logger, what: string): void {
  log.warn(`--allow-unsigned: NOT checking ${what}; the lockfile's hashes are only as trustworthy as this system's indexes`);
}

/** Options every command shares, and what they turn into: logger, cache, provider context. */
import type { Argv } from 'yargs';
import { Cache, defaultCacheDir } from '../cache.js';
import { PingetError } from '../errors.js';
import { createLogger, type Logger } from '../ui/log.js';
import type { ProviderContext } from '../fetch/types.js';
import { archiveNames } from '../fetch/archives/index.js';
import { join } from 'node:path';
import { parseSize } from '../size.js';

export interface GlobalArgs {
  root: string;
  cache?: string;
  jobs: number;
  distro?: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  'allow-unsigned': boolean;
  provider?: string[];
  'provider-append'?: string[];
  'archive-url'?: string[];
  'ipfs-api'?: string;
  timeout: number;
  retries: number;
  'max-size': string;
  'connect-timeout': number;
  'speed-limit': number;
  'speed-time'?: number;
}

export function withGlobalOptions<T>(y: Argv<T>): Argv<T & GlobalArgs> {
  return y
    .option('root', { type: 'string', default: '/', describe: 'the system to read or install into (a mounted root)' })
    .option('cache', { type: 'string', describe: 'cache directory [default: $PINGET_CACHE or $XDG_CACHE_HOME/pinget]' })
    .option('jobs', { type: 'number', default: 8, describe: 'parallel downloads' })
    .option('distro', { type: 'string', describe: 'distro adapter to use instead of detection (debian, ubuntu, fedora, alpine, arch)' })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output on stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'only errors' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'say more, and print stacks of internal errors' })
    .option('allow-unsigned', { type: 'boolean', default: false, describe: 'skip signature checks of indexes and packages (says what it skips)' })
    .option('provider', { type: 'string', array: true, describe: 'provider URL template; repeatable; replaces the default chain' })
    .option('provider-append', { type: 'string', array: true, describe: 'provider URL template added after the default chain; repeatable' })
    .option('archive-url', { type: 'string', array: true, describe: 'NAME=URL: base URL of a snapshot archive (an internal mirror of it)' })
    .option('ipfs-api', { type: 'string', describe: 'Kubo RPC endpoint for ipfs:// providers [default: $IPFS_API or 127.0.0.1:5001]' })
    .option('timeout', { type: 'number', default: 60, describe: 'network timeout in seconds' })
    .option('retries', { type: 'number', default: 3, describe: 'retries on server errors and resets' })
    .option('max-size', { type: 'string', default: '4G', describe: 'largest file accepted from a provider (K/M/G/T or KiB/MiB/GiB/TiB)' })
    .option('connect-timeout', { type: 'number', default: 15, describe: 'connect timeout in seconds' })
    .option('speed-limit', { type: 'number', default: 1024, describe: 'abandon a download slower than this many bytes/s over --speed-time (0: never)' })
    .option('speed-time', { type: 'number', describe: 'seconds over which --speed-limit is averaged [default: --timeout]' }) as unknown as Argv<T & GlobalArgs>;
}

export interface CommandContext {
  args: GlobalArgs;
  log: Logger;
  cache: Cache;
  providerContext: ProviderContext;
}

export function parseArchiveUrls(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new PingetError('USAGE', `--archive-url expects NAME=URL, got "${v}"`);
    const known = archiveNames();
    if (!known.includes(v.slice(0, eq))) throw new PingetError('USAGE', `--archive-url: unknown archive "${v.slice(0, eq)}"; known: ${known.join(', ')}`);
    out[v.slice(0, eq)] = v.slice(eq + 1).replace(/\/+$/, '');
  }
  return out;
}

export function makeContext(args: GlobalArgs): CommandContext {
  if (!Number.isInteger(args.jobs) || args.jobs < 1) throw new PingetError('USAGE', `--jobs must be a whole number >= 1, got ${args.jobs}`);
  if (!(args.timeout > 0)) throw new PingetError('USAGE', `--timeout must be a positive number of seconds`);
  const maxBytes = parseSize(args['max-size']);
  if (!maxBytes) throw new PingetError('USAGE', `--max-size expects a size like 4G, 512MiB or 1048576, got "${args['max-size']}"`);
  if (!(args['connect-timeout'] > 0)) throw new PingetError('USAGE', `--connect-timeout must be a positive number of seconds`);
  if (!(args['speed-limit'] >= 0)) throw new PingetError('USAGE', `--speed-limit must be a number of bytes per second >= 0`);
  const speedTime = args['speed-time'] ?? args.timeout;
  if (!(speedTime > 0)) throw new PingetError('USAGE', `--speed-time must be a positive number of seconds`);
  const log = createLogger({ quiet: args.quiet || args.json, verbose: args.verbose });
  const cache = new Cache(args.cache ?? defaultCacheDir());
  return {
    args,
    log,
    cache,
    providerContext: {
      log,
      timeoutMs: args.timeout * 1000,
      connectTimeoutMs: args['connect-timeout'] * 1000,
      retries: args.retries,
      maxBytes,
      speedLimit: { bytesPerSecond: args['speed-limit'], seconds: speedTime },
      spoolDir: join(cache.dir, 'tmp'),
      ipfsApi: args['ipfs-api'] ?? process.env.IPFS_API,
      archiveUrls: parseArchiveUrls(args['archive-url']),
    },
  };
}

/** Prints a result as JSON (stable key order as built), one document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function warnUnsigned(log: Logger, what: string): void {
  log.warn(`--allow-unsigned: NOT checking ${what}; the lockfile's hashes are only as trustworthy as this system's indexes`);
}

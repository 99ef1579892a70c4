/** The provider interface every fetch source implements: http(s), file, oci, ipfs, snapshot resolvers. */
import type { Readable } from 'node:stream';
import type { PackageRef } from '../distro/package-ref.js';
import type { Logger } from '../ui/log.js';

export interface FetchTarget {
  /** Lockfile path, relative to the repository root. */
  path: string;
  sha256: string;
  /** From the lockfile's /ipfs/ line for this hash, when there is one. */
  cid?: string;
  /** The package behind the path, when the distro adapter could tell (resolvers look up by name and version). */
  ref?: PackageRef;
  /** The lockfile's headers (snapshot, distro, ...). */
  headers: Record<string, string>;
}

export interface FetchBody {
  stream: Readable;
  /** Expected length, when the provider knows it (for progress). */
  size?: number;
  /**
   * A file holding the same bytes that the provider hands over (staged by it, written by nothing any
   * more): the cache may move it in instead of reading `stream` (Cache.ingestOwned). Whichever is
   * used, the bytes are verified; the file is gone afterwards, and `stream` is not to be read then.
   */
  file?: string;
}

export interface Provider {
  /** Shown in messages and `pinget providers`, e.g. the template. */
  readonly label: string;
  /**
   * Opens the bytes of a target. Throws a PingetError: NOT_FOUND when this provider does not have it,
   * UNAVAILABLE for network or tool failures. The caller hashes what it reads; providers need not.
   */
  open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody>;
  /**
   * For providers that fetch many files cheaper in one go (a registry: one oras process per manifest
   * instead of one per blob). The chain calls it once with every target still missing when the chain
   * reaches this provider, then calls open() per target as usual; open() serves from what prefetch
   * staged (still unverified: the chain hashes it like any other body). It throws only for what must
   * stop the whole run (refused credentials); anything else is for open() to report per target.
   */
  prefetch?(targets: FetchTarget[], signal: AbortSignal): Promise<void>;
  /**
   * With prefetch: how many targets the chain may work on at once after it (default --jobs). Serving a
   * staged file is local work, so more than --jobs pays; the provider itself keeps what it still
   * fetches over the network to --jobs at a time.
   */
  readonly stagedJobs?: number;
  /** Releases connections, child processes. */
  close?(): Promise<void>;
}

export interface ProviderContext {
  log: Logger;
  /** Until the response headers, and between body chunks, milliseconds (--timeout). */
  timeoutMs: number;
  /** TCP/TLS connect timeout, milliseconds (--connect-timeout; default 15 s). */
  connectTimeoutMs?: number;
  /** Retries on 5xx, 429 and connection failures (also mid-body), with backoff. Not on DNS failures or timeouts. */
  retries: number;
  /** Largest file accepted from a provider, bytes (--max-size; default DEFAULT_MAX_BYTES of byte-cap.ts, 4 GiB). */
  maxBytes?: number;
  /** Abandon a body slower than this on average over `seconds` (--speed-limit, --speed-time; default 1024 B/s over timeoutMs). */
  speedLimit?: { bytesPerSecond: number; seconds: number };
  /** Where downloads are written (the cache's tmp dir): free space is checked there first. */
  spoolDir?: string;
  /** Parallel fetches (--jobs), for providers that run their own batches. */
  jobs?: number;
  /** Kubo RPC endpoint for ipfs:// providers. */
  ipfsApi?: string;
  /** Base URL overrides for archive resolvers, keyed by resolver name. */
  archiveUrls?: Record<string, string>;
}

/** Makes a provider from a template when it handles its scheme; undefined otherwise. */
export type ProviderFactory = (template: string, ctx: ProviderContext) => Provider | undefined;

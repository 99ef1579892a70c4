/** The provider interface every fetch source implements: http(s), file, oci, ipfs, snapshot resolvers. */
import type { Readable } from 'node:stream';
import type { PackageRef } from '../../distros/types.js';
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
}

export interface Provider {
  /** Shown in messages and `pinget providers`, e.g. the template. */
  readonly label: string;
  /**
   * Opens the bytes of a target. Throws a PingetError: NOT_FOUND when this provider does not have it,
   * UNAVAILABLE for network or tool failures. The caller hashes what it reads; providers need not.
   */
  open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody>;
  /** Releases connections, child processes. */
  close?(): Promise<void>;
}

export interface ProviderContext {
  log: Logger;
  /** Per-request timeout (connect and between body chunks), milliseconds. */
  timeoutMs: number;
  /** Retries on 5xx and connection resets, with backoff. */
  retries: number;
  /** Kubo RPC endpoint for ipfs:// providers. */
  ipfsApi?: string;
  /** Base URL overrides for archive resolvers, keyed by resolver name. */
  archiveUrls?: Record<string, string>;
}

/** Makes a provider from a template when it handles its scheme; undefined otherwise. */
export type ProviderFactory = (template: string, ctx: ProviderContext) => Provider | undefined;

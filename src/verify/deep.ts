/**
 * Checks of installed packages by content, through the distro adapter: `hash verify --deep` (the installed
 * files against the package database's per-file digests, and against the pinned file when the cache holds
 * it) and build drift (the database's record of which build is installed against the pinned file).
 */
import type { Cache } from '../cache.js';
import type { BuildDrift, DistroAdapter, DistroInfo, FileDrift, PackageRef, PinnedInstalled } from '../distro/types.js';
import { PingetError } from '../errors.js';
import type { LockEntry } from '../lockfile.js';
import type { Logger } from '../ui/log.js';
import { sha256File } from './sha256.js';

/** Each pinned package with its cached file, when the cache holds bytes that still have the pinned hash. */
export async function withCachedFiles(pinned: { ref: PackageRef; entry: LockEntry }[], cache: Cache, log: Logger): Promise<PinnedInstalled[]> {
  const out: PinnedInstalled[] = [];
  for (const p of pinned) {
    let file = (await cache.has(p.entry.sha256)) ? cache.blobPath(p.entry.sha256) : undefined;
    // the cache is checked on every use: a blob that no longer has its name's hash is not the pinned file
    if (file && (await sha256File(file)) !== p.entry.sha256) {
      log.warn(`${file}: cached bytes no longer match sha256 ${p.entry.sha256}; not used (pinget cache verify)`);
      file = undefined;
    }
    out.push({ ...p, file });
  }
  return out;
}

export async function deepVerify(adapter: DistroAdapter, root: string, info: DistroInfo, pinned: PinnedInstalled[], log: Logger): Promise<FileDrift[]> {
  if (!adapter.verifyFiles) throw new PingetError('USAGE', `--deep is not supported for ${adapter.id} roots`);
  return adapter.verifyFiles(root, info, pinned, { log });
}

/** The adapter's build check, or none when the distro's database cannot tell builds apart (Debian). */
export async function buildDrift(
  adapter: DistroAdapter,
  root: string,
  info: DistroInfo,
  pinned: PinnedInstalled[],
  headers: Record<string, string>,
  log: Logger,
): Promise<BuildDrift[]> {
  if (!adapter.buildDrift || pinned.length === 0) return [];
  return adapter.buildDrift(root, info, pinned, headers, { log });
}

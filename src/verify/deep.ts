/**
 * `hash verify --deep`: the installed files of each package that is at its pinned version, checked by
 * content through the distro adapter (its package database's per-file digests, and the pinned file itself
 * when the cache holds it).
 */
import type { Cache } from '../cache.js';
import type { DistroAdapter, DistroInfo, FileDrift, PackageRef, PinnedInstalled } from '../../distros/types.js';
import { PingetError } from '../errors.js';
import type { LockEntry } from '../lockfile.js';
import type { Logger } from '../ui/log.js';
import { sha256File } from './sha256.js';

export async function deepVerify(
  adapter: DistroAdapter,
  root: string,
  info: DistroInfo,
  pinned: { ref: PackageRef; entry: LockEntry }[],
  cache: Cache,
  log: Logger,
): Promise<FileDrift[]> {
  if (!adapter.verifyFiles) throw new PingetError('USAGE', `--deep is not supported for ${adapter.id} roots`);
  const withFiles: PinnedInstalled[] = [];
  for (const p of pinned) {
    let file = (await cache.has(p.entry.sha256)) ? cache.blobPath(p.entry.sha256) : undefined;
    // the cache is checked on every use: a blob that no longer has its name's hash is not the pinned file
    if (file && (await sha256File(file)) !== p.entry.sha256) {
      log.warn(`${file}: cached bytes no longer match sha256 ${p.entry.sha256}; not used (pinget cache verify)`);
      file = undefined;
    }
    withFiles.push({ ...p, file });
  }
  return adapter.verifyFiles(root, info, withFiles, { log });
}

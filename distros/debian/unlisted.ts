/**
 * What `hash generate` does with installed packages that no apt list nor var/cache/apt/archives has:
 * asks the Debian snapshot archive for signed evidence (archive-evidence.ts) unless `--offline`, and
 * reports the rest, each with its reason and a hint that fits what the lists say: an older version listed
 * (run apt-get update), only newer ones (the mirrors moved on: the archive is the way), or none at all
 * (the package came from no configured source).
 */
import type { LockEntry } from '../../src/lockfile.js';
import { compareDebianVersions } from '../../src/distro/version-compare.js';
import { reportUnpinned, type UnpinnedItem } from '../../src/distro/missing.js';
import type { DistroInfo, GenerateOptions } from '../../src/distro/types.js';
import type { ListFile } from './apt-lists.js';
import { archiveDistro } from '../../src/fetch/archives/index.js';
import { pinFromSnapshot, type Unpinned } from './archive-evidence.js';
import { parseRelease, readSignedRelease } from './release.js';
import { pinFromUbuntuSnapshot } from './ubuntu-evidence.js';
import { displayName, type InstalledDeb } from './dpkg-status.js';
import type { KeyResolver } from './keys.js';
import type { SourceEntry } from './sources.js';

export interface UnlistedContext {
  listsDir: string;
  lists: ListFile[];
  sources: SourceEntry[];
  keys: KeyResolver;
  /** `name\0arch` -> the versions the lists have of the installed packages (collected by the caller's scan). */
  listed: Map<string, Set<string>>;
}

/** Pins what the archive vouches for; reports (throws, or warns with --allow-missing) what stays unpinned. */
export async function resolveUnlisted(info: DistroInfo, opts: GenerateOptions, missing: InstalledDeb[], c: UnlistedContext): Promise<Array<{ pkg: InstalledDeb; entry: LockEntry }>> {
  if (missing.length === 0) return [];
  const distro = archiveDistro(info);
  const snapshotName = distro === 'ubuntu' ? 'ubuntu-snapshot' : 'debian-snapshot';
  const askArchive = (distro === 'debian' || distro === 'ubuntu') && !opts.offline && opts.archive !== undefined;
  let pinned: Array<{ pkg: InstalledDeb; entry: LockEntry }> = [];
  let unpinned: Unpinned[] = missing.map((pkg) => ({ pkg, kind: 'absent', reason: '' }));
  if (askArchive) {
    const o = { codename: info.codename, nativeArch: info.arch, sources: c.sources, keys: c.keys, archive: opts.archive!, log: opts.log };
    ({ pinned, unpinned } = distro === 'ubuntu' ? await pinFromUbuntuSnapshot(missing, { ...o, releaseDates: () => releaseDates(c.listsDir, c.lists) }) : await pinFromSnapshot(missing, o));
  }
  if (unpinned.length === 0) return pinned;

  const listed = c.listed;
  let older = 0;
  let newer = 0;
  let unknown = 0;
  const items: UnpinnedItem[] = unpinned.map((u) => {
    const versions = [...(listed.get(`${u.pkg.name}\0${u.pkg.arch}`) ?? [])].sort(compareDebianVersions);
    let lists: string;
    let listsCause: string;
    if (versions.length === 0) {
      unknown++;
      lists = `no apt list has ${u.pkg.name}:${u.pkg.arch}`;
      listsCause = 'in no apt list';
    } else if (versions.every((v) => compareDebianVersions(v, u.pkg.version) < 0)) {
      older++;
      lists = `the apt lists have only older ${versions.join(', ')}`;
      listsCause = 'the apt lists have only older versions';
    } else {
      newer++;
      lists = `the apt lists have ${versions.join(', ')}`;
      listsCause = 'the apt lists have only other versions';
    }
    const reason = [u.reason, lists].filter(Boolean).join('; ');
    return { name: displayName(u.pkg), kind: u.kind, reason, cause: u.reason || listsCause, ref: { name: u.pkg.name, arch: u.pkg.arch } };
  });

  let hint: string;
  if (c.lists.length === 0) hint = `${c.listsDir} has no Packages lists: run apt-get update (in that root) and try again`;
  else if (older > 0 && newer === 0 && unknown === 0) hint = 'the lists are older than what is installed: run apt-get update (in that root) and try again';
  else if (!askArchive && (distro === 'debian' || distro === 'ubuntu')) hint = `the mirrors no longer carry these versions; run without --offline to look them up in the snapshot archive, or pass --allow-missing to leave them out`;
  else if (!askArchive) hint = `the mirrors no longer carry these versions and pinget cannot look them up in ${info.id}'s archive yet; pass --allow-missing to leave them out`;
  else if (unpinned.some((u) => u.kind === 'unavailable')) hint = `the snapshot archive could not be reached: try again later, or --archive-url ${snapshotName}=URL for a mirror of it, or --allow-missing to leave them out`;
  else if (unknown > 0 && newer === 0) hint = 'they came from no configured source (a local .deb, or a source since removed): pass --allow-missing to leave them out and keep their .deb files yourself';
  else hint = `pass --allow-missing to leave them out, or --archive-url ${snapshotName}=URL for an archive that has them`;
  reportUnpinned(opts, items, hint);
  return pinned;
}

/** The Date of each of the root's release files, newest first (unverified: it only says where to look). */
async function releaseDates(listsDir: string, lists: ListFile[]): Promise<Date[]> {
  const prefixes = [...new Set(lists.map((l) => l.releasePrefix).filter((p): p is string => !!p))];
  const dates = await Promise.all(
    prefixes.map(async (prefix) => {
      const { text, file } = await readSignedRelease(listsDir, prefix, undefined).catch(() => ({ text: '', file: '' }));
      return text ? parseRelease(text, file).date : undefined;
    }),
  );
  return [...new Set(dates.filter((d): d is Date => !!d).map((d) => d.getTime()))].sort((a, b) => b - a).map((t) => new Date(t));
}

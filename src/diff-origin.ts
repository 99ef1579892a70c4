/**
 * What a lockfile path and two versions say about a change, without asking any server: the source package
 * (for links and grouping), whether the file comes from the distro's security archive, and what kind of
 * version change it is. Pure; the path shapes are the repository layouts pinget's lockfiles use.
 */

/** upstream: a new upstream release (or epoch); revision: the distro's packaging; rebuild: the same sources built again. */
export type VersionChange = 'upstream' | 'revision' | 'rebuild';

/** No-change rebuilds: Debian's binNMU suffix (`+b1`), Ubuntu's (`build1`). */
const REBUILD_SUFFIX = /(?:\+b\d+|build\d+)$/;

/** `[epoch:]upstream[-revision]`, split at the last hyphen: Debian, RPM (version-release), Alpine (-rN), Arch (pkgver-pkgrel). */
function splitVersion(v: string): { upstream: string; revision: string } {
  const i = v.lastIndexOf('-');
  return i < 0 ? { upstream: v, revision: '' } : { upstream: v.slice(0, i), revision: v.slice(i + 1) };
}

export function classifyVersions(oldVersion: string, newVersion: string): VersionChange {
  const strip = (v: string) => v.replace(REBUILD_SUFFIX, '');
  if (strip(oldVersion) === strip(newVersion)) return 'rebuild';
  const a = splitVersion(oldVersion);
  const b = splitVersion(newVersion);
  if (strip(a.upstream) !== strip(b.upstream)) return 'upstream';
  return 'revision';
}

/** Debian's pool path: pool/[updates/]<component>/<prefix>/<source>/<file>; updates/ is the security archive. */
const DEBIAN_POOL = /^pool\/(updates\/)?[^/]+\/[^/]+\/([^/]+)\/[^/]+$/;
/** Koji's layout, which Fedora lockfiles use: <source>/<version>/<release>/<arch>/<file>.rpm. */
const KOJI = /^([^/]+)\/[^/]+\/[^/]+\/[^/]+\/[^/]+\.rpm$/;

/** The source package a path names, when its layout names one (Debian and Ubuntu pools, Koji). */
export function sourceOf(path: string | undefined): string | undefined {
  if (!path) return undefined;
  return DEBIAN_POOL.exec(path)?.[2] ?? KOJI.exec(path)?.[1];
}

/**
 * Whether the file comes from the distro's security archive, as far as the path shows it: Debian's
 * debian-security keeps its files under pool/updates/. Ubuntu's -security pocket shares the pool with the
 * other pockets, and Fedora, Alpine and Arch publish security fixes through their ordinary repositories,
 * so their paths never tell.
 */
export function fromSecurityArchive(path: string | undefined, distro: string | undefined): boolean {
  return !!path && distro !== 'ubuntu' && DEBIAN_POOL.exec(path)?.[1] !== undefined;
}

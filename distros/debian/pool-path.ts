/** Debian repository paths: `pool/<component>/<prefix>/<source>/<name>_<version>_<arch>.deb`. Pure. */
import type { PackageRef } from '../../src/distro/types.js';

const DEB_FILE = /^([a-z0-9][a-z0-9+.-]*)_([^_/]+)_([a-z0-9-]+)\.(deb|udeb|ddeb)$/;

/**
 * Package name, version and architecture from a pool path (or a bare .deb file name). Debian's pool file
 * names drop the epoch (`bash_5.2.15-2+b2_amd64.deb` is bash 5.2.15-2+b2 whatever its epoch), so the version
 * has an epoch only when the name carries it %3a-encoded, as apt's cache names do (`1%3a2.0-1`).
 */
export function inspectDebPath(path: string): PackageRef | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (path.includes('/') && !path.startsWith('pool/')) return undefined;
  const m = DEB_FILE.exec(base);
  if (!m) return undefined;
  return { name: m[1], version: m[2].replace(/%3a/gi, ':'), arch: m[3] };
}

// pool/<component>/<prefix>/<source>/<file>
const POOL_FILE = /^pool\/[^/]+\/[^/]+\/([a-z0-9][a-z0-9+.-]+)\/([^/]+)$/;
const DSC = /^([a-z0-9][a-z0-9+.-]+)_([^_/]+)\.dsc$/;
// What a Debian source package is made of besides its .dsc (dpkg-source(1): formats 1.0, 3.0 (quilt), 3.0 (native)).
const SOURCE_PART = /^([a-z0-9][a-z0-9+.-]+)_[^_/]+\.(?:orig(?:-[a-z0-9][a-z0-9-]*)?\.tar\.[a-z0-9]+(?:\.asc)?|debian\.tar\.[a-z0-9]+|diff\.gz|tar\.[a-z0-9]+)$/;

/**
 * A pool path of a source package's file: the source package, with its version when the file is the `.dsc`
 * (`pool/main/h/hello/hello_2.10-3.dsc`); a tarball or diff gives the name only (an `.orig.tar.*` is shared by
 * every revision of one upstream version). Undefined for anything else, and when the file is not under its
 * source's own pool directory.
 */
export function inspectDebSourcePath(path: string): { name: string; version?: string } | undefined {
  const m = POOL_FILE.exec(path);
  if (!m) return undefined;
  const dsc = DSC.exec(m[2]);
  if (dsc && dsc[1] === m[1]) return { name: m[1], version: dsc[2].replace(/%3a/gi, ':') };
  const part = SOURCE_PART.exec(m[2]);
  return part && part[1] === m[1] ? { name: m[1] } : undefined;
}

/** The pool directory letter(s) of a source package: `libc` -> `libc`-style 4 letters for lib*, else the first one. */
export function poolPrefix(source: string): string {
  return source.startsWith('lib') && source.length > 3 ? source.slice(0, 4) : source.slice(0, 1);
}

/** Version without its epoch, as in pool file names. */
export function stripEpoch(version: string): string {
  const colon = version.indexOf(':');
  return colon >= 0 ? version.slice(colon + 1) : version;
}

/** The pool path Debian's archive would give this package (used when no index tells the real one). */
export function guessPoolPath(p: PackageRef & { source: string; component: string }): string {
  return `pool/${p.component}/${poolPrefix(p.source)}/${p.source}/${p.name}_${stripEpoch(p.version)}_${p.arch}.deb`;
}

/** The name apt gives a downloaded .deb in var/cache/apt/archives (epoch ':' as %3a). */
export function aptCacheName(p: PackageRef): string {
  return `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.arch}.deb`;
}

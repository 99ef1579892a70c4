/**
 * Lockfile paths of Arch packages, both ways.
 * pinget writes the mirror layout `<repo>/os/<arch>/<file>` (`$repo/os/$arch` of a mirrorlist Server line);
 * repro-get writes the Arch Linux Archive's `packages/` layout, `<first letter>/<name>/<file>`, plus
 * `<file>.sig` lines. Both are read.
 */
import type { PackageRef } from '../../src/distro/types.js';

/** `.pkg.tar` plus the compressions makepkg's PKGEXT allows. */
const PKG_FILE = /^(.+)-([^-/]+)-([^-/]+)-([^-/]+)\.pkg\.tar(?:\.(?:gz|bz2|xz|zst|lz4|lrz|lzo|lz|Z))?$/;

/** name, version (`[epoch:]pkgver-pkgrel`) and arch from a package file name; undefined for anything else. */
export function parsePackageFilename(file: string): PackageRef | undefined {
  const m = PKG_FILE.exec(file);
  if (!m) return undefined;
  const [, name, pkgver, pkgrel, arch] = m;
  if (!/^[a-z0-9@._+][a-z0-9@._+-]*$/i.test(name)) return undefined;
  return { name, version: `${pkgver}-${pkgrel}`, arch };
}

export function isSignaturePath(path: string): boolean {
  return path.endsWith('.sig') && parsePackageFilename(basenameOf(path.slice(0, -4))) !== undefined;
}

function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `<repo>/os/<arch>/<file>`: the path pinget writes for a package found in a sync database. */
export function mirrorPath(repo: string, arch: string, filename: string): string {
  return `${repo}/os/${arch}/${filename}`;
}

/** `<first letter>/<name>/<file>`: the archive's (and repro-get's) layout, used for packages no sync db has. */
export function archivePath(name: string, filename: string): string {
  return `${name[0]}/${name}/${filename}`;
}

export interface ArchPathInfo {
  ref: PackageRef;
  /** Set for the mirror layout. */
  repo?: string;
  repoArch?: string;
  filename: string;
}

/** Understands both layouts; undefined for signatures and anything else. */
export function parseArchPath(path: string): ArchPathInfo | undefined {
  const parts = path.split('/');
  const filename = parts[parts.length - 1];
  const ref = parsePackageFilename(filename);
  if (!ref) return undefined;
  if (parts.length === 4 && parts[1] === 'os' && parts[0] && parts[2]) {
    return { ref, repo: parts[0], repoArch: parts[2], filename };
  }
  if (parts.length === 3 && parts[1] === ref.name && parts[0] === ref.name[0]) return { ref, filename };
  return undefined;
}

export function inspectArchPath(path: string): PackageRef | undefined {
  return parseArchPath(path)?.ref;
}

/**
 * The `manual` lockfile header: which of the lockfile's packages were installed by hand (apt's manual marks,
 * dnf's and pacman's explicit reasons, apk's world), so that `install` can leave the same marks and the
 * image's package manager later removes the same packages as autoremovable. The value is the sorted package
 * names, space-separated, `name:arch` for a package of a foreign architecture; `-` when none is manual. A
 * lockfile without the header says nothing about marks, and install then leaves them as the package
 * manager sets them (everything installed from files is manual).
 */
import type { LockEntry } from './lockfile.js';
import type { PackageRef } from './distro/types.js';

export const MANUAL_HEADER = 'manual';

/** How a package is named in the header: `name`, or `name:arch` when arch is neither native nor `all`. */
export function markName(p: Pick<PackageRef, 'name' | 'arch'>, native: string | undefined): string {
  return p.arch === 'all' || p.arch === native || !native ? p.name : `${p.name}:${p.arch}`;
}

export function formatManual(names: Iterable<string>): string {
  const sorted = [...new Set(names)].sort();
  return sorted.length ? sorted.join(' ') : '-';
}

/** The manual names of a `manual` header, or undefined when the lockfile has none. */
export function parseManual(headers: Record<string, string>): Set<string> | undefined {
  const v = headers[MANUAL_HEADER];
  if (v === undefined) return undefined;
  return new Set(v.split(/\s+/).filter((n) => n && n !== '-'));
}

/**
 * Keeps only the names of packages still in `entries` (after --dedupe dropped a base's packages), so the
 * header describes this lockfile and no other. Names are compared without their `:arch` qualifier.
 */
export function restrictManual(headers: Record<string, string>, entries: LockEntry[], inspect: (path: string) => PackageRef | undefined): Record<string, string> {
  const manual = parseManual(headers);
  if (!manual) return headers;
  const names = new Set(entries.map((e) => inspect(e.path)?.name).filter((n): n is string => !!n));
  return { ...headers, [MANUAL_HEADER]: formatManual([...manual].filter((m) => names.has(m.split(':')[0]))) };
}

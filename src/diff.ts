/** What changed between two lockfiles, per package. Pure: inspectors and comparators are passed in. */
import type { Lockfile } from './lockfile.js';
import type { PackageRef } from './distro/types.js';
import { DEDUPE_BASE_HEADER } from './dedupe-base.js';
import { MANUAL_HEADER } from './manual-marks.js';
import { classifyVersions, fromSecurityArchive, sourceOf, type VersionChange } from './diff-origin.js';

export type { VersionChange } from './diff-origin.js';

export type ChangeKind = 'added' | 'removed' | 'upgraded' | 'downgraded' | 'rebuilt' | 'moved';

export interface PackageChange {
  kind: ChangeKind;
  name: string;
  arch: string;
  oldVersion?: string;
  newVersion?: string;
  oldPath?: string;
  newPath?: string;
  oldSha256?: string;
  newSha256?: string;
  /** The source package, when the path names it (Debian and Ubuntu pools, Koji). */
  source?: string;
  /** The new file comes from the distro's security archive (Debian's pool/updates/). */
  security?: boolean;
  /** upgraded, downgraded and rebuilt: what kind of version change. */
  versionChange?: VersionChange;
  /** A source package (Debian's `.dsc`): the other files of it (tarballs, diffs) that came and went with it. */
  sourceFiles?: { added: string[]; removed: string[] };
}

export interface Alert {
  kind: 'same-path-different-bytes' | 'downgrade' | 'same-version-different-bytes';
  message: string;
  path?: string;
  name?: string;
  arch?: string;
  oldVersion?: string;
  newVersion?: string;
  oldSha256?: string;
  newSha256?: string;
}

export interface HeaderChange {
  key: string;
  old?: string;
  new?: string;
  /** For headers that list names (manual, dedupe-base, apk-identity): the names added and removed. */
  added?: string[];
  removed?: string[];
}

/** Headers whose value is a space-separated set; their changes are shown as deltas. apk-identity is the Alpine adapter's. */
const LIST_HEADERS = new Set([MANUAL_HEADER, DEDUPE_BASE_HEADER, 'apk-identity']);

function headerChange(key: string, old: string | undefined, now: string | undefined): HeaderChange {
  if (!LIST_HEADERS.has(key)) return { key, old, new: now };
  // '-' is the manual header's "none"
  const set = (v: string | undefined) => new Set((v ?? '').split(/\s+/).filter((t) => t && t !== '-'));
  const [a, b] = [set(old), set(now)];
  return { key, old, new: now, added: [...b].filter((t) => !a.has(t)).sort(), removed: [...a].filter((t) => !b.has(t)).sort() };
}

export interface LockfileDiff {
  /** The distro the paths were read as (header, else path shape), for links; undefined when unknown. */
  distro?: string;
  changes: PackageChange[];
  alerts: Alert[];
  headers: HeaderChange[];
  /** Paths no adapter could read as a package, compared as plain files. */
  otherAdded: string[];
  otherRemoved: string[];
  /** CIDs added or dropped (/ipfs/ lines), counted only. */
  cidsAdded: number;
  cidsRemoved: number;
}

export interface DiffTools {
  inspect(path: string): PackageRef | undefined;
  compare(a: string, b: string): number;
  /** The distro id (as in the lockfile's `distro:` header), for what only it tells: Ubuntu's pool paths look like Debian's. */
  distro?: string;
  /** The full pinned version of a package under its lockfile's headers (rpm: the epoch, which Koji paths lack). */
  version?(ref: PackageRef, headers: Record<string, string>): string;
  /**
   * A path that inspect() does not read but that pins a source package's file: the source, with its version
   * where the file is the one that names it (Debian's `.dsc`, shown as the package `NAME (source)`); the other
   * files (tarballs) are told under their source's change, or as plain files when no change explains them.
   */
  sourceFile?(path: string): { name: string; version?: string } | undefined;
}

/** The architecture a source package is shown with (Debian's own word for it in Sources and purls). */
export const SOURCE_ARCH = 'source';

const keyOf = (r: PackageRef) => `${r.name}\u0000${r.arch}`;

export function diffLockfiles(oldLock: Lockfile, newLock: Lockfile, tools: DiffTools): LockfileDiff {
  const changes: PackageChange[] = [];
  const alerts: Alert[] = [];
  const oldByPath = new Map(oldLock.entries.map((e) => [e.path, e.sha256]));
  const newByPath = new Map(newLock.entries.map((e) => [e.path, e.sha256]));

  for (const [path, sha] of newByPath) {
    const before = oldByPath.get(path);
    if (before && before !== sha) {
      alerts.push({ kind: 'same-path-different-bytes', path, oldSha256: before, newSha256: sha, message: `same file name, different bytes: ${path} (${before.slice(0, 12)}… -> ${sha.slice(0, 12)}…)` });
    }
  }

  const index = (lock: Lockfile) => {
    const pkgs = new Map<string, { ref: PackageRef; path: string; sha256: string }[]>();
    const other = new Set<string>();
    const parts = new Map<string, string>(); // path -> source name
    for (const e of lock.entries) {
      const src = tools.inspect(e.path) ? undefined : tools.sourceFile?.(e.path);
      if (src && src.version === undefined) {
        parts.set(e.path, src.name);
        continue;
      }
      const seen = src ? { name: src.name, version: src.version!, arch: SOURCE_ARCH } : tools.inspect(e.path);
      const ref = seen && tools.version ? { ...seen, version: tools.version(seen, lock.headers) } : seen;
      if (!ref) {
        other.add(e.path);
        continue;
      }
      const k = keyOf(ref);
      pkgs.set(k, [...(pkgs.get(k) ?? []), { ref, path: e.path, sha256: e.sha256 }]);
    }
    return { pkgs, other, parts };
  };
  const before = index(oldLock);
  const after = index(newLock);

  const origin = (oldPath: string | undefined, newPath: string | undefined) => {
    const source = sourceOf(newPath) ?? sourceOf(oldPath);
    return { ...(source ? { source } : {}), ...(fromSecurityArchive(newPath, tools.distro) ? { security: true } : {}) };
  };

  const keys = new Set([...before.pkgs.keys(), ...after.pkgs.keys()]);
  for (const k of keys) {
    const olds = before.pkgs.get(k) ?? [];
    const news = after.pkgs.get(k) ?? [];
    const [name, arch] = k.split('\u0000');
    if (olds.length === 0) {
      for (const n of news) changes.push({ kind: 'added', name, arch, newVersion: n.ref.version, newPath: n.path, newSha256: n.sha256, ...origin(undefined, n.path) });
      continue;
    }
    if (news.length === 0) {
      for (const o of olds) changes.push({ kind: 'removed', name, arch, oldVersion: o.ref.version, oldPath: o.path, oldSha256: o.sha256, ...origin(o.path, undefined) });
      continue;
    }
    // Usually one version on each side; with several, pair the newest with the newest.
    const newest = (xs: typeof olds) => xs.reduce((a, b) => (tools.compare(a.ref.version, b.ref.version) >= 0 ? a : b));
    const o = newest(olds);
    const n = newest(news);
    const cmp = tools.compare(o.ref.version, n.ref.version);
    const versions = { oldVersion: o.ref.version, newVersion: n.ref.version };
    const base = { name, arch, ...versions, oldPath: o.path, newPath: n.path, oldSha256: o.sha256, newSha256: n.sha256, ...origin(o.path, n.path) };
    const versionChange = classifyVersions(o.ref.version, n.ref.version);
    if (cmp < 0) changes.push({ kind: 'upgraded', ...base, versionChange });
    else if (cmp > 0) {
      changes.push({ kind: 'downgraded', ...base, versionChange });
      alerts.push({ kind: 'downgrade', path: n.path, name, arch, ...versions, message: `downgrade: ${name} (${arch}) ${o.ref.version} -> ${n.ref.version}` });
    } else if (o.sha256 !== n.sha256) {
      changes.push({ kind: 'rebuilt', ...base, versionChange: 'rebuild' });
      if (o.path !== n.path) {
        alerts.push({ kind: 'same-version-different-bytes', path: n.path, name, arch, ...versions, oldSha256: o.sha256, newSha256: n.sha256, message: `same version, different bytes: ${name} (${arch}) ${n.ref.version}` });
      }
    } else if (o.path !== n.path) changes.push({ kind: 'moved', ...base });
  }
  attachSourceParts(changes, before, after);
  changes.sort((a, b) => (a.name === b.name ? (a.arch < b.arch ? -1 : 1) : a.name < b.name ? -1 : 1));

  const headers: HeaderChange[] = [];
  for (const key of [...new Set([...Object.keys(oldLock.headers), ...Object.keys(newLock.headers)])].sort()) {
    if (oldLock.headers[key] !== newLock.headers[key]) headers.push(headerChange(key, oldLock.headers[key], newLock.headers[key]));
  }
  const oldCids = new Set([...oldLock.cids.values()]);
  const newCids = new Set([...newLock.cids.values()]);
  return {
    ...(tools.distro ? { distro: tools.distro } : {}),
    changes,
    alerts,
    headers,
    otherAdded: [...after.other].filter((p) => !before.other.has(p)).sort(),
    otherRemoved: [...before.other].filter((p) => !after.other.has(p)).sort(),
    cidsAdded: [...newCids].filter((c) => !oldCids.has(c)).length,
    cidsRemoved: [...oldCids].filter((c) => !newCids.has(c)).length,
  };
}

/**
 * A source package's tarballs that came or went are told under its change; one that no change of its source
 * explains (a tarball dropped while the `.dsc` stayed) is a plain file, so it is not hidden.
 */
function attachSourceParts(changes: PackageChange[], before: { parts: Map<string, string>; other: Set<string> }, after: { parts: Map<string, string>; other: Set<string> }): void {
  const changed = new Map(changes.filter((c) => c.arch === SOURCE_ARCH).map((c) => [c.name, c]));
  const place = (path: string, name: string, side: 'added' | 'removed', unexplained: Set<string>) => {
    const c = changed.get(name);
    if (!c) {
      unexplained.add(path);
      return;
    }
    c.sourceFiles ??= { added: [], removed: [] };
    c.sourceFiles[side].push(path);
  };
  for (const [path, name] of after.parts) if (!before.parts.has(path)) place(path, name, 'added', after.other);
  for (const [path, name] of before.parts) if (!after.parts.has(path)) place(path, name, 'removed', before.other);
  for (const c of changed.values()) {
    c.sourceFiles?.added.sort();
    c.sourceFiles?.removed.sort();
  }
}

export function isEmptyDiff(d: LockfileDiff): boolean {
  return d.changes.length === 0 && d.alerts.length === 0 && d.headers.length === 0 && d.otherAdded.length === 0 && d.otherRemoved.length === 0 && d.cidsAdded === 0 && d.cidsRemoved === 0;
}

/** Security updates: packages added or upgraded from the distro's security archive. */
export function securityCount(d: LockfileDiff): number {
  return d.changes.filter((c) => c.security && (c.kind === 'upgraded' || c.kind === 'added')).length;
}

export function summaryCounts(d: LockfileDiff): Record<ChangeKind, number> {
  const counts: Record<ChangeKind, number> = { added: 0, removed: 0, upgraded: 0, downgraded: 0, rebuilt: 0, moved: 0 };
  for (const c of d.changes) counts[c.kind]++;
  return counts;
}

/**
 * The order a reviewer reads a lockfile diff in, shared by every format: the risky rows first (what
 * nobody asked for: a downgrade, new bytes under a known version, a removal, a move), then security
 * updates, then the routine rest. Also the summary line and the header deltas.
 */
import { securityCount, summaryCounts, type HeaderChange, type LockfileDiff, type PackageChange } from '../diff.js';

/** A package change, or a file no distro reads as a package. */
export type Row = { change: PackageChange } | { file: string; kind: 'added file' | 'removed file' };

export interface RowGroup {
  id: 'risky' | 'security' | 'other';
  title: string;
  rows: Row[];
}

const RISK_ORDER: Record<PackageChange['kind'], number> = { downgraded: 0, rebuilt: 1, removed: 2, moved: 3, upgraded: 4, added: 5 };

export function isRisky(c: PackageChange): boolean {
  return RISK_ORDER[c.kind] <= RISK_ORDER.moved;
}

export function groupRows(d: LockfileDiff): RowGroup[] {
  const risky: Row[] = d.changes
    .filter(isRisky)
    .sort((a, b) => RISK_ORDER[a.kind] - RISK_ORDER[b.kind])
    .map((change) => ({ change }));
  for (const file of d.otherRemoved) risky.push({ file, kind: 'removed file' });
  const security = d.changes.filter((c) => !isRisky(c) && c.security).map((change) => ({ change }));
  const other: Row[] = d.changes.filter((c) => !isRisky(c) && !c.security).map((change) => ({ change }));
  for (const file of d.otherAdded) other.push({ file, kind: 'added file' });
  return [
    { id: 'risky' as const, title: 'Needs a look', rows: risky },
    { id: 'security' as const, title: 'Security updates', rows: security },
    { id: 'other' as const, title: 'Other changes', rows: other },
  ].filter((g) => g.rows.length > 0);
}

export function summaryLine(d: LockfileDiff): string {
  const c = summaryCounts(d);
  const parts = (Object.keys(c) as (keyof typeof c)[]).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
  const sec = securityCount(d);
  if (sec) parts.push(`${sec} security update${sec === 1 ? '' : 's'}`);
  if (d.otherAdded.length) parts.push(`${d.otherAdded.length} other files added`);
  if (d.otherRemoved.length) parts.push(`${d.otherRemoved.length} other files removed`);
  if (d.alerts.length) parts.push(`${d.alerts.length} alert${d.alerts.length === 1 ? '' : 's'}`);
  return parts.length ? parts.join(', ') : 'no package changes';
}

/** A list header's change as signed names (`+hello`, `-zip`); undefined for a header with one value. */
export function headerDelta(h: HeaderChange, minus = '-'): string[] | undefined {
  if (!h.added && !h.removed) return undefined;
  return [...(h.added ?? []).map((n) => `+${n}`), ...(h.removed ?? []).map((n) => `${minus}${n}`)];
}

/** The architecture most changed packages have, named once instead of on every row. */
export function mainArch(d: LockfileDiff): string | undefined {
  const count = new Map<string, number>();
  for (const c of d.changes) if (!NEUTRAL_ARCH.has(c.arch)) count.set(c.arch, (count.get(c.arch) ?? 0) + 1);
  return [...count].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
}

/** Architecture-independent package architectures (Debian's all, RPM's noarch, Arch's any). */
export const NEUTRAL_ARCH = new Set(['all', 'noarch', 'any']);

const VERSION_CHANGE_LABEL = { upstream: 'upstream version', revision: 'distro revision', rebuild: 'rebuild' } as const;

/** What a row's versions do not say: the kind of version change, the bytes of a rebuild, the paths of a move. */
export function changeNote(c: PackageChange, hash = (s: string) => s, path = (s: string) => s): string {
  const notes: string[] = [];
  if (c.security) notes.push('security');
  if (c.kind === 'rebuilt' && c.oldSha256 && c.newSha256) notes.push(`rebuild: bytes ${hash(c.oldSha256.slice(0, 12))} -> ${hash(c.newSha256.slice(0, 12))}`);
  else if (c.versionChange) notes.push(VERSION_CHANGE_LABEL[c.versionChange]);
  if ((c.kind === 'moved' || c.kind === 'rebuilt') && c.oldPath && c.newPath && c.oldPath !== c.newPath) {
    // the same file name in another directory (another pool, component or archive) is said by its directories
    const dir = (p: string) => p.slice(0, p.lastIndexOf('/') + 1);
    const sameName = c.oldPath.slice(dir(c.oldPath).length) === c.newPath.slice(dir(c.newPath).length) && dir(c.oldPath) && dir(c.newPath);
    notes.push(`moved: ${path(sameName ? dir(c.oldPath) : c.oldPath)} -> ${path(sameName ? dir(c.newPath) : c.newPath)}`);
  }
  const files = c.sourceFiles;
  if (files) notes.push(`source files: ${[files.added.length && `${files.added.length} added`, files.removed.length && `${files.removed.length} removed`].filter(Boolean).join(', ')}`);
  return notes.join('; ');
}

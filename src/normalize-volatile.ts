/**
 * The volatile part of `install --normalize`: package-manager logs, caches and database backups.
 * In an image build the root is an overlay on the base image, and removing a file the base had does not
 * remove it: it adds a whiteout to the new layer, which image builders stamp with the wall clock (Docker's
 * classic store does), so two builds differ. So the install's command flow takes a snapshot (lstat) of the
 * volatile paths before the package manager runs, and afterwards:
 *  - what the install created is removed (it is in no lower layer: no whiteout);
 *  - what the base had and the install left as it was is left alone (not even copied up);
 *  - a base file the install changed is emptied in place (truncated; its mtime is then clamped with the
 *    rest), a base directory is settled entry by entry. Nothing the base had is removed.
 * Without a snapshot (a root normalized on its own) every volatile path found is taken as the install's.
 */
import { lstat, readdir, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';

/** What identifies a file's state for "did the install touch it". */
interface Seen {
  kind: 'dir' | 'file' | 'other';
  mtimeMs: number;
  ctimeMs: number;
  size: number;
}

export interface VolatileSnapshot {
  /** Relative paths under the volatile patterns, as they were before the install. */
  seen: Map<string, Seen>;
}

/** apt recreates these empty in its directories; they are never removed, to keep the directory's shape. */
const KEEP_NAMES = new Set(['partial', 'lock']);

const kindOf = (st: { isDirectory(): boolean; isFile(): boolean }): Seen['kind'] => (st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other');

async function lstatOrNone(p: string) {
  return lstat(p).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw e;
  });
}

async function namesIn(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** The relative paths the patterns name in the root now: `dir/*` names each entry of dir (but partial and lock). */
export async function volatileEntries(root: string, patterns: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const rel of patterns) {
    if (rel.endsWith('/*')) {
      const dir = rel.slice(0, -2);
      for (const n of await namesIn(join(root, dir))) if (!KEEP_NAMES.has(n)) out.push(`${dir}/${n}`);
    } else if (await lstatOrNone(join(root, rel))) out.push(rel);
  }
  return out;
}

/** lstat of every path under the volatile patterns (directories walked whole), before the install. */
export async function snapshotVolatile(root: string, patterns: string[]): Promise<VolatileSnapshot> {
  const seen = new Map<string, Seen>();
  const visit = async (rel: string) => {
    const st = await lstatOrNone(join(root, rel));
    if (!st) return;
    const kind = kindOf(st);
    seen.set(rel, { kind, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, size: st.size });
    if (kind === 'dir') for (const n of await namesIn(join(root, rel))) await visit(`${rel}/${n}`);
  };
  for (const rel of await volatileEntries(root, patterns)) await visit(rel);
  return { seen };
}

export interface SettleActions {
  /** Removes a path the install created; returns false when it was left alone (a mount, read-only). */
  remove(rel: string): Promise<boolean>;
  /** Empties a base file the install changed; false when it was left alone. */
  empty(rel: string): Promise<boolean>;
  /** A mount point below the root at or above rel: left alone whole. */
  mounted(rel: string): boolean;
}

export interface Settled {
  removed: string[];
  emptied: string[];
}

/** Settles each volatile entry against the snapshot (see the module comment). */
export async function settleVolatile(root: string, entries: string[], before: VolatileSnapshot | undefined, act: SettleActions): Promise<Settled> {
  const out: Settled = { removed: [], emptied: [] };
  const settle = async (rel: string) => {
    if (act.mounted(rel)) return;
    const st = await lstatOrNone(join(root, rel));
    if (!st) return;
    const was = before ? before.seen.get(rel) : undefined;
    const kind = kindOf(st);
    if (!was) {
      if (await act.remove(rel)) out.removed.push(rel);
      return;
    }
    // A base path the install turned into another kind of file stays: removing it would be a whiteout.
    if (was.kind !== kind) return;
    if (kind === 'dir') {
      for (const n of await namesIn(join(root, rel))) if (!KEEP_NAMES.has(n)) await settle(`${rel}/${n}`);
      return;
    }
    const changed = st.mtimeMs !== was.mtimeMs || st.ctimeMs !== was.ctimeMs || st.size !== was.size;
    if (changed && kind === 'file' && st.size > 0 && (await act.empty(rel))) out.emptied.push(rel);
  };
  for (const rel of entries) await settle(rel);
  return out;
}

/** The default actions on a plain root. */
export const removePath = (p: string) => rm(p, { recursive: true, force: true });
export const emptyFile = (p: string) => truncate(p, 0);

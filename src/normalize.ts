/**
 * `install --normalize`: make two installs of one lockfile into fresh roots give identical trees.
 * Removes what the install left that records when or how the package manager ran (logs, caches, backup
 * copies of its databases) and empties such files the base had (normalize-volatile.ts: never a whiteout in
 * an image layer), then clamps every mtime newer than SOURCE_DATE_EPOCH down to it — the practice of
 * reproducible image builds (BuildKit's rewrite-timestamp, Debian's SOURCE_DATE_EPOCH).
 *
 * It never touches what is not the root's own: mount points below the root (BuildKit and podman bind
 * /etc/hosts, /etc/resolv.conf and the RUN --mount sources read-only into every build step) are skipped
 * with everything under them, and so is a path the kernel refuses to change (EROFS, EPERM: a read-only
 * or immutable file). Those are counted in the summary. Running it twice changes nothing the second time.
 */
import { lstat, lutimes, readdir, readFile, realpath } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PingetError } from './errors.js';
import type { Normalization } from './distro/types.js';
import type { Logger } from './ui/log.js';
import { emptyFile, removePath, settleVolatile, snapshotVolatile, volatileEntries, type Settled, type VolatileSnapshot } from './normalize-volatile.js';

/** Paths relative to the root that every distro's tools may leave; the adapter adds its package manager's own. */
const COMMON_VOLATILE = ['var/cache/ldconfig/aux-cache', 'var/log/alternatives.log'];

/** Never walked when normalizing the running system. */
const PSEUDO = new Set(['proc', 'sys', 'dev', 'run', 'tmp']);

export function epochFrom(headers: Record<string, string>, env: NodeJS.ProcessEnv = process.env): number {
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== '') {
    if (!/^\d+$/.test(sde)) throw new PingetError('USAGE', `SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${sde}"`);
    return Number(sde);
  }
  const snap = headers.snapshot;
  if (snap) {
    const t = Date.parse(snap);
    if (!Number.isNaN(t)) return Math.floor(t / 1000);
  }
  throw new PingetError('USAGE', '--normalize needs SOURCE_DATE_EPOCH or a lockfile with a snapshot header to clamp timestamps to');
}

/** Errors that mean "this path is not ours to change": left alone and counted. */
const HANDS_OFF = new Set(['EROFS', 'EPERM', 'EACCES', 'EBUSY']);

const handsOff = (e: unknown) => HANDS_OFF.has((e as NodeJS.ErrnoException).code ?? '');

/** Undoes the octal escapes (\040 for a space, \011, \012, \134) of /proc/self/mountinfo fields. */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points strictly below `root` in mountinfo text (proc(5): the fifth field is the mount point). */
export function mountPointsBelow(mountinfo: string, root: string): Set<string> {
  const out = new Set<string>();
  const prefix = root === '/' ? '/' : `${root}/`;
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const mp = unescapeMountField(field);
    if (mp !== root && mp.startsWith(prefix)) out.add(mp);
  }
  return out;
}

interface Walk {
  root: string;
  dev: number;
  mounts: Set<string>;
  /** Paths (relative to the root) left alone: mount points and what the kernel refused to change. */
  untouched: string[];
}

function leave(w: Walk, p: string): void {
  w.untouched.push(relative(w.root, p) || '.');
}

/** The mount point p is on or under, when it is below the root. */
function mountOf(w: Walk, p: string): string | undefined {
  for (let q = p; q.length > w.root.length; q = q.slice(0, Math.max(q.lastIndexOf('/'), 1))) if (w.mounts.has(q)) return q;
  return undefined;
}

/** Removes what the install created under the volatile patterns and empties the base files it changed. */
async function settle(w: Walk, volatile: string[], before: VolatileSnapshot | undefined): Promise<Settled> {
  const guarded = async (rel: string, op: (p: string) => Promise<unknown>) => {
    const p = join(w.root, rel);
    try {
      await op(p);
      return true;
    } catch (e) {
      if (!handsOff(e)) throw e;
      leave(w, p);
      return false;
    }
  };
  return settleVolatile(w.root, await volatileEntries(w.root, volatile), before, {
    remove: (rel) => guarded(rel, removePath),
    empty: (rel) => guarded(rel, emptyFile),
    mounted: (rel) => {
      const mount = mountOf(w, join(w.root, rel));
      if (mount) leave(w, mount);
      return !!mount;
    },
  });
}

/** Sets p's mtime (and atime) to epoch when newer, without following symlinks; true when it did. */
async function clampOne(w: Walk, p: string, mtimeMs: number, epoch: number): Promise<boolean> {
  if (mtimeMs / 1000 <= epoch) return false;
  try {
    await lutimes(p, epoch, epoch);
    return true;
  } catch (e) {
    if (!handsOff(e)) throw e;
    leave(w, p);
    return false;
  }
}

/** Clamps the tree under dir; mount points (by mountinfo, or a directory on another device) are skipped whole. */
async function clampTree(w: Walk, dir: string, epoch: number): Promise<number> {
  let clamped = 0;
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (dir === '/' && PSEUDO.has(e.name)) continue;
    const p = join(dir, e.name);
    if (w.mounts.has(p)) {
      leave(w, p);
      continue;
    }
    const st = await lstat(p);
    // Only directories are compared by device: overlayfs may report a lower layer's st_dev for plain files.
    if (st.isDirectory()) {
      if (st.dev !== w.dev) {
        leave(w, p);
        continue;
      }
      clamped += await clampTree(w, p, epoch);
      // The walk below does not change p's mtime (utimes changes ctime only); re-read in case removal did.
      if (await clampOne(w, p, (await lstat(p)).mtimeMs, epoch)) clamped++;
    } else if (await clampOne(w, p, st.mtimeMs, epoch)) clamped++;
  }
  return clamped;
}

export interface NormalizeResult {
  epoch: number;
  /** Volatile paths the install created, removed. */
  removed: string[];
  /** Files the base had and the install changed, emptied in place (removing them would be a whiteout in a layer). */
  emptied: string[];
  clamped: number;
  /** Relative paths left as they were: mount points below the root, read-only or immutable files. */
  untouched: string[];
}

/** The volatile paths of a distro, for snapshotVolatile before the install and normalizeRoot after it. */
export function volatilePaths(distro: Normalization | undefined): string[] {
  return [...COMMON_VOLATILE, ...(distro?.volatile ?? [])];
}

/** Takes the snapshot normalizeRoot compares with: call it before the package manager runs. */
export async function snapshotBeforeInstall(root: string, distro: Normalization | undefined): Promise<VolatileSnapshot> {
  return snapshotVolatile(await realpath(root), volatilePaths(distro));
}

/**
 * Normalizes the root after an install. `before` is snapshotBeforeInstall's: with it, only what the install
 * created is removed; without it, every volatile path found is.
 */
export async function normalizeRoot(
  rootIn: string,
  distro: Normalization | undefined,
  headers: Record<string, string>,
  log: Logger,
  before?: VolatileSnapshot,
): Promise<NormalizeResult> {
  const epoch = epochFrom(headers);
  const root = await realpath(rootIn);
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const w: Walk = { root, dev: (await lstat(root)).dev, mounts: mountPointsBelow(mountinfo, root), untouched: [] };
  const kept = (await distro?.keep?.(root, epoch, headers, log)) ?? [];
  const { removed, emptied } = await settle(w, volatilePaths(distro).filter((r) => !kept.includes(r)), before);
  let clamped = await clampTree(w, root, epoch);
  if (await clampOne(w, root, (await lstat(root)).mtimeMs, epoch)) clamped++;
  const untouched = [...new Set(w.untouched)].sort();
  log.info(
    `normalized ${rootIn}: removed ${removed.length} logs and caches the install wrote, emptied ${emptied.length} the base had, clamped ${clamped} mtimes to ${new Date(epoch * 1000).toISOString()}` +
      (untouched.length ? `; left ${untouched.length} mounted or read-only paths alone` : ''),
  );
  if (untouched.length) log.verbose(`left alone: ${untouched.join(', ')}`);
  return { epoch, removed, emptied, clamped, untouched };
}

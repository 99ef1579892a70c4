/**
 * `install --normalize`: make two installs of one lockfile into fresh roots give identical trees.
 * Removes what package managers leave that records when or how they ran (logs, caches, backup
 * copies of their databases), then clamps every mtime newer than SOURCE_DATE_EPOCH down to it —
 * the practice of reproducible image builds (BuildKit's rewrite-timestamp, Debian's SOURCE_DATE_EPOCH).
 */
import { lstat, lutimes, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from './errors.js';
import type { Logger } from './ui/log.js';

/** Paths relative to the root; a trailing `/*` empties a directory but keeps it. */
const VOLATILE: Record<string, string[]> = {
  common: ['var/cache/ldconfig/aux-cache', 'var/log/alternatives.log'],
  debian: [
    'var/log/dpkg.log',
    'var/log/apt/*',
    'var/lib/dpkg/status-old',
    'var/lib/dpkg/available-old',
    'var/lib/dpkg/diversions-old',
    'var/lib/dpkg/statoverride-old',
    'var/lib/dpkg/lock',
    'var/lib/dpkg/lock-frontend',
    'var/lib/dpkg/triggers/Lock',
    'var/cache/debconf/config.dat-old',
    'var/cache/debconf/templates.dat-old',
    'var/cache/apt/pkgcache.bin',
    'var/cache/apt/srcpkgcache.bin',
    'var/cache/apt/archives/*',
    'var/lib/apt/lists/*',
  ],
  fedora: ['var/log/dnf.log', 'var/log/dnf.librepo.log', 'var/log/dnf.rpm.log', 'var/log/hawkey.log', 'var/cache/dnf/*', 'var/lib/dnf/history.sqlite', 'var/lib/rpm/.rpm.lock'],
  arch: ['var/log/pacman.log', 'var/cache/pacman/pkg/*', 'var/lib/pacman/db.lck'],
  alpine: ['var/cache/apk/*', 'lib/apk/db/lock'],
};
VOLATILE.ubuntu = VOLATILE.debian;

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

async function removeVolatile(root: string, distro: string): Promise<string[]> {
  const removed: string[] = [];
  for (const rel of [...VOLATILE.common, ...(VOLATILE[distro] ?? [])]) {
    if (rel.endsWith('/*')) {
      const dir = join(root, rel.slice(0, -2));
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const n of names) {
        if (n === 'partial' || n === 'lock') continue; // apt recreates these empty; keep the directory shape
        await rm(join(dir, n), { recursive: true, force: true });
        removed.push(`${rel.slice(0, -2)}/${n}`);
      }
    } else if (await lstat(join(root, rel)).catch(() => undefined)) {
      await rm(join(root, rel), { recursive: true, force: true });
      removed.push(rel);
    }
  }
  return removed;
}

/** Sets every mtime (and atime) newer than epoch to epoch, without following symlinks. */
async function clampTree(dir: string, epoch: number, top: boolean): Promise<number> {
  let clamped = 0;
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (top && PSEUDO.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) clamped += await clampTree(p, epoch, false);
    const st = await lstat(p);
    if (st.mtimeMs / 1000 > epoch) {
      await lutimes(p, epoch, epoch);
      clamped++;
    }
  }
  return clamped;
}

export async function normalizeRoot(root: string, distro: string, headers: Record<string, string>, log: Logger): Promise<{ epoch: number; removed: string[]; clamped: number }> {
  const epoch = epochFrom(headers);
  const removed = await removeVolatile(root, distro);
  let clamped = await clampTree(root, epoch, root === '/');
  const st = await lstat(root);
  if (st.mtimeMs / 1000 > epoch) {
    await lutimes(root, epoch, epoch);
    clamped++;
  }
  log.info(`normalized ${root}: removed ${removed.length} logs and caches, clamped ${clamped} mtimes to ${new Date(epoch * 1000).toISOString()}`);
  return { epoch, removed, clamped };
}

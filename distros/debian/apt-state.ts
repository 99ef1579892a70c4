/**
 * `lock` keeps apt's state between runs, in pinget's cache: one directory per set of verified lists and
 * architecture, holding the lists as apt names them and apt's own caches (srcpkgcache.bin, pkgcache.bin), which apt
 * reuses while the lists' sizes and times stay put. A warm run then skips apt's parse of 50 MB of indexes. Only the
 * few most recently used directories are kept.
 */
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Bytes } from '../../src/verify/sha256.js';
import type { ListEntry } from './lock-indexes.js';

const KEEP = 4;

export async function aptStateDir(stateRoot: string, arch: string, lists: ListEntry[]): Promise<string> {
  const key = sha256Bytes([arch, ...lists.map((l) => `${l.name} ${l.sha256}`).sort()].join('\n')).slice(0, 24);
  const dir = join(stateRoot, `apt-${key}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = new Date();
  await utimes(dir, now, now);
  const others = await Promise.all(
    (await readdir(stateRoot)).filter((n) => n.startsWith('apt-')).map(async (n) => ({ n, t: (await stat(join(stateRoot, n)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  for (const { n } of others.sort((a, b) => b.t - a.t).slice(KEEP)) await rm(join(stateRoot, n), { recursive: true, force: true });
  return dir;
}

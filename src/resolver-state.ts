/**
 * `lock` keeps a package manager's own caches between runs, in pinget's cache (the resolve request's stateRoot):
 * one directory per kind and content key (the verified indexes it was built from, the architecture), which the
 * package manager reuses while its own checks (sizes and times, checksums) say they are current. Only the few
 * most recently used directories of a kind are kept.
 */
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Bytes } from './verify/sha256.js';

const KEEP = 4;

/** `<stateRoot>/<kind>-<key of parts>`, made and marked used now; older ones of the kind beyond KEEP removed. */
export async function resolverStateDir(stateRoot: string, kind: string, parts: string[]): Promise<string> {
  const key = sha256Bytes(parts.join('\n')).slice(0, 24);
  const dir = join(stateRoot, `${kind}-${key}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = new Date();
  await utimes(dir, now, now);
  const others = await Promise.all(
    (await readdir(stateRoot)).filter((n) => n.startsWith(`${kind}-`)).map(async (n) => ({ n, t: (await stat(join(stateRoot, n)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  for (const { n } of others.sort((a, b) => b.t - a.t).slice(KEEP)) await rm(join(stateRoot, n), { recursive: true, force: true });
  return dir;
}

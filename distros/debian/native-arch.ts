/** A Debian root's native architecture. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { resolveInRoot } from '../../src/root-path.js';
import { run } from '../../src/exec.js';
import { readStatus } from './dpkg-status.js';

/** The native architecture: dpkg itself for '/', else <root>/var/lib/dpkg/arch, else dpkg's own package record (status or distroless's status.d). */
export async function nativeArch(root: string): Promise<string | undefined> {
  if (resolve(root) === '/') {
    const res = await run('dpkg', ['--print-architecture']).catch(() => undefined);
    if (res?.code === 0 && res.stdout.trim()) return res.stdout.trim();
  }
  const archFile = await readFile(resolveInRoot(root, 'var/lib/dpkg/arch'), 'utf8').catch(() => '');
  const first = archFile.split('\n')[0]?.trim();
  if (first) return first;
  // status, or distroless's status.d
  const pkgs = await readStatus(root).catch(() => []);
  const dpkg = pkgs.find((p) => p.name === 'dpkg' || p.name === 'base-files');
  if (dpkg && dpkg.arch !== 'all') return dpkg.arch;
  const counts = new Map<string, number>();
  for (const p of pkgs) if (p.arch !== 'all') counts.set(p.arch, (counts.get(p.arch) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}


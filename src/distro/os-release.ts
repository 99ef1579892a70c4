/** os-release(5): KEY=value lines, values optionally quoted with shell-like escapes. */
import { readFile } from 'node:fs/promises';
import { resolveInRoot } from '../root-path.js';

export type OsRelease = Record<string, string>;

export function parseOsRelease(text: string): OsRelease {
  const out: OsRelease = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    let value = line.slice(eq + 1);
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\(["\\`$])/g, '$1');
    }
    out[key] = value;
  }
  return out;
}

/**
 * Reads <root>/etc/os-release, falling back to <root>/usr/lib/os-release; undefined when neither exists.
 * Symlinks are followed inside the root (etc/os-release -> /usr/lib/os-release is the root's file, not the host's).
 */
export async function readOsRelease(root: string): Promise<OsRelease | undefined> {
  for (const rel of ['etc/os-release', 'usr/lib/os-release']) {
    try {
      return parseOsRelease(await readFile(resolveInRoot(root, rel), 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
  }
  return undefined;
}

export function idLikeOf(os: OsRelease): string[] {
  return (os.ID_LIKE ?? '').split(/\s+/).filter(Boolean);
}

/** os-release ID and ID_LIKE, lowercased, ID first. */
export function osIds(os: OsRelease): string[] {
  return [os.ID ?? '', ...idLikeOf(os)].map((s) => s.toLowerCase()).filter(Boolean);
}

/** Whether os-release's ID or one of its ID_LIKE is in `family`. */
export function inFamily(os: OsRelease, family: readonly string[]): boolean {
  return osIds(os).some((i) => family.includes(i));
}

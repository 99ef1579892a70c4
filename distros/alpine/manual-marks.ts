/**
 * apk's world (etc/apk/world: one dependency per line, `name`, `name=version`, `name@tag`, `!name` for a
 * conflict; apk-tools writes it sorted) is apk's record of what was asked for by hand. `hash generate` puts the
 * lockfile's packages named there into the `manual` header; `install` puts the manual ones into the world and
 * takes the others out, so `apk del` and `apk fix` in a pinget-built root act as in the apk-built one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../src/fs-atomic.js';
import { formatManual, parseManual } from '../../src/manual-marks.js';

const WORLD = 'etc/apk/world';

/** The package name a world line asks for, or undefined for a conflict (`!name`) or a blank line. */
export function worldName(line: string): string | undefined {
  const t = line.trim();
  if (!t || t.startsWith('!')) return undefined;
  return /^[^=<>~@\s]+/.exec(t)?.[0];
}

async function readWorld(root: string): Promise<string | undefined> {
  return readFile(join(root, WORLD), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
}

/** The `manual` header for these package names: none without a world file or when every one is in it. */
export async function worldHeader(root: string, names: string[]): Promise<Record<string, string>> {
  const text = await readWorld(root);
  if (text === undefined) return {};
  const world = new Set(text.split(/\s+/).map(worldName).filter((n): n is string => !!n));
  if (names.every((n) => world.has(n))) return {};
  return { manual: formatManual(names.filter((n) => world.has(n))) };
}

/**
 * The world text after applying the header's marks to `names` (pure). apk records a package added from a
 * local file as `name><identity` (that exact build, never upgraded); `apk add name` writes `name`, so for
 * the lockfile's packages the identity pin pinget's own install left is taken off. Without a `manual`
 * header (`manual` undefined) nothing else changes.
 */
export function applyToWorld(text: string, names: string[], manual: Set<string> | undefined): string {
  const ours = new Set(names);
  const lines = text.split(/\s+/).filter(Boolean).map((l) => {
    const n = /^([^=<>~@\s]+)></.exec(l)?.[1];
    return n !== undefined && ours.has(n) ? n : l;
  });
  const kept = manual
    ? lines.filter((l) => {
        const n = worldName(l);
        return !n || !ours.has(n) || manual.has(n);
      })
    : lines;
  const present = new Set(kept.map(worldName));
  if (manual) for (const n of names) if (manual.has(n) && !present.has(n)) kept.push(n);
  const sorted = [...new Set(kept)].sort();
  return sorted.length ? `${sorted.join('\n')}\n` : '';
}

export async function applyWorldMarks(root: string, names: string[], headers: Record<string, string>): Promise<void> {
  if (names.length === 0) return;
  const old = await readWorld(root);
  const manual = parseManual(headers);
  if (old === undefined && !manual) return;
  const text = applyToWorld(old ?? '', names, manual);
  if (text === old) return;
  const file = join(root, WORLD);
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, text);
}

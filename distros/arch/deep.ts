/**
 * `hash verify --deep` for pacman roots:
 *  - `pacman -Qkk` checks every file of a package against the mtree pacman stored at install
 *    (`local/<name>-<version>/mtree`: size, sha256, mode, link target); its `warning: PKG: PATH (REASON)` lines
 *    name what differs. A changed modification time alone is not drift (copying a root changes it);
 *    `backup file:` lines are the administrator's files (%BACKUP%), as pacman -Qkk itself treats them;
 *  - with the pinned package in the cache, its payload (streamed by `bsdtar -cf - @PKG`) is compared with
 *    the installed files, which catches a lockfile hash naming another build of the installed version.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import type { Logger } from '../../src/ui/log.js';
import { comparePayload, tarFileHashes } from '../../src/verify/tar-hashes.js';
import type { FileDrift, PinnedInstalled } from '../types.js';
import { parseDesc } from './desc.js';
import { loadPacmanRoot, type PacmanRoot } from './pacman-root.js';

export interface QkkLine {
  pkg: string;
  path: string;
  reason: string;
}

/** `warning: PKG: PATH (REASON)` lines of pacman -Qkk (stderr); backup-file lines and others are left out. */
export function parseQkk(text: string): QkkLine[] {
  const out: QkkLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^warning: ([^:\s]+): (.+) \(([^()]+)\)$/.exec(line);
    if (m) out.push({ pkg: m[1], path: m[2], reason: m[3] });
  }
  return out;
}

const IGNORED = new Set(['Modification time mismatch']);

/** The %BACKUP% paths of an installed package, absolute. */
async function backupFiles(pr: PacmanRoot, p: PinnedInstalled): Promise<Set<string>> {
  const text = await readFile(join(pr.dbPath, 'local', `${p.ref.name}-${p.ref.version}`, 'desc'), 'utf8').catch(() => '');
  return new Set((parseDesc(text).BACKUP ?? []).map((l) => `/${l.split('\t')[0]}`));
}

export async function verifyArchFiles(root: string, pinned: PinnedInstalled[], opts: { log: Logger }): Promise<FileDrift[]> {
  const pr = loadPacmanRoot(root);
  const prefix = resolve(root) === '/' ? '' : resolve(root);
  const args = ['-Qkk', '--root', root, '--dbpath', pr.dbPath, '--config', '/dev/null'];
  const byPath = new Map<string, FileDrift>();
  for (const p of pinned) {
    const res = await run('pacman', [...args, p.ref.name], { missingHint: 'install pacman (Debian: pacman-package-manager)', env: { ...process.env, LC_ALL: 'C' } });
    const lines = parseQkk(res.stderr);
    if (res.code !== 0 && lines.length === 0 && !/altered file/.test(res.stdout)) {
      throw new PingetError('PACKAGE_MANAGER', `pacman -Qkk ${p.ref.name} failed (exit ${res.code}): ${res.stderr.trim()}`);
    }
    for (const l of lines) {
      if (IGNORED.has(l.reason)) continue;
      const path = prefix && l.path.startsWith(`${prefix}/`) ? l.path.slice(prefix.length) : l.path;
      const prev = byPath.get(path);
      byPath.set(path, { package: p.ref.name, path, reason: prev ? `${prev.reason}, ${l.reason}` : `${l.reason} (pacman -Qkk)` });
    }
    if (p.file) {
      const hashes = await tarFileHashes('bsdtar', ['-cf', '-', '--format', 'pax', `@${p.file}`], p.file, 'Debian: libarchive-tools');
      for (const meta of [...hashes.keys()].filter((k) => /^\/\.[A-Z]+$/.test(k))) hashes.delete(meta); // .PKGINFO, .MTREE, .BUILDINFO, .INSTALL
      const drift = await comparePayload(root, hashes, await backupFiles(pr, p), { label: p.ref.name, pinnedPath: p.entry.path });
      for (const d of drift) if (!byPath.has(d.path)) byPath.set(d.path, d);
    } else opts.log.verbose(`${p.entry.path}: not in the cache; checked against pacman's mtree only`);
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * `hash verify --deep` for pacman roots:
 *  - `pacman -Qkk` checks every file of a package against the mtree pacman stored at install
 *    (`local/<name>-<version>/mtree`: size, sha256, mode, link target); its `warning: PKG: PATH (REASON)` lines
 *    name what differs. A changed modification time alone is not drift (copying a root changes it);
 *    `backup file:` lines are the administrator's files (%BACKUP%), as pacman -Qkk itself treats them;
 *  - with the pinned package in the cache, its payload (streamed by `bsdtar -cf - @PKG`) is compared with
 *    the installed files, which catches a lockfile hash naming another build of the installed version.
 * Build drift: pacman keeps the package's `.MTREE` member as `local/<name>-<version>/mtree`, byte for byte;
 * it lists every file's sha256 and the `.PKGINFO`'s, so equal bytes mean the same build. A pinned package in
 * the cache whose `.MTREE` differs is another build of the installed version.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import type { Logger } from '../../src/ui/log.js';
import { comparePayload, tarFileHashes } from '../../src/verify/tar-hashes.js';
import type { BuildDrift, FileDrift, PinnedInstalled } from '../../src/distro/types.js';
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

/** The `.MTREE` member of a package file (`bsdtar -xOf PKG .MTREE`), or undefined when it has none. */
async function packageMtree(file: string): Promise<Buffer | undefined> {
  try {
    const { stdout } = await promisify(execFile)('bsdtar', ['-xOf', file, '.MTREE'], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
    return stdout.length > 0 ? stdout : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PingetError('UNAVAILABLE', 'bsdtar is not installed (Debian: libarchive-tools)', { cause: e });
    return undefined;
  }
}

export async function archBuildDrift(root: string, pinned: PinnedInstalled[], log: Logger): Promise<BuildDrift[]> {
  const pr = loadPacmanRoot(root);
  const out: BuildDrift[] = [];
  for (const p of pinned) {
    if (!p.file) continue;
    const installed = await readFile(join(pr.dbPath, 'local', `${p.ref.name}-${p.ref.version}`, 'mtree')).catch(() => undefined);
    const pinnedMtree = await packageMtree(p.file);
    if (!installed || !pinnedMtree) {
      log.verbose(`${p.ref.name} ${p.ref.version}: no mtree to compare (${installed ? 'pinned file' : 'local database'}); build not checked`);
      continue;
    }
    if (!installed.equals(pinnedMtree)) {
      out.push({ ref: p.ref, path: p.entry.path, reason: `pacman's stored mtree of the installed package is not the pinned file's .MTREE` });
    }
  }
  return out;
}

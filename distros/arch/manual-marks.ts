/**
 * pacman's install reasons (the local database's `%REASON%`: 1 = installed as a dependency, absent or 0 =
 * explicitly), read for the lockfile's `manual` header and set back by install with `pacman -D --asdeps /
 * --asexplicit`, so that `pacman -Qdt` (orphans) in a pinget-built root agrees with the pacman-built one.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runChecked } from '../../src/exec.js';
import { formatManual, parseManual } from '../../src/manual-marks.js';
import type { PackageRef } from '../../src/distro/types.js';
import { descValue, parseDesc } from './desc.js';
import { loadPacmanRoot, type PacmanRoot } from './pacman-root.js';

async function isDependency(pr: PacmanRoot, p: { name: string; version: string }): Promise<boolean> {
  const text = await readFile(join(pr.dbPath, 'local', `${p.name}-${p.version}`, 'desc'), 'utf8').catch(() => '');
  return descValue(parseDesc(text), 'REASON') === '1';
}

/** The `manual` header for `packages`: none when no package was installed as a dependency. */
export async function explicitHeader(pr: PacmanRoot, packages: { name: string; version: string }[]): Promise<Record<string, string>> {
  const deps = new Set<string>();
  for (const p of packages) if (await isDependency(pr, p)) deps.add(p.name);
  if (deps.size === 0) return {};
  return { manual: formatManual(packages.map((p) => p.name).filter((n) => !deps.has(n))) };
}

/** Sets the install reasons of `packages` in root from the lockfile's `manual` header. */
export async function applyArchMarks(root: string, packages: PackageRef[], headers: Record<string, string>): Promise<void> {
  const manual = parseManual(headers);
  if (!manual || packages.length === 0) return;
  const pr = loadPacmanRoot(root);
  const want = { '--asexplicit': [] as string[], '--asdeps': [] as string[] };
  for (const p of packages) if (manual.has(p.name) !== !(await isDependency(pr, p))) want[manual.has(p.name) ? '--asexplicit' : '--asdeps'].push(p.name);
  const tmp = await mkdtemp(join(tmpdir(), 'pinget-pacman-marks-'));
  try {
    const conf = join(tmp, 'pacman.conf');
    await writeFile(conf, '[options]\n');
    const rootArgs = resolve(root) === '/' ? [] : ['--config', conf, '--root', root, '--dbpath', pr.dbPath, '--logfile', join(root, 'var/log/pacman.log')];
    for (const [flag, names] of Object.entries(want)) {
      if (names.length) await runChecked('pacman', ['-D', flag, ...rootArgs, ...names.sort()], 'PACKAGE_MANAGER', { missingHint: 'install pacman (Debian: pacman-package-manager)' });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

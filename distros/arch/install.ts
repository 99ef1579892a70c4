/**
 * `pacman -U` of verified files in one transaction. The files sit in pinget's cache under their hashes,
 * so they are linked into a staging dir under their package file names (with any `.sig` beside them,
 * where libalpm looks for it). No network is used: -U reads only the given files.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { runChecked } from '../../src/exec.js';
import { basename } from '../../src/lockfile.js';
import type { DistroInfo, InstallOptions, InstallReport, LocalFile, PackageRef } from '../../src/distro/types.js';
import { loadPacmanRoot, readLocalDb, type PacmanRoot } from './pacman-root.js';
import { localFilePackageSigLevel } from './pacman-conf.js';
import { parsePackageFilename } from './paths.js';
import { checkPackageSignatures, type PackageToInstall } from './package-sigs.js';

/** Options of the root's pacman.conf worth keeping for -U (NoExtract, NoUpgrade, ...), minus paths and includes. */
export function optionsForInstall(confText: string, overrideSigLevel: boolean): string {
  const keep: string[] = [];
  let inOptions = false;
  for (const raw of confText.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      inOptions = sec[1].trim() === 'options';
      continue;
    }
    if (!inOptions) continue;
    const key = line.split('=')[0].trim();
    if (['Include', 'RootDir', 'DBPath', 'CacheDir', 'GPGDir', 'LogFile', 'HookDir'].includes(key)) continue;
    if (overrideSigLevel && /SigLevel$/.test(key)) continue;
    keep.push(line);
  }
  if (overrideSigLevel) keep.push('LocalFileSigLevel = Never');
  return `[options]\n${keep.join('\n')}\n`;
}

export async function installArch(files: LocalFile[], root: string, info: DistroInfo, opts: InstallOptions): Promise<InstallReport> {
  void info;
  const pr: PacmanRoot = loadPacmanRoot(root);
  const present = new Map((await readLocalDb(pr, { missingOk: true })).map((p) => [p.name, p.version]));
  const sigs = new Map<string, LocalFile>();
  const pkgs: PackageToInstall[] = [];
  for (const f of files) {
    const name = basename(f.entry.path);
    if (name.endsWith('.sig') && parsePackageFilename(name.slice(0, -4))) sigs.set(name.slice(0, -4), f);
    else {
      const ref = parsePackageFilename(name);
      if (!ref) throw new PingetError('BAD_INPUT', `${f.entry.path}: not a pacman package file name (<name>-<pkgver>-<pkgrel>-<arch>.pkg.tar.*)`);
      pkgs.push({ file: f, name, ref });
    }
  }
  const skipped = opts.reinstall ? [] : pkgs.filter((p) => present.get(p.ref.name) === p.ref.version);
  const todo = pkgs.filter((p) => !skipped.includes(p));
  if (todo.length === 0) return { installed: [], skipped: skipped.map((p) => p.ref) };

  await checkPackageSignatures(todo, sigs, pr, opts);

  const stage = await mkdtemp(join(tmpdir(), 'pinget-pacman-'));
  try {
    const args = ['-U', '--noconfirm', '--noprogressbar'];
    if (!opts.reinstall) args.push('--needed');
    if (resolve(root) !== '/') {
      const confText = await readFile(join(root, 'etc/pacman.conf'), 'utf8').catch(() => '');
      const conf = join(stage, 'pacman.conf');
      // pinget has checked each .sig against the root's keyring (or was told not to): pacman's own check only
      // stays when it is the one that requires package signatures.
      const pacmanChecks = !opts.allowUnsigned && localFilePackageSigLevel(pr.conf) === 'Required';
      await writeFile(conf, optionsForInstall(confText, !pacmanChecks));
      for (const d of [pr.dbPath, pr.cacheDirs[0], join(root, 'var/log')]) await mkdir(d, { recursive: true });
      args.push('--config', conf, '--root', root, '--dbpath', pr.dbPath, '--cachedir', pr.cacheDirs[0], '--gpgdir', pr.gpgDir);
      args.push('--logfile', join(root, 'var/log/pacman.log'), '--hookdir', join(root, 'etc/pacman.d/hooks'));
    }
    for (const p of todo) {
      const link = join(stage, p.name);
      await symlink(p.file.file, link);
      const sig = sigs.get(p.name);
      if (sig && !opts.allowUnsigned) await symlink(sig.file, `${link}.sig`);
      args.push(link);
    }
    opts.log.verbose(`pacman ${args.join(' ')}`);
    await runChecked('pacman', args, 'PACKAGE_MANAGER', { missingHint: 'install pacman (Debian: pacman-package-manager)' });
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
  return { installed: todo.map((p) => p.ref), skipped: skipped.map((p) => p.ref) };
}

/** Hands verified .apk files to `apk add --no-network`, in one transaction. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { basename } from '../../src/lockfile.js';
import { runChecked } from '../../src/exec.js';
import { resolveInRoot } from '../../src/root-path.js';
import type { InstallOptions, InstallReport, LocalFile, PackageRef } from '../../src/distro/types.js';
import { installedDbFile } from './generate.js';
import { APK_MISSING_HINT, checkApkFiles, requireApkForV3 } from './install-check.js';
import { inspectApkPath } from './paths.js';

/**
 * The apk command line for files in `dir` (pure, for tests and --verbose). `initdb`: the root has no
 * package database yet (a fresh root), which apk creates only when asked to.
 */
export function apkAddArgs(root: string, files: string[], allowUntrusted: boolean, initdb = false): string[] {
  const args = ['add', '--no-network', '--no-interactive'];
  if (resolve(root) !== '/') args.push('--root', resolve(root));
  if (initdb) args.push('--initdb');
  if (allowUntrusted) args.push('--allow-untrusted');
  return [...args, ...files];
}

/**
 * Whether apk finds a database in the root. Only a root with neither the installed database nor the world
 * gets `--initdb`: apk's database creation truncates both (apk-tools 2 apk_db_create), so it must never
 * run over a root that has either.
 */
export function hasApkDatabase(root: string): boolean {
  return existsSync(installedDbFile(root)) || existsSync(resolveInRoot(root, 'etc/apk/world'));
}

export async function installApks(
  files: LocalFile[],
  root: string,
  installed: PackageRef[],
  opts: InstallOptions,
): Promise<InstallReport> {
  const have = new Set(installed.map((r) => `${r.name}\0${r.version}`));
  const todo: { ref: PackageRef; file: string; name: string; path: string }[] = [];
  const skipped: PackageRef[] = [];
  for (const f of files) {
    const ref = inspectApkPath(f.entry.path);
    if (!ref) throw new PingetError('BAD_INPUT', `${f.entry.path} is not an apk lockfile path (<branch>/<repo>/<arch>/<name>-<version>.apk)`);
    const plain = { name: ref.name, version: ref.version, arch: ref.arch };
    if (!opts.reinstall && have.has(`${ref.name}\0${ref.version}`)) skipped.push(plain);
    else todo.push({ ref: plain, file: f.file, name: basename(f.entry.path), path: f.entry.path });
  }
  if (todo.length === 0) return { installed: [], skipped };
  await requireApkForV3(await checkApkFiles(todo.map((t) => ({ path: t.path, file: t.file }))));
  // apk recognises a local package by its ".apk" name; cache blobs are named by hash.
  const dir = await mkdtemp(join(tmpdir(), 'pinget-apk-'));
  try {
    const paths: string[] = [];
    for (const t of todo) {
      const p = join(dir, t.name);
      await symlink(resolve(t.file), p);
      paths.push(p);
    }
    const args = apkAddArgs(root, paths, !!opts.allowUnsigned, !hasApkDatabase(root));
    opts.log.verbose(`apk ${args.join(' ')}`);
    await runChecked('apk', args, 'PACKAGE_MANAGER', { missingHint: APK_MISSING_HINT });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { installed: todo.map((t) => t.ref), skipped };
}

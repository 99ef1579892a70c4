/**
 * Hands verified rpms to rpm in one transaction: header signatures first (`rpmkeys --checksig` against the
 * keys imported into the root's rpm database), then `rpm -U`. Packages already installed at the same
 * version-release and arch are skipped.
 *
 * rpm reads its macro files from the host even with --root (`rpm --showrc`: Macro path), so a host's
 * /etc/rpm/macros.* (%_excludedocs, %_install_langs, %_netsharedpath) would shape the root's tree. For a root
 * other than '/' the macro path is rpm's own files (/usr/lib/rpm) plus the root's etc/rpm, without ~/.rpmmacros.
 */
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run, runChecked } from '../../src/exec.js';
import { basename } from '../../src/lockfile.js';
import type { InstallOptions, InstallReport, LocalFile, PackageRef } from '../../src/distro/types.js';
import { inspectKojiPath, refOf } from './nevra.js';
import { findRpmDb, MISSING_RPM_HINT, queryInstalled, rpmDbArgs, type RpmDbLocation } from './rpmdb.js';

const refKey = (r: PackageRef) => `${r.name}\0${r.arch}\0${r.version}`;

/** Lines of `rpmkeys --checksig` output that are not fully OK. */
export function failedChecksigLines(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l.trim())
    .filter((l) => /NOT OK|NOKEY|BAD/.test(l));
}

/** rpm's macro path with /etc/rpm/ read from the root and ~/.rpmmacros left out. */
export function rootMacroPath(hostPath: string, root: string): string {
  return hostPath
    .split(':')
    .filter((p) => p && !p.startsWith('~'))
    .map((p) => (p.startsWith('/etc/rpm/') ? join(root, p) : p))
    .join(':');
}

/** `--macros PATH` for a root other than '/', from this rpm's own macro path. */
async function macroArgs(root: string): Promise<string[]> {
  if (resolve(root) === '/') return [];
  const res = await run('rpm', ['--showrc'], { missingHint: MISSING_RPM_HINT });
  const hostPath = /^Macro path: (.*)$/m.exec(res.stdout)?.[1];
  return hostPath ? ['--macros', rootMacroPath(hostPath, resolve(root))] : [];
}

async function checkSignatures(root: string, db: RpmDbLocation, files: string[], macros: string[]): Promise<void> {
  // _pkgverify_level signature: an rpm without a signature fails too, not only one with a bad or unknown key.
  const res = await run('rpmkeys', [...macros, ...rpmDbArgs(root, db), '--define', '_pkgverify_level signature', '--checksig', ...files], {
    missingHint: MISSING_RPM_HINT,
  });
  if (res.code !== 0) {
    const bad = failedChecksigLines(res.stdout + res.stderr);
    throw new PingetError(
      'INTEGRITY',
      `${bad.length || 'some'} rpm(s) failed the signature check against the keys imported in ${root} (rpmkeys --import KEY, or pass --allow-unsigned)`,
      { details: bad.length ? bad : (res.stdout + res.stderr).trim().split('\n').slice(-20) },
    );
  }
}

export async function installRpms(files: LocalFile[], root: string, opts: InstallOptions): Promise<InstallReport> {
  const db: RpmDbLocation = (await findRpmDb(root)) ?? { dbpath: '/var/lib/rpm', backend: 'sqlite', file: join(root, 'var/lib/rpm/rpmdb.sqlite') };
  const present = new Set((await findRpmDb(root)) ? (await queryInstalled(root)).map((p) => refKey(refOf(p))) : []);
  const installed: PackageRef[] = [];
  const skipped: PackageRef[] = [];
  const todo: LocalFile[] = [];
  for (const f of files) {
    const ref = inspectKojiPath(f.entry.path);
    if (!ref) throw new PingetError('BAD_INPUT', `${f.entry.path}: not an rpm path in Koji's layout (<srpm>/<version>/<release>/<arch>/<file>.rpm)`);
    if (!opts.reinstall && present.has(refKey(ref))) skipped.push(ref);
    else {
      todo.push(f);
      installed.push(ref);
    }
  }
  if (todo.length === 0) return { installed, skipped };
  // rpm names files in its messages: give it the package file names, not the cache's hash names.
  const dir = await mkdtemp(join(tmpdir(), 'pinget-rpm-'));
  try {
    const links: string[] = [];
    for (const f of todo) {
      const link = join(dir, basename(f.entry.path));
      await symlink(f.file, link);
      links.push(link);
    }
    const macros = await macroArgs(root);
    if (opts.allowUnsigned) opts.log.warn('--allow-unsigned: NOT checking the rpm header signatures');
    else await checkSignatures(root, db, links, macros);
    const args = [...macros, ...rpmDbArgs(root, db), '-U', '--oldpackage', ...(opts.reinstall ? ['--replacepkgs'] : [])];
    if (opts.allowUnsigned) args.push('--nosignature');
    await runChecked('rpm', [...args, ...links], 'PACKAGE_MANAGER', { missingHint: MISSING_RPM_HINT });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { installed, skipped };
}

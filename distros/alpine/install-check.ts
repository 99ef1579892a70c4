/**
 * Before apk runs: apk installs whatever package file it is given, so a lockfile whose hash pins another
 * package's bytes under a path (a liar, or a mix-up) would install that other package and report the one
 * named. Each file's own name and version (v2 `.PKGINFO`, v3 ADB package info) must be its path's. And apk
 * 2 cannot read v3 (ADB) packages: that is said before it runs, not left to its "IO ERROR".
 */
import { readFile } from 'node:fs/promises';
import { PingetError, reasonOf } from '../../src/errors.js';
import { runChecked } from '../../src/exec.js';
import { isAdb, readAdbPackageInfo } from './adb-package.js';
import { parseApk } from './apk-file.js';
import { inspectApkPath } from './paths.js';
import { pkgInfoValue } from './pkginfo.js';

export const APK_MISSING_HINT = 'apk-tools is needed to install Alpine packages (run pinget inside the Alpine image, or use `pinget download`)';

async function ownNameVersion(path: string, bytes: Buffer): Promise<{ name?: string; version?: string; v3: boolean }> {
  try {
    if (isAdb(bytes)) return { ...readAdbPackageInfo(bytes), v3: true };
    const info = (await parseApk(bytes)).pkginfo;
    return { name: pkgInfoValue(info, 'pkgname'), version: pkgInfoValue(info, 'pkgver'), v3: false };
  } catch (e) {
    throw new PingetError('INTEGRITY', `${path}: not an apk package (${reasonOf(e)}); refusing to install it`, { cause: e });
  }
}

/** Checks every file against its lockfile path; returns the paths of the v3 (ADB) packages among them. */
export async function checkApkFiles(files: { path: string; file: string }[]): Promise<string[]> {
  const v3: string[] = [];
  for (const f of files) {
    const ref = inspectApkPath(f.path);
    const own = await ownNameVersion(f.path, await readFile(f.file));
    if (!ref || own.name !== ref.name || own.version !== ref.version) {
      throw new PingetError('INTEGRITY', `${f.path}: the file is the package ${own.name}-${own.version}, not the one its path names; refusing to install it`);
    }
    if (own.v3) v3.push(f.path);
  }
  return v3;
}

/**
 * Refuses when the apk on PATH is older than apk-tools 3 (UNAVAILABLE: the tool that can read `what` is missing):
 * `what` is said as `<what>, which apk-tools 2 cannot <verb>`.
 */
export async function requireApk3(what: string, verb: string, missingHint = APK_MISSING_HINT): Promise<void> {
  const { stdout } = await runChecked('apk', ['--version'], 'PACKAGE_MANAGER', { missingHint });
  const major = /apk-tools (\d+)\./.exec(stdout)?.[1];
  if (major !== undefined && Number(major) < 3) {
    throw new PingetError('UNAVAILABLE', `${what}, which apk-tools ${major} cannot ${verb}; install apk-tools 3 (apk --version says: ${stdout.trim()})`);
  }
}

/** Refuses v3 packages when the apk on PATH is apk-tools 2. */
export async function requireApkForV3(v3: string[]): Promise<void> {
  if (v3.length > 0) await requireApk3(`${v3[0]} is an apk v3 package`, 'install');
}

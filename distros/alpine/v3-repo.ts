/**
 * apk-tools 3 repositories (Packages.adb), shared by `lock` and `hash generate`: apk 3's verdict on an index's
 * signature (`apk verify` with the base's keys: it refuses an index no key signed, an unsigned one and bytes that
 * are no ADB file), the `C:` identity apk 3 records for a package, and where apk 3 fetches a package (database.c
 * apk_repo_package_url: url_base + the index's pkgname-spec) as a lockfile path under a base.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PingetError, reasonOf } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import { packageRelPath } from './adb-index.js';
import { adbPackageIdentity, isAdb } from './adb-package.js';
import { parseApk } from './apk-file.js';
import { APK_HINT } from './apk-resolve.js';
import { inspectApkPath } from './paths.js';
import type { ApkRepository } from './repositories.js';
import type { ApkKeys } from './signature.js';

/** Refuses (INTEGRITY, with apk's reason) a Packages.adb that apk 3 does not trust with `keys`. `scratch`: pinget's own directory, or a temporary one. */
export async function apkVerifyAdb(data: Buffer, what: string, keys: ApkKeys, keysDir: string, scratch?: string, signal?: AbortSignal): Promise<void> {
  const dir = scratch ?? (await mkdtemp(join(tmpdir(), 'pinget-apk-verify-')));
  try {
    await mkdir(join(dir, 'keys'), { recursive: true });
    for (const [name, key] of keys) await writeFile(join(dir, 'keys', name), key.export({ type: 'spki', format: 'pem' }));
    const file = join(dir, `index-${randomUUID()}.adb`);
    await writeFile(file, data);
    await writeFile(join(dir, 'apk.conf'), '');
    const env = { ...process.env, LC_ALL: 'C', LANG: 'C', APK_CONFIG: join(dir, 'apk.conf') };
    const res = await run('apk', ['verify', '--verbose', '--keys-dir', join(dir, 'keys'), file], { env, signal, missingHint: APK_HINT });
    if (res.code === 0) return;
    const why = `${res.stdout}\n${res.stderr}`.split('\n').map((l) => l.trim()).find((l) => l.startsWith(`${file}: `))?.slice(file.length + 2) ?? `apk verify exited ${res.code}`;
    throw new PingetError('INTEGRITY', `${what}: apk rejects the index: ${why}${/UNTRUSTED/i.test(why) ? ` (keys: ${keysDir}; --allow-unsigned skips this check)` : ''}`);
  } finally {
    if (!scratch) await rm(dir, { recursive: true, force: true });
  }
}

/** The `C:` apk records for an index's `hashes`: a v2 SHA-1 as is, a v3 SHA-256 cut to 160 bits. */
export function identityOfHash(hash: Buffer): string {
  return `Q1${hash.subarray(0, 20).toString('base64')}`;
}

/** The `C:` identity of a package file, v2 (control segment SHA-1) or v3 (ADB block SHA-256 cut to 160 bits). */
export async function fileIdentity(bytes: Buffer): Promise<string> {
  return isAdb(bytes) ? identityOfHash(adbPackageIdentity(bytes)) : (await parseApk(bytes)).identity;
}

/** Where apk 3 fetches a package of a Packages.adb repository: its URL and its lockfile path under a base. */
export function v3Location(repo: ApkRepository, indexUrl: string, pkgnameSpec: string | undefined, rec: { name: string; version: string; arch?: string }): { url: string; path: string; base: string } {
  const urlBase = repo.kind === 'ndx' ? repo.url.slice(0, repo.url.lastIndexOf('/')) : repo.url;
  const spec = pkgnameSpec ?? (repo.kind === 'ndx' ? '${name}-${version}.apk' : '${arch}/${name}-${version}.apk');
  let rel: string;
  try {
    rel = packageRelPath(spec, rec);
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${indexUrl}: ${reasonOf(e)}`);
  }
  const url = `${urlBase}/${rel}`;
  const parts = url.split('/');
  const path = parts.slice(-4).join('/');
  if (spec.includes('://') || rel.split('/').some((c) => c === '..' || c === '.' || c === '') || !inspectApkPath(path)) {
    throw new PingetError('BAD_INPUT', `${indexUrl}: ${rec.name} ${rec.version} is at ${JSON.stringify(rel)} (pkgname-spec ${JSON.stringify(spec)}), not <branch>/<repo>/<arch>/<name>-<version>.apk as a lockfile names it`);
  }
  return { url, path, base: parts.slice(0, -4).join('/') };
}

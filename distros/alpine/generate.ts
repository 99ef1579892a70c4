/**
 * `hash generate` for Alpine: installed db -> repository (via the cached or downloaded APKINDEX whose
 * record has the same name, version and `C:` identity) -> the .apk (apk cache, else downloaded) ->
 * its control member must have that identity -> sha256 of the whole file.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { PingetError, reasonOf } from '../../src/errors.js';
import type { LockEntry } from '../../src/lockfile.js';
import { resolveInRoot } from '../../src/root-path.js';
import { decodeDatabase } from '../../src/text-decode.js';
import type { Logger } from '../../src/ui/log.js';
import type { DistroInfo, GenerateOptions, GenerateResult } from '../../src/distro/types.js';
import { sha256Hex } from './apk-file.js';
import { checkInstalledDb, parseApkDb, type ApkRecord } from './apk-db.js';
import { parseApkIndex, type ApkIndex } from './apkindex.js';
import { download as defaultDownload, type Downloader } from './download.js';
import { formatIdentityHeader, IDENTITY_HEADER } from './identity-header.js';
import { apkPath } from './paths.js';
import { apk3IndexCacheName, cacheIndexNames, cachePackageName, parseRepositories, type ApkRepository } from './repositories.js';
import { loadApkKeys } from './signature.js';
import { readAdbIndex } from './adb-index.js';
import { APK_HINT } from './apk-resolve.js';
import { requireApk3 } from './install-check.js';
import { indexUrlOf } from './lock-repos.js';
import { apkVerifyAdb, fileIdentity, identityOfHash, v3Location } from './v3-repo.js';
import { worldHeader } from './manual-marks.js';

export const INSTALLED_DB = 'lib/apk/db/installed';
/** apk-tools 3 and apko keep the database under usr/ where lib/apk does not exist (and is no link to it). */
const INSTALLED_DB_USR = 'usr/lib/apk/db/installed';

/** The installed database of a root on this machine: lib/apk/db/installed, else usr/lib/apk/db/installed. */
export function installedDbFile(root: string): string {
  const file = resolveInRoot(root, INSTALLED_DB);
  if (existsSync(file)) return file;
  const usr = resolveInRoot(root, INSTALLED_DB_USR);
  return existsSync(usr) ? usr : file;
}
export const CACHE_DIRS = ['etc/apk/cache', 'var/cache/apk'];

async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new PingetError('UNAVAILABLE', `${file}: ${reasonOf(e)}`, { cause: e });
  }
}

/** The installed packages of a root, checked whole (strict UTF-8, records ended, fields well-formed: see checkInstalledDb). */
export async function readInstalled(root: string): Promise<ApkRecord[]> {
  const file = installedDbFile(root);
  const bytes = await readOptional(file);
  if (!bytes) throw new PingetError('BAD_INPUT', `${file}: no apk database; is ${root} an Alpine root? (pass --root DIR)`);
  const text = decodeDatabase(bytes, file);
  try {
    const records = parseApkDb(text, file);
    checkInstalledDb(text, records, file);
    return records;
  } catch (e) {
    throw new PingetError('BAD_INPUT', reasonOf(e), { cause: e });
  }
}

/** The system's apk architecture: <root>/etc/apk/arch, else what the packages say. */
export async function readApkArch(root: string, records: ApkRecord[] = [], fallback?: string): Promise<string | undefined> {
  const text = (await readOptional(resolveInRoot(root, 'etc/apk/arch')))?.toString('utf8').trim();
  return text || records.find((r) => r.arch && r.arch !== 'noarch')?.arch || fallback;
}

export async function readRepositories(root: string, opts: { v3?: boolean } = {}): Promise<ApkRepository[]> {
  const file = resolveInRoot(root, 'etc/apk/repositories');
  const text = await readOptional(file);
  if (!text) return [];
  try {
    return parseRepositories(text.toString('utf8'), file, opts);
  } catch (e) {
    throw new PingetError('BAD_INPUT', reasonOf(e), { cause: e });
  }
}

export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function snapshotOf(env: NodeJS.ProcessEnv, indexDates: (Date | undefined)[]): string | undefined {
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== '') {
    if (!/^\d+$/.test(sde)) throw new PingetError('USAGE', `SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${sde}"`);
    return isoSeconds(new Date(Number(sde) * 1000));
  }
  const newest = indexDates.filter((d): d is Date => !!d).sort((a, b) => b.getTime() - a.getTime())[0];
  return newest ? isoSeconds(newest) : undefined;
}

interface Located {
  record: ApkRecord;
  repo: ApkRepository;
  /** A Packages.adb repository's package: where apk 3 fetches it. */
  at?: { url: string; path: string };
}

async function loadIndex(
  root: string,
  repo: ApkRepository,
  arch: string,
  keys: Awaited<ReturnType<typeof loadApkKeys>> | undefined,
  download: Downloader,
  log: Logger,
  apkToolsVersion: string | undefined,
  keep: (name: string) => boolean,
): Promise<(ApkIndex & { pkgnameSpec?: string }) | undefined> {
  let bytes: Buffer | undefined;
  let what = '';
  const indexUrl = indexUrlOf(repo, arch);
  // a v3 or ndx repository is apk 3's alone: its cache name only
  const cacheNames = repo.kind ? [apk3IndexCacheName(indexUrl)] : cacheIndexNames(repo, arch, apkToolsVersion);
  search: for (const dir of CACHE_DIRS) {
    for (const name of cacheNames) {
      what = join(root, dir, name);
      bytes = await readOptional(what);
      if (bytes) break search;
    }
  }
  if (!bytes) {
    what = indexUrl;
    try {
      bytes = await download(what);
    } catch (e) {
      log.warn(`${repo.url}: no cached index and the download failed (${reasonOf(e)}); its packages cannot be located`);
      return undefined;
    }
  }
  if (repo.kind) {
    if (keys) {
      await requireApk3(`${what} is an apk v3 index`, 'check (pass --allow-unsigned to skip the check)', APK_HINT);
      await apkVerifyAdb(bytes, what, keys, join(root, 'etc/apk/keys'));
    }
    try {
      const adb = readAdbIndex(bytes);
      const records = adb.records.filter((r) => keep(r.name)).map((r) => ({ ...r, identity: identityOfHash(r.hash) }));
      return { records, description: adb.description, pkgnameSpec: adb.pkgnameSpec };
    } catch (e) {
      throw new PingetError('BAD_INPUT', `${what}: not an apk Packages.adb index: ${reasonOf(e)}`, { cause: e });
    }
  }
  try {
    return await parseApkIndex(bytes, what, keys, keep);
  } catch (e) {
    const msg = reasonOf(e);
    const code = msg.includes('signature') ? 'INTEGRITY' : 'BAD_INPUT';
    const hint = code === 'INTEGRITY' ? ` (keys: ${join(root, 'etc/apk/keys')}; --allow-unsigned skips this check)` : '';
    throw new PingetError(code, msg + hint, { cause: e });
  }
}

/** Finds the .apk whose control member has the installed identity: apk cache first, then the repository. */
async function packageBytes(root: string, loc: Located, arch: string, download: Downloader, log: Logger): Promise<Buffer> {
  const { record, repo } = loc;
  const id = record.identity!;
  const names = [cachePackageName(record.name, record.version, id), `${record.name}-${record.version}.apk`];
  for (const dir of CACHE_DIRS) {
    for (const name of names) {
      const file = join(root, dir, name);
      const bytes = await readOptional(file);
      if (!bytes) continue;
      const got = await fileIdentity(bytes).catch((e: unknown) => `unreadable (${reasonOf(e)})`);
      if (got === id) return bytes;
      log.warn(`${file}: control identity ${got} is not the installed ${record.name}-${record.version} (${id}); ignoring this cached file`);
    }
  }
  const url = loc.at?.url ?? `${repo.url}/${arch}/${record.name}-${record.version}.apk`;
  const bytes = await download(url);
  let got: string;
  try {
    got = await fileIdentity(bytes);
  } catch (e) {
    throw new PingetError('INTEGRITY', `${url}: not an apk package: ${reasonOf(e)}`, { cause: e });
  }
  if (got !== id) {
    throw new PingetError(
      'INTEGRITY',
      `${url}: control identity ${got} does not match the installed database's C:${id} for ${record.name}-${record.version}; this file is not the installed package`,
    );
  }
  return bytes;
}

export async function generateAlpine(
  root: string,
  info: DistroInfo,
  opts: GenerateOptions,
  io: { download?: Downloader; env?: NodeJS.ProcessEnv } = {},
): Promise<GenerateResult> {
  const download = io.download ?? defaultDownload;
  const log = opts.log;
  let records = await readInstalled(root);
  // which generation of cache names this root's apk writes
  const apkTools = records.find((r) => r.name === 'apk-tools')?.version;
  if (opts.only && opts.only.length > 0) {
    const names = new Set(records.map((r) => r.name));
    const unknown = opts.only.filter((n) => !names.has(n));
    if (unknown.length > 0) throw new PingetError('BAD_INPUT', `not installed in ${installedDbFile(root)}: ${unknown.join(', ')}`);
    const only = new Set(opts.only);
    records = records.filter((r) => only.has(r.name));
  }
  const noIdentity = records.filter((r) => !r.identity);
  if (noIdentity.length > 0) {
    throw new PingetError('BAD_INPUT', `${installedDbFile(root)}:${noIdentity[0].line}: ${noIdentity[0].name} has no C: identity line`);
  }
  const arch = await readApkArch(root, records, info.arch);
  if (!arch) throw new PingetError('BAD_INPUT', `${join(root, 'etc/apk/arch')}: cannot tell the architecture; is ${root} an Alpine root?`);
  const repos = await readRepositories(root, { v3: true });
  const keys = opts.allowUnsigned ? undefined : await loadApkKeys(root);

  // Of each index, only the records of installed names are kept.
  const installedNames = new Set(records.map((r) => r.name));
  const keep = (name: string) => installedNames.has(name);
  const indexes: ((ApkIndex & { pkgnameSpec?: string }) | undefined)[] = [];
  for (const repo of repos) indexes.push(await loadIndex(root, repo, arch, keys, download, log, apkTools, keep));
  const where = new Map<string, Omit<Located, 'record'>>();
  repos.forEach((repo, i) => {
    for (const r of indexes[i]?.records ?? []) {
      const k = `${r.name}\0${r.version}\0${r.identity}`;
      if (!where.has(k)) where.set(k, { repo, at: repo.kind ? v3Location(repo, indexUrlOf(repo, arch), indexes[i]?.pkgnameSpec, r) : undefined });
    }
  });

  const located: Located[] = [];
  const nowhere: ApkRecord[] = [];
  for (const record of records) {
    const loc = where.get(`${record.name}\0${record.version}\0${record.identity}`);
    if (loc) located.push({ record, ...loc });
    else nowhere.push(record);
  }
  // The provider modules load only here: lock reads this file's parsers, never this path.
  const { resolveAlpineMissing } = await import('./provider-evidence.js');
  const fromProviders = await resolveAlpineMissing(nowhere, repos, arch, opts);

  const limit = pLimit(4);
  const identities = new Map<string, string>();
  const entries: LockEntry[] = await Promise.all(
    located.map((loc) =>
      limit(async () => {
        const bytes = await packageBytes(root, loc, arch, download, log);
        const path = loc.at?.path ?? apkPath(loc.repo.branch, loc.repo.repo, arch, loc.record.name, loc.record.version);
        identities.set(path, loc.record.identity!);
        return { sha256: sha256Hex(bytes), path };
      }),
    ),
  );

  for (const p of fromProviders) {
    entries.push(p.entry);
    identities.set(p.entry.path, p.identity);
  }

  const headers: Record<string, string> = {
    // the os-release ID (alpine, wolfi, ...): install checks it against the target root's
    distro: [info.osId || 'alpine', info.versionId, arch].filter(Boolean).join(' '),
  };
  const snapshot = snapshotOf(io.env ?? process.env, indexes.map((i) => i?.date));
  if (snapshot) headers.snapshot = snapshot;
  if (identities.size > 0) headers[IDENTITY_HEADER] = formatIdentityHeader(identities);
  Object.assign(headers, await worldHeader(root, located.map((l) => l.record.name)));
  return { entries, headers };
}

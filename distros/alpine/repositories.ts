/**
 * /etc/apk/repositories: one repository per line, `#` comments, an optional `@tag ` prefix. A
 * repository is `<base>/<branch>/<repo>` (e.g. `<mirror>/alpine/v3.20/main`); packages live at
 * `<repository>/<arch>/<name>-<version>.apk`, so a lockfile path `<branch>/<repo>/<arch>/<file>` is
 * relative to `<base>`. Pure.
 */
import { createHash } from 'node:crypto';

export interface ApkRepository {
  /** The line as apk uses it (without tag), no trailing slash. */
  url: string;
  /** The URL exactly as written (a trailing slash kept): what apk-tools < 2.14.1 hashed for the cache name. */
  written: string;
  tag?: string;
  /** `<base>`: the repository URL without its last two path components. */
  base: string;
  branch: string;
  repo: string;
  /** 1-based line in the file. */
  line: number;
  /**
   * apk-tools 3's Packages.adb repositories: `v3 URL` (index at `URL/<arch>/Packages.adb`, packages under URL)
   * and `ndx URL` or a URL ending in .adb (the index itself; packages beside it). Absent: an APKINDEX.tar.gz one.
   */
  kind?: 'v3' | 'ndx';
}

/** With `v3`, Packages.adb lines are read (lock, on apk 3); without, they are refused as not readable. */
export function parseRepositories(text: string, file: string, opts: { v3?: boolean } = {}): ApkRepository[] {
  const out: ApkRepository[] = [];
  text.split('\n').forEach((raw, i) => {
    let line = raw.trim();
    if (!line || line.startsWith('#')) return;
    let tag: string | undefined;
    const tagged = /^@(\S+)\s+(\S+)$/.exec(line);
    if (tagged) {
      tag = tagged[1];
      line = tagged[2];
    }
    // apk-tools 3 lines may start with a repository type: `v2 URL` is the classic kind; `v3` and `ndx`
    // (and URLs ending in .adb) name Packages.adb indexes, a format pinget does not read.
    const typed = /^(v2|v3|ndx)\s+(?:@(\S+)\s+)?(\S+)$/.exec(line);
    if (typed) {
      line = typed[3];
      tag = typed[2] ?? tag;
    }
    const kind = typed?.[1] === 'v3' ? 'v3' : typed?.[1] === 'ndx' || (!typed && line.endsWith('.adb')) ? 'ndx' : undefined;
    if (kind && opts.v3) {
      // apk 3's url_base: the v3 URL, or the directory of the ndx index (repoparser.c, add_repository_component)
      const url = line.replace(/\/+$/, '');
      const parts = (kind === 'ndx' ? url.slice(0, url.lastIndexOf('/')) : url).split('/');
      if (parts.length < 3 || !parts[parts.length - 1] || !parts[parts.length - 2]) throw new Error(`${file}:${i + 1}: ${url} does not end in <branch>/<repo>`);
      out.push({ url, written: line, tag, base: parts.slice(0, -2).join('/'), branch: parts[parts.length - 2], repo: parts[parts.length - 1], line: i + 1, kind });
      return;
    }
    if (kind) {
      throw new Error(`${file}:${i + 1}: "${raw.trim()}" is an apk v3 repository (Packages.adb index), which only pinget lock (with apk-tools 3) reads; pin a root whose repositories serve APKINDEX.tar.gz`);
    }
    if (/\s/.test(line)) throw new Error(`${file}:${i + 1}: expected one repository URL per line`);
    const written = line;
    const url = line.replace(/\/+$/, '');
    const parts = url.split('/');
    if (parts.length < 3 || !parts[parts.length - 1] || !parts[parts.length - 2]) {
      throw new Error(`${file}:${i + 1}: ${url} does not end in <branch>/<repo>`);
    }
    out.push({ url, written, tag, base: parts.slice(0, -2).join('/'), branch: parts[parts.length - 2], repo: parts[parts.length - 1], line: i + 1 });
  });
  return out;
}

/** A local repository (a path, or file://) rather than a remote one. */
export function isLocalRepository(url: string): boolean {
  return url.startsWith('/') || /^file:\/\//i.test(url);
}

/** The apk-tools generations that name cached indexes differently. */
export type CacheNaming = 'sha1-index-url' | 'sha256-index-url' | 'sha1-repository';

/** apk-tools 3's cache name of any index, by its URL (database.c apk_repo_index_cache_url: `APKINDEX.${hash:8}.tar.gz`). */
export function apk3IndexCacheName(indexUrl: string): string {
  return `APKINDEX.${createHash('sha256').update(indexUrl).digest('hex').slice(0, 8)}.tar.gz`;
}

/**
 * The name apk gives a repository's cached index, `APKINDEX.<8 hex>.tar.gz`: the first 4 bytes
 * (APK_CACHE_CSUM_BYTES) of a digest, lowercase hex, of (apk-tools src/database.c):
 *  - `sha1-index-url`: SHA-1 of the index URL, `<repository as written>` + `/` unless it ends in one +
 *    `<arch>/APKINDEX.tar.gz` (apk_repo_format_real_url) — apk-tools 2.14.1 and later 2.x, and 2.12.12+
 *    (commit "db: calculate cache index hash from full url", cherry-picked to both branches);
 *  - `sha256-index-url`: SHA-256 of `<repository without trailing slashes>/<arch>/APKINDEX.tar.gz` —
 *    apk-tools 3 (add_repository_component, apk_repo_index_cache_url `APKINDEX.${hash:8}.tar.gz`);
 *  - `sha1-repository`: SHA-1 of the repository line as written (tag removed) — apk-tools before those.
 */
export function cacheIndexName(repo: Pick<ApkRepository, 'written' | 'url'>, arch: string, naming: CacheNaming): string {
  if (naming === 'sha256-index-url') return apk3IndexCacheName(`${repo.url}/${arch}/APKINDEX.tar.gz`);
  let hex: string;
  if (naming === 'sha1-index-url') {
    const sep = repo.written.endsWith('/') ? '' : '/';
    hex = createHash('sha1').update(`${repo.written}${sep}${arch}/APKINDEX.tar.gz`).digest('hex');
  } else hex = createHash('sha1').update(repo.written).digest('hex');
  return `APKINDEX.${hex.slice(0, 8)}.tar.gz`;
}

/** Which naming an apk-tools version uses (`2.14.4-r1`, `3.0.1-r0`); undefined when it cannot tell. */
export function cacheNamingOf(apkToolsVersion: string | undefined): CacheNaming | undefined {
  const m = apkToolsVersion ? /^(\d+)\.(\d+)\.(\d+)/.exec(apkToolsVersion) : null;
  if (!m) return undefined;
  const [major, minor, patch] = m.slice(1).map(Number);
  if (major >= 3) return 'sha256-index-url';
  if (major < 2) return 'sha1-repository';
  const newer = minor > 14 || (minor === 14 && patch >= 1) || (minor === 12 && patch >= 12);
  return newer ? 'sha1-index-url' : 'sha1-repository';
}

/**
 * The cache names to try for a repository, the installed apk-tools' own first, then the current 2.x one,
 * apk-tools 3's and the old one (a cache may still hold a file named by an earlier apk).
 */
export function cacheIndexNames(repo: Pick<ApkRepository, 'written' | 'url'>, arch: string, apkToolsVersion?: string): string[] {
  const order: CacheNaming[] = ['sha1-index-url', 'sha256-index-url', 'sha1-repository'];
  const own = cacheNamingOf(apkToolsVersion);
  const names = (own ? [own, ...order.filter((n) => n !== own)] : order).map((n) => cacheIndexName(repo, arch, n));
  return [...new Set(names)];
}

/**
 * The 8 hex digits apk puts in a cached package's name: the first 4 bytes of its identity
 * (`<name>-<ver>.<x>.apk`; apk-tools 2 database.c apk_pkg_format_cache_pkg, APK_CACHE_CSUM_BYTES).
 */
export function cachePackageName(name: string, version: string, identity: string): string {
  const raw = Buffer.from(identity.slice(2), 'base64');
  return `${name}-${version}.${raw.subarray(0, 4).toString('hex')}.apk`;
}

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
  tag?: string;
  /** `<base>`: the repository URL without its last two path components. */
  base: string;
  branch: string;
  repo: string;
  /** 1-based line in the file. */
  line: number;
}

export function parseRepositories(text: string, file: string): ApkRepository[] {
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
    if (/\s/.test(line)) throw new Error(`${file}:${i + 1}: expected one repository URL per line`);
    const url = line.replace(/\/+$/, '');
    const parts = url.split('/');
    if (parts.length < 3 || !parts[parts.length - 1] || !parts[parts.length - 2]) {
      throw new Error(`${file}:${i + 1}: ${url} does not end in <branch>/<repo>`);
    }
    out.push({ url, tag, base: parts.slice(0, -2).join('/'), branch: parts[parts.length - 2], repo: parts[parts.length - 1], line: i + 1 });
  });
  return out;
}

/** A local repository (a path, or file://) rather than a remote one. */
export function isLocalRepository(url: string): boolean {
  return url.startsWith('/') || /^file:\/\//i.test(url);
}

/**
 * The 8 hex digits apk puts in cache file names: the first 4 bytes of SHA-1 of the repository URL
 * (index: `APKINDEX.<x>.tar.gz`) or of the package's identity (package: `<name>-<ver>.<x>.apk`).
 * (apk-tools 2 database.c apk_repo_format_cache_index / apk_pkg_format_cache_pkg, APK_CACHE_CSUM_BYTES.)
 */
export function cacheIndexName(repoUrl: string): string {
  return `APKINDEX.${createHash('sha1').update(repoUrl).digest('hex').slice(0, 8)}.tar.gz`;
}

export function cachePackageName(name: string, version: string, identity: string): string {
  const raw = Buffer.from(identity.slice(2), 'base64');
  return `${name}-${version}.${raw.subarray(0, 4).toString('hex')}.apk`;
}

/** Lockfile paths of apk packages: `<branch>/<repo>/<arch>/<name>-<version>.apk`. Pure. */
import type { PackageRef } from '../../src/distro/types.js';

// apk versions: digits and dots, optional letter, suffixes (_alpha1, _git2024...), then -r<N>.
const PATH = /^([^/]+)\/([^/]+)\/([^/]+)\/(.+)-(\d[^-/]*-r\d+)\.apk$/;

export function apkPath(branch: string, repo: string, arch: string, name: string, version: string): string {
  return `${branch}/${repo}/${arch}/${name}-${version}.apk`;
}

export function inspectApkPath(path: string): (PackageRef & { branch: string; repo: string }) | undefined {
  const m = PATH.exec(path);
  if (!m) return undefined;
  return { branch: m[1], repo: m[2], arch: m[3], name: m[4], version: m[5] };
}

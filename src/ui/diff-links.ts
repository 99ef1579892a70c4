/**
 * Where a reviewer reads what changed in a package: the distro's public package tracker or changelog page
 * for its source package, and the security tracker for a security update. Only the documented public URL
 * patterns of each distro; pinget never fetches them.
 */
import type { PackageChange } from '../diff.js';

export interface PackageLink {
  label: string;
  url: string;
}

const enc = encodeURIComponent;

/** Alpine's v3.20/main/x86_64/<file> and Arch's core/os/x86_64/<file>: branch or repository, then architecture. */
const ALPINE = /^((?:v\d+\.\d+)|edge)\/([^/]+)\/([^/]+)\/[^/]+\.apk$/;
const ARCH = /^([^/]+)\/os\/([^/]+)\/[^/]+\.pkg\.tar\.[a-z0-9]+$/;

export function packageLinks(distro: string | undefined, c: PackageChange): PackageLink[] {
  const path = c.newPath ?? c.oldPath ?? '';
  const src = c.source;
  switch (distro) {
    case 'debian':
      if (!src) return [];
      return [
        { label: 'tracker', url: `https://tracker.debian.org/pkg/${enc(src)}` },
        ...(c.security ? [{ label: 'security', url: `https://security-tracker.debian.org/tracker/source-package/${enc(src)}` }] : []),
      ];
    case 'ubuntu':
      return src ? [{ label: 'changelog', url: `https://launchpad.net/ubuntu/+source/${enc(src)}/+changelog` }] : [];
    case 'fedora':
      return src ? [{ label: 'package', url: `https://src.fedoraproject.org/rpms/${enc(src)}` }, { label: 'updates', url: `https://bodhi.fedoraproject.org/updates/?packages=${enc(src)}` }] : [];
    case 'alpine': {
      const m = ALPINE.exec(path);
      return m ? [{ label: 'package', url: `https://pkgs.alpinelinux.org/package/${m[1]}/${enc(m[2])}/${enc(m[3])}/${enc(c.name)}` }] : [];
    }
    case 'arch': {
      const m = ARCH.exec(path);
      return m ? [{ label: 'package', url: `https://archlinux.org/packages/${enc(m[1])}/${enc(m[2])}/${enc(c.name)}/` }] : [];
    }
    default:
      return [];
  }
}

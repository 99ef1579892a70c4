/**
 * What dpkg's database adds to an SBOM of a Debian root: the epoch (pool file names drop it) and the source
 * package with its version (`Source: name (version)`, else the package's own, as dpkg-query's
 * ${source:Package} ${source:Version} say). A package counts only when installed at the pinned version.
 */
import type { PackageFacts } from '../../src/distro/sbom-types.js';
import type { PackageRef } from '../../src/distro/types.js';
import { readStatus } from './dpkg-status.js';
import { stripEpoch } from './pool-path.js';

const key = (name: string, arch: string, version: string) => `${name}\0${arch}\0${stripEpoch(version)}`;

export async function debianInstalledFacts(root: string, pinned: PackageRef[]): Promise<(PackageFacts | undefined)[]> {
  const installed = new Map((await readStatus(root)).map((p) => [key(p.name, p.arch, p.version), p]));
  return pinned.map((ref) => {
    const p = installed.get(key(ref.name, ref.arch, ref.version));
    // A pinned version that carries an epoch must be the installed one, epoch and all.
    if (!p || (ref.version.includes(':') && ref.version !== p.version)) return undefined;
    const colon = p.version.indexOf(':');
    return { epoch: colon > 0 ? p.version.slice(0, colon) : undefined, source: { name: p.source, version: p.sourceVersion } };
  });
}

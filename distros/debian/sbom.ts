/**
 * Debian and Ubuntu packages in an SBOM: purl type `deb` (purl-spec types/deb-definition.json), namespace the
 * os-release ID (`debian`, `ubuntu`), the epoch inside the version, `arch=source` for a source package, and
 * `distro=<ID>-<VERSION_ID>` as syft writes it. A pool path's directory is the source package's name
 * (`pool/main/g/glibc/libc6_...deb`); its version is not in the path (binNMUs differ), so it is left out. Pure.
 */
import type { PackageRef } from '../../src/distro/types.js';
import type { PackageFacts, PurlParts, SbomHooks, SbomSystem, SourcePackage } from '../../src/distro/sbom-types.js';
import { inspectDebSourcePath } from './pool-path.js';

function qualifiers(system: SbomSystem, arch: string): Record<string, string> {
  return system.versionId ? { arch, distro: `${system.osId}-${system.versionId}` } : { arch };
}

const fullVersion = (ref: PackageRef, epoch?: string) => (epoch && !ref.version.includes(':') ? `${epoch}:${ref.version}` : ref.version);

// pool/<component>/<prefix>/<source>/<file>
const POOL = /^pool\/[^/]+\/[^/]+\/([a-z0-9][a-z0-9+.-]+)\/([^/]+)$/;

export const debianSbom: SbomHooks = {
  purl: (ref, system, epoch): PurlParts => ({
    type: 'deb',
    namespace: system.osId,
    name: ref.name,
    version: fullVersion(ref, epoch),
    qualifiers: qualifiers(system, ref.arch),
  }),
  sourcePurl: (source, system): PurlParts => ({ type: 'deb', namespace: system.osId, name: source.name, version: source.version, qualifiers: qualifiers(system, 'source') }),
  fullVersion,
  pathFacts(path): PackageFacts {
    const m = POOL.exec(path);
    return m ? { source: { name: m[1] } } : {};
  },
  sourceFile: (path): SourcePackage | undefined => inspectDebSourcePath(path),
};

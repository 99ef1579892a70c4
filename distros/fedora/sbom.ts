/**
 * rpm packages in an SBOM: purl type `rpm` (purl-spec types/rpm-definition.json), namespace the vendor (the
 * os-release ID; RHEL's `rhel` is `redhat`, as Red Hat's own SBOMs and VEX files write it), version
 * `version-release`, the epoch as a qualifier, `distro=<ID>-<VERSION_ID>`. A Koji path names its source rpm
 * exactly: `<srpm name>/<version>/<release>/<arch>/<file>`. Pure.
 */
import type { PurlParts, SbomHooks, SbomSystem } from '../../src/distro/sbom-types.js';

const VENDOR: Record<string, string> = { rhel: 'redhat' };

function qualifiers(system: SbomSystem, arch: string, epoch?: string): Record<string, string> {
  const q: Record<string, string> = { arch };
  if (epoch) q.epoch = epoch;
  if (system.versionId) q.distro = `${system.osId}-${system.versionId}`;
  return q;
}

const vendor = (system: SbomSystem) => VENDOR[system.osId] ?? system.osId;

export const fedoraSbom: SbomHooks = {
  purl: (ref, system, epoch): PurlParts => ({ type: 'rpm', namespace: vendor(system), name: ref.name, version: ref.version, qualifiers: qualifiers(system, ref.arch, epoch) }),
  sourcePurl: (source, system): PurlParts => ({ type: 'rpm', namespace: vendor(system), name: source.name, version: source.version, qualifiers: qualifiers(system, 'src') }),
  fullVersion: (ref, epoch) => (epoch ? `${epoch}:${ref.version}` : ref.version),
  pathFacts(path) {
    const parts = path.split('/');
    if (parts.length !== 5 || parts[3] === 'src') return {};
    return { source: { name: parts[0], version: `${parts[1]}-${parts[2]}` } };
  },
  sourceFile(path) {
    const parts = path.split('/');
    if (parts.length !== 5 || parts[3] !== 'src' || !parts[4].endsWith('.src.rpm')) return undefined;
    return { name: parts[0], version: `${parts[1]}-${parts[2]}` };
  },
};

/**
 * apk packages in an SBOM: purl type `apk` (purl-spec types/apk-definition.json), namespace the vendor
 * (`alpine`, `wolfi`: the lockfile's distro ID), `distro=<ID>-<VERSION_ID>` as syft writes it. A path does not
 * name the origin (source) package; the root's database does (`o:`). Pure.
 */
import type { PurlParts, SbomHooks, SbomSystem } from '../../src/distro/sbom-types.js';

function qualifiers(system: SbomSystem, arch?: string): Record<string, string> {
  const q: Record<string, string> = arch ? { arch } : {};
  if (system.versionId) q.distro = `${system.osId}-${system.versionId}`;
  return q;
}

export const alpineSbom: SbomHooks = {
  purl: (ref, system): PurlParts => ({ type: 'apk', namespace: system.osId, name: ref.name.toLowerCase(), version: ref.version, qualifiers: qualifiers(system, ref.arch) }),
  // aports builds an origin into packages of every architecture; there is no source architecture.
  sourcePurl: (source, system): PurlParts => ({ type: 'apk', namespace: system.osId, name: source.name.toLowerCase(), version: source.version, qualifiers: qualifiers(system) }),
  fullVersion: (ref) => ref.version,
  pathFacts: () => ({}),
};

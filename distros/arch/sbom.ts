/**
 * pacman packages in an SBOM: purl type `alpm` (purl-spec types/alpm-definition.json), namespace `arch`, the
 * epoch inside the version as vercmp(8) writes it (package file names keep it). Arch is rolling: no distro
 * qualifier. The pkgbase (source) is in the root's database (`%BASE%`), not in the path. Pure.
 */
import type { PurlParts, SbomHooks, SbomSystem } from '../../src/distro/sbom-types.js';

const vendor = (system: SbomSystem) => (system.osId === 'archlinux' ? 'arch' : system.osId);

export const archSbom: SbomHooks = {
  purl: (ref, system): PurlParts => ({ type: 'alpm', namespace: vendor(system), name: ref.name.toLowerCase(), version: ref.version, qualifiers: { arch: ref.arch } }),
  sourcePurl: (source, system): PurlParts => ({ type: 'alpm', namespace: vendor(system), name: source.name.toLowerCase(), version: source.version }),
  fullVersion: (ref) => ref.version,
  pathFacts: () => ({}),
};

/**
 * What pacman's local database adds to an SBOM of an Arch root: the pkgbase (`%BASE%`, the PKGBUILD a
 * package was built from, which shares its version) and the licences (`%LICENSE%`, one per line: all of
 * them apply), for packages installed at the pinned version.
 */
import type { PackageFacts } from '../../src/distro/sbom-types.js';
import type { PackageRef } from '../../src/distro/types.js';
import { loadPacmanRoot, readLocalDb } from './pacman-root.js';

export async function archInstalledFacts(root: string, pinned: PackageRef[]): Promise<(PackageFacts | undefined)[]> {
  const byKey = new Map((await readLocalDb(loadPacmanRoot(root), { missingOk: true })).map((p) => [`${p.name}\0${p.arch}\0${p.version}`, p]));
  return pinned.map((ref) => {
    const p = byKey.get(`${ref.name}\0${ref.arch}\0${ref.version}`);
    if (!p) return undefined;
    const licences = (p.licences ?? []).map((l) => l.trim()).filter(Boolean);
    const licence = licences.length > 1 ? licences.map((l) => (/\s/.test(l) ? `(${l})` : l)).join(' AND ') : licences[0];
    return { source: p.base ? { name: p.base, version: p.version } : undefined, licence };
  });
}

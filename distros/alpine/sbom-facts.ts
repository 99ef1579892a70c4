/**
 * What /lib/apk/db/installed adds to an SBOM of an Alpine root: the origin (the APKBUILD a package was
 * built from: `o:`, which shares its version) and the licence (`L:`), for packages installed at the pinned version.
 */
import type { PackageFacts } from '../../src/distro/sbom-types.js';
import type { DistroInfo, PackageRef } from '../../src/distro/types.js';
import { readApkArch, readInstalled } from './generate.js';

export async function apkInstalledFacts(root: string, info: DistroInfo, pinned: PackageRef[]): Promise<(PackageFacts | undefined)[]> {
  const records = await readInstalled(root);
  const arch = (await readApkArch(root, records, info.arch)) ?? 'unknown';
  // noarch packages live in the architecture's directory, so their lockfile path says the system's arch.
  const byKey = new Map(records.map((r) => [`${r.name}\0${!r.arch || r.arch === 'noarch' ? arch : r.arch}\0${r.version}`, r]));
  return pinned.map((ref) => {
    const r = byKey.get(`${ref.name}\0${ref.arch}\0${ref.version}`);
    if (!r) return undefined;
    return { source: r.origin ? { name: r.origin, version: r.version } : undefined, licence: r.licence };
  });
}

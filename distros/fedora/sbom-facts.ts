/**
 * What the rpm database adds to an SBOM of an rpm root: the epoch (Koji paths and file names drop it) and the
 * `License` tag, read with rpm itself. The source rpm is already exact in the Koji path.
 */
import type { PackageFacts } from '../../src/distro/sbom-types.js';
import type { PackageRef } from '../../src/distro/types.js';
import { findRpmDb, queryRpmDb } from './rpmdb.js';

const FORMAT = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{LICENSE}\\n';

export async function rpmInstalledFacts(root: string, pinned: PackageRef[]): Promise<(PackageFacts | undefined)[]> {
  const db = await findRpmDb(root);
  if (!db) return pinned.map(() => undefined);
  // read as every rpmdb read is: from a copy (no -shm/-wal left in the root), rpm's errors and the header count checked
  const text = await queryRpmDb(root, FORMAT);
  const byKey = new Map<string, PackageFacts>();
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length !== 5 || f[0] === 'gpg-pubkey') continue;
    byKey.set(`${f[0]}\0${f[3]}\0${f[2]}`, { epoch: f[1] === '0' ? undefined : f[1], licence: f[4] === '(none)' ? undefined : f[4] });
  }
  return pinned.map((ref) => byKey.get(`${ref.name}\0${ref.arch}\0${ref.version}`));
}

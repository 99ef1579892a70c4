/** `hash inspect` of a local .rpm: Koji's <srcname>/<version>/<release>/<arch>/<file>.rpm from the rpm header. */
import type { InspectedFile } from '../../src/distro/types.js';
import { run } from '../../src/exec.js';
import { evrString, kojiPath } from './nevra.js';

export async function inspectRpmFile(file: string): Promise<InspectedFile | undefined> {
  const res = await run('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', '%{NAME}\\n%{EPOCH}\\n%{VERSION}\\n%{RELEASE}\\n%{ARCH}\\n%{SOURCERPM}\\n', file]).catch(() => undefined);
  const f = res?.code === 0 ? res.stdout.split('\n') : undefined;
  if (!f || !f[0]) return undefined;
  const [name, epoch, version, release, arch, sourceRpm] = f;
  const nevra = { name, epoch: epoch === '(none)' ? '' : epoch, version, release, arch };
  const path = kojiPath(nevra, sourceRpm);
  // the version as rpm shows it, epoch included (the Koji path has none)
  return path ? { path, name, version: evrString(nevra), arch } : undefined;
}

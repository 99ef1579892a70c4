/** `hash inspect` of a local .deb: its pool path (pool/<component>/<prefix>/<source>/<file>) from the control file. */
import type { InspectedFile } from '../../src/distro/types.js';
import { run } from '../../src/exec.js';
import { guessPoolPath } from './pool-path.js';

export async function inspectDebFile(file: string): Promise<InspectedFile | undefined> {
  const res = await run('dpkg-deb', ['--showformat=${Package}\\n${Version}\\n${Architecture}\\n${Source}\\n${Section}\\n', '--show', file]).catch(() => undefined);
  const f = res?.code === 0 ? res.stdout.split('\n') : undefined;
  if (!f || !f[0]) return undefined;
  const [name, version, arch, sourceField, section] = f;
  const source = sourceField.split(/\s+/)[0] || name;
  const component = section?.includes('/') ? section.split('/')[0] : 'main';
  return { path: guessPoolPath({ name, version, arch, source, component }), name, version, arch };
}

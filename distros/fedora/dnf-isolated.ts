/**
 * dnf's options that keep the host out of a run on another root: an empty configuration file of our own (not
 * the host's /etc/dnf/dnf.conf), repositories only from `reposDir`, no plugins and no plugin configuration. A
 * host with dnf-plugins-core would otherwise add its `_dnf_local` repository to every --installroot run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes `scratch`/dnf.conf (and `reposDir` when it does not exist yet) and returns the options that use them. */
export async function isolatedDnfOptions(scratch: string, reposDir: string): Promise<string[]> {
  const config = join(scratch, 'dnf.conf');
  const pluginConf = join(scratch, 'plugins.d');
  await mkdir(reposDir, { recursive: true });
  await mkdir(pluginConf, { recursive: true });
  await writeFile(config, `[main]\nplugins=0\nreposdir=${reposDir}\npluginconfpath=${pluginConf}\n`);
  return [
    `--config=${config}`,
    `--setopt=reposdir=${reposDir}`,
    `--setopt=pluginconfpath=${pluginConf}`,
    '--noplugins',
  ];
}

/** Reads the root's repository definitions (/etc/yum.repos.d/*.repo, /etc/distro.repos.d/*.repo for dnf5). */
import { readdir, readFile } from 'node:fs/promises';
import { parseRepoFile, type RepoConfig } from './repo-files.js';
import { resolveInRoot } from '../../src/root-path.js';

const REPO_DIRS = ['etc/yum.repos.d', 'etc/distro.repos.d'];

export async function readRepoConfigs(root: string, vars: Record<string, string>): Promise<RepoConfig[]> {
  const out: RepoConfig[] = [];
  for (const dir of REPO_DIRS) {
    const names = await readdir(resolveInRoot(root, dir)).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.repo')).sort()) {
      const text = await readFile(resolveInRoot(root, `${dir}/${name}`), 'utf8').catch(() => undefined);
      if (text !== undefined) out.push(...parseRepoFile(text, `/${dir}/${name}`, vars));
    }
  }
  return out;
}

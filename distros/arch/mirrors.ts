/**
 * The default providers from a root's pacman configuration: each repository's Server lines with `$repo`
 * and `$arch` expanded (Include'd mirrorlists included). A server of the usual `<base>/$repo/os/$arch`
 * shape serves every lockfile path `<repo>/os/<arch>/<file>` as `<base>/{{.Name}}`; any other shape
 * (a custom repo's own directory) serves its files by name.
 */
import type { ProviderSpec } from '../../src/distro/types.js';
import { expandServer, type PacmanConf } from './pacman-conf.js';

export function mirrorProviders(conf: PacmanConf, arch: string): ProviderSpec[] {
  const out: ProviderSpec[] = [];
  const seen = new Set<string>();
  const add = (template: string, label: string) => {
    if (seen.has(template)) return;
    seen.add(template);
    out.push({ template, label });
  };
  for (const repo of conf.repos) {
    for (const server of repo.servers) {
      const std = /^(.*?)\/?\$repo\/os\/\$arch\/?$/.exec(server);
      if (std && /^https?:\/\//i.test(std[1]) && !std[1].includes('$')) add(`${std[1].replace(/\/+$/, '')}/{{.Name}}`, `pacman mirror ${std[1]}`);
      else {
        const url = expandServer(server, repo.name, arch);
        if (/^(https?|file):\/\//i.test(url)) add(`${url}/{{.Basename}}`, `pacman repository [${repo.name}] ${url}`);
      }
    }
  }
  return out;
}

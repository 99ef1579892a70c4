/** Fedora and RHEL-likes (CentOS Stream, Rocky, Alma, ... where ID_LIKE says so): rpm database + dnf's cached repodata. */
import { idLikeOf, readOsRelease } from '../os-release.js';
import type { DistroAdapter, DistroInfo, ProviderSpec } from '../types.js';
import { generateFedora, baseArchOf } from './generate.js';
import { installRpms } from './install.js';
import { inspectKojiPath, refOf } from './nevra.js';
import { repoVars } from './repo-files.js';
import { readRepoConfigs } from './repos.js';
import { queryInstalled } from './rpmdb.js';
import { RPM_MD_SCHEME, rpmMdProviderFactory } from './mirror-provider.js';

const FAMILY = ['fedora', 'rhel', 'centos'];

export const fedoraAdapter: DistroAdapter = {
  id: 'fedora',

  async detect(root: string): Promise<DistroInfo | undefined> {
    const os = await readOsRelease(root);
    if (!os) return undefined;
    const osId = (os.ID ?? '').toLowerCase();
    const idLike = idLikeOf(os);
    if (!FAMILY.includes(osId) && !idLike.some((l) => FAMILY.includes(l))) return undefined;
    return { id: 'fedora', osId, idLike, versionId: os.VERSION_ID, prettyName: os.PRETTY_NAME };
  },

  generate: generateFedora,

  inspect: inspectKojiPath,

  async installed(root: string) {
    return (await queryInstalled(root)).map(refOf);
  },

  /** One rpm-md provider per enabled repo with a baseurl; it finds each file by its sha256 in the repo's own metadata. */
  providerFactories: [rpmMdProviderFactory],

  async providers(root: string, info: DistroInfo): Promise<ProviderSpec[]> {
    const installed = await queryInstalled(root).catch(() => []);
    const basearch = info.arch ?? baseArchOf(installed);
    const configs = await readRepoConfigs(root, repoVars(info.versionId, basearch));
    return configs
      .filter((c) => c.enabled)
      .flatMap((c) => c.baseurls.map((u) => ({ template: `${RPM_MD_SCHEME}${u.replace(/\/+$/, '')}/`, label: `repo ${c.id} (${c.source})` })));
  },

  install(files, root, _info, opts) {
    return installRpms(files, root, opts);
  },
};

/** Fedora and RHEL-likes (CentOS Stream, Rocky, Alma, ... where ID_LIKE says so): rpm database + dnf's cached repodata. */
import { idLikeOf, inFamily, readOsRelease } from '../../src/distro/os-release.js';
import { FAMILY } from './family.js';
import type { DistroAdapter, DistroInfo, ProviderSpec, ProvidersOptions } from '../../src/distro/types.js';
import { generateFedora, baseArchOf } from './generate.js';
import { rpmBuildDrift, verifyRpmFiles } from './deep.js';
import { installRpms } from './install.js';
import { applyDnfMarks } from './manual-marks.js';
import { fedoraNormalization } from './normalization.js';
import { inspectKojiPath, installedRefOf, pinnedEvr } from './nevra.js';
import { isSourceRepo, repoVars } from './repo-files.js';
import { readRepoConfigs } from './repos.js';
import { queryInstalled } from './rpmdb.js';
import { RPM_MD_SCHEME, rpmMdProviderFactory } from './mirror-provider.js';
import { resolveRepoMirrors } from './mirrors.js';
import { silentLogger } from '../../src/ui/log.js';

/**
 * Each enabled repo's baseurls, then up to 3 mirrors from its metalink/mirrorlist when that answers
 * (an unreachable one is a verbose note). With `sources`, the source repos after them, enabled or not
 * (source-pins.ts pins from them whether enabled or not). `opts.log` comes from the command.
 */
export async function fedoraProviders(root: string, info: DistroInfo, _headers: Record<string, string> = {}, opts: ProvidersOptions = {}): Promise<ProviderSpec[]> {
  const installed = await queryInstalled(root).catch(() => []);
  const basearch = info.arch ?? baseArchOf(installed);
  const vars = repoVars(info.versionId, basearch);
  const all = await readRepoConfigs(root, vars);
  const configs = [...all.filter((c) => c.enabled), ...(opts.sources ? all.filter((c) => !c.enabled && isSourceRepo(c)) : [])];
  const log = opts.log ?? silentLogger;
  const mirrors = await Promise.all(configs.map((c) => (c.metalink || c.mirrorlist ? resolveRepoMirrors(c, { log, vars }) : Promise.resolve([] as string[]))));
  return configs.flatMap((c, i) => {
    const bases = [...new Set([...c.baseurls, ...mirrors[i]].map((u) => `${u.replace(/\/+$/, '')}/`))];
    return bases.map((b) => ({ template: `${RPM_MD_SCHEME}${b}`, label: `repo ${c.id} (${c.source})` }));
  });
}

export const fedoraAdapter: DistroAdapter = {
  id: 'fedora',

  async detect(root: string): Promise<DistroInfo | undefined> {
    const os = await readOsRelease(root);
    if (!os) return undefined;
    const osId = (os.ID ?? '').toLowerCase();
    const idLike = idLikeOf(os);
    if (!inFamily(os, FAMILY)) return undefined;
    return { id: 'fedora', osId, idLike, versionId: os.VERSION_ID, prettyName: os.PRETTY_NAME };
  },

  generate: generateFedora,

  resolve: async (req) => (await import('./resolve.js')).resolveFedora(req),

  async nativeArch(root: string) {
    return baseArchOf(await queryInstalled(root).catch(() => []));
  },

  inspect: inspectKojiPath,

  inspectFile: async (file) => (await import('./inspect-file.js')).inspectRpmFile(file),

  normalization: fedoraNormalization,

  pinSources: async (request) => (await import('./source-pins.js')).pinFedoraSources(request),

  installedFacts: async (root, _info, pinned) => (await import('./sbom-facts.js')).rpmInstalledFacts(root, pinned),

  async installed(root: string) {
    return (await queryInstalled(root)).map(installedRefOf);
  },

  pinnedVersion: pinnedEvr,

  /** rpm-md providers, one per mirror of each enabled repo; it finds each file by its sha256 in the repo's own metadata. */
  providerFactories: [rpmMdProviderFactory],

  providers: (root, info, headers, opts) => fedoraProviders(root, info, headers, opts),

  verifyFiles: (root, _info, pinned, opts) => verifyRpmFiles(root, pinned, opts),

  buildDrift: (root, _info, pinned, _headers, opts) => rpmBuildDrift(root, pinned, opts.log),

  install(files, root, _info, opts) {
    return installRpms(files, root, opts);
  },

  applyMarks: (root, info, packages, headers, log) => applyDnfMarks(root, packages, headers, info.versionId, log),
};

/** The Debian/Ubuntu adapter: dpkg's status database, apt's lists and sources, dpkg for installing. */
import { idLikeOf, inFamily, readOsRelease } from '../../src/distro/os-release.js';
import { FAMILY } from './family.js';
import type { DistroAdapter, DistroInfo, PackageRef, ProviderSpec } from '../../src/distro/types.js';
import { readStatus } from './dpkg-status.js';
import { nativeArch } from './native-arch.js';
import { installDebs, readControlAhead } from './install.js';
import { applyManualMarks } from './manual-marks.js';
import { inspectDebFile } from './inspect-file.js';
import { debianNormalization } from './normalization.js';
import { inspectDebPath } from './pool-path.js';
import { debMirrors, readSources } from './sources.js';

export const debianAdapter: DistroAdapter = {
  id: 'debian',

  async detect(root) {
    const os = await readOsRelease(root);
    if (!os) return undefined;
    const osId = (os.ID ?? '').toLowerCase();
    const like = idLikeOf(os).map((s) => s.toLowerCase());
    if (!inFamily(os, FAMILY)) return undefined;
    const info: DistroInfo = {
      id: 'debian',
      osId,
      idLike: like,
      versionId: os.VERSION_ID,
      codename: os.VERSION_CODENAME || os.UBUNTU_CODENAME || undefined,
      prettyName: os.PRETTY_NAME,
      arch: await nativeArch(root),
    };
    return info;
  },

  // hash generate's and verify --deep's code (signatures, lists, archives) loads only for those commands.
  generate: async (root, info, opts) => (await import('./generate.js')).generateDebian(root, info, opts),

  inspect: (path) => inspectDebPath(path),

  inspectFile: inspectDebFile,

  nativeArch,

  resolve: async (req) => (await import('./resolve.js')).resolveDebian(req),

  normalization: debianNormalization,

  async installed(root, _info: DistroInfo): Promise<PackageRef[]> {
    return (await readStatus(root)).map(({ name, version, arch }) => ({ name, version, arch }));
  },

  async providers(root): Promise<ProviderSpec[]> {
    const sources = await readSources(root);
    return debMirrors(sources).map((uri) => ({ template: `${uri}/{{.Name}}`, label: `apt mirror ${uri}` }));
  },

  verifyFiles: async (root, _info, pinned, opts) => (await import('./deep.js')).verifyDebianFiles(root, pinned, opts),

  readAhead: (file, path) => readControlAhead(file, path),

  pinSources: async (request) => (await import('./source-pins.js')).pinDebianSources(request),

  installedFacts: async (root, _info, pinned) => (await import('./sbom-facts.js')).debianInstalledFacts(root, pinned),

  install: (files, root, _info, opts) => installDebs(files, root, opts),

  // A fresh root's architecture is known only once dpkg has installed something into it.
  applyMarks: (root, info, packages, headers) => applyManualMarks(root, packages, headers, async () => info.arch ?? (await nativeArch(root))),
};

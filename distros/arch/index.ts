/** Arch Linux and its derivatives (ID_LIKE=arch): pacman's local and sync databases, pacman -U. */
import { idLikeOf, inFamily, readOsRelease } from '../../src/distro/os-release.js';
import { FAMILY } from './family.js';
import type { DistroAdapter, DistroInfo } from '../../src/distro/types.js';
import { generateArch, systemArch } from './generate.js';
import { applyArchMarks } from './manual-marks.js';
import { mirrorProviders } from './mirrors.js';
import { loadPacmanRoot, readLocalDb } from './pacman-root.js';
import { inspectArchPath } from './paths.js';

export const archAdapter: DistroAdapter = {
  id: 'arch',

  async detect(root: string): Promise<DistroInfo | undefined> {
    const os = await readOsRelease(root);
    if (!os) return undefined;
    const idLike = idLikeOf(os);
    if (!inFamily(os, FAMILY)) return undefined;
    const pr = loadPacmanRoot(root);
    return {
      id: 'arch',
      osId: os.ID ?? 'arch',
      idLike,
      versionId: os.VERSION_ID || os.BUILD_ID || undefined,
      prettyName: os.PRETTY_NAME,
      arch: pr.arch,
    };
  },

  generate: (root, info, opts) => generateArch(root, info, opts),

  resolve: async (req) => (await import('./resolve.js')).resolveArch(req),
  // lock fetches the sync databases whole each run and hashes no package (the databases name their sha256).
  lockHashWorkers: false,

  async nativeArch(root: string) {
    const pr = loadPacmanRoot(root);
    return systemArch(pr, await readLocalDb(pr, { missingOk: true }));
  },

  inspect: inspectArchPath,

  normalization: { volatile: ['var/log/pacman.log', 'var/cache/pacman/pkg/*', 'var/lib/pacman/db.lck'] },

  installedFacts: async (root, _info, pinned) => (await import('./sbom-facts.js')).archInstalledFacts(root, pinned),

  async installed(root: string) {
    const pkgs = await readLocalDb(loadPacmanRoot(root), { missingOk: true });
    return pkgs.map((p) => ({ name: p.name, version: p.version, arch: p.arch }));
  },

  async providers(root: string, info: DistroInfo) {
    const pr = loadPacmanRoot(root);
    const installed = await readLocalDb(pr).catch(() => []);
    return mirrorProviders(pr.conf, systemArch(pr, installed, info));
  },

  // deep.js and install.js load when used: lock and hash generate need neither.
  verifyFiles: async (root, _info, pinned, opts) => (await import('./deep.js')).verifyArchFiles(root, pinned, opts),

  buildDrift: async (root, _info, pinned, _headers, opts) => (await import('./deep.js')).archBuildDrift(root, pinned, opts.log),

  install: async (...args) => (await import('./install.js')).installArch(...args),

  applyMarks: (root, _info, packages, headers) => applyArchMarks(root, packages, headers),
};

/** The Alpine adapter: /lib/apk/db/installed + APKINDEX; apk add to install. */
import { resolve } from 'node:path';
import { readHead } from '../../src/fs-safe.js';
import type { DistroAdapter, DistroInfo, PackageRef, ProviderSpec } from '../../src/distro/types.js';
import { idLikeOf, inFamily, readOsRelease } from '../../src/distro/os-release.js';
import { FAMILY } from './family.js';
import { CACHE_DIRS, generateAlpine, readApkArch, readInstalled, readRepositories } from './generate.js';
import { applyWorldMarks } from './manual-marks.js';
import { inspectApkPath } from './paths.js';
import { isLocalRepository } from './repositories.js';
import { acceptResigned } from './resign.js';
import { isAdb } from './adb-package.js';
import { IDENTITY_HEADER, identityFor, parseIdentityHeader } from './identity-header.js';


export { acceptResigned } from './resign.js';
export { IDENTITY_HEADER, identityFor, parseIdentityHeader } from './identity-header.js';

async function installedRefs(root: string, info: DistroInfo): Promise<PackageRef[]> {
  const records = await readInstalled(root);
  const arch = (await readApkArch(root, records, info.arch)) ?? 'unknown';
  // noarch packages live in the architecture's directory, so their lockfile path says the system's arch.
  return records.map((r) => ({ name: r.name, version: r.version, arch: !r.arch || r.arch === 'noarch' ? arch : r.arch }));
}

export const alpineAdapter: DistroAdapter = {
  id: 'alpine',

  async detect(root) {
    const os = await readOsRelease(root);
    if (!os) return undefined;
    const idLike = idLikeOf(os);
    if (!inFamily(os, FAMILY)) return undefined;
    return {
      id: 'alpine',
      osId: os.ID ?? 'alpine',
      idLike,
      versionId: os.VERSION_ID,
      prettyName: os.PRETTY_NAME,
      arch: await readApkArch(root),
    };
  },

  generate: (root, info, opts) => generateAlpine(root, info, opts),

  resolve: async (req) => (await import('./resolve.js')).resolveAlpine(req),
  // lock fetches the indexes whole each run and re-hashes only the chosen packages, most of them small.
  lockHashWorkers: false,

  nativeArch: async (root) => readApkArch(root, await readInstalled(root).catch(() => [])),

  // apk 3 logs every run to var/log/apk.log (apk 2 does not)
  normalization: { volatile: ['var/cache/apk/*', 'lib/apk/db/lock', 'var/log/apk.log'] },

  inspect(path) {
    const ref = inspectApkPath(path);
    return ref && { name: ref.name, version: ref.version, arch: ref.arch };
  },

  installed: installedRefs,

  installedFacts: async (root, info, pinned) => (await import('./sbom-facts.js')).apkInstalledFacts(root, info, pinned),

  async acceptMismatch(path, file, headers) {
    const identity = identityFor(parseIdentityHeader(headers[IDENTITY_HEADER]), path);
    // re-signing tolerance is for v2 packages (a v3 package's signature is outside its ADB block: not handled yet)
    if (!identity || isAdb(await readHead(file, 4))) return undefined;
    return (await acceptResigned(path, file, identity)).note;
  },

  async providers(root) {
    const specs: ProviderSpec[] = [];
    for (const repo of await readRepositories(root, { v3: true })) {
      const base = isLocalRepository(repo.url) ? `file://${repo.url.replace(/^file:\/\//i, '')}` : repo.base;
      specs.push({ template: `${base.replace(/\/+$/, '')}/{{.Name}}`, label: `repository ${repo.url}` });
    }
    // apk's own cache names files <name>-<version>.<id8>.apk; a plain <name>-<version>.apk there is found too.
    for (const dir of CACHE_DIRS) specs.push({ template: `file://${resolve(root, dir)}/{{.Basename}}`, label: `apk cache ${dir}` });
    const seen = new Set<string>();
    return specs.filter((s) => !seen.has(s.template) && seen.add(s.template));
  },

  // deep.js and install.js load when used: lock and hash generate need neither.
  verifyFiles: async (root, _info, pinned, opts) => (await import('./deep.js')).verifyAlpineFiles(root, pinned, opts),

  buildDrift: async (root, _info, pinned, headers, opts) => (await import('./deep.js')).alpineBuildDrift(root, pinned, headers, opts.log),

  async install(files, root, info, opts) {
    const { installApks } = await import('./install.js');
    return installApks(files, root, opts.installed ?? (await installedRefs(root, info)), opts);
  },

  applyMarks: (root, _info, packages, headers) => applyWorldMarks(root, packages.map((p) => p.name), headers),
};

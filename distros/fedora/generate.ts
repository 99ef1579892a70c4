/** Installed rpms joined with the cached repodata: each package's sha256 and Koji path. */
import { PingetError } from '../../src/errors.js';
import type { LockEntry } from '../../src/lockfile.js';
import type { DistroInfo, GenerateOptions, GenerateResult } from '../../src/distro/types.js';
import { findCachedRepos, loadCachedRepo, type LoadedRepo } from './dnf-cache.js';
import { resolveFedoraMissing } from './koji-evidence.js';
import { EPOCHS_HEADER, evrString, formatEpochs, kojiPath, type Nevra } from './nevra.js';
import type { PrimaryPackage } from './repodata.js';
import { repoVars } from './repo-files.js';
import { readRepoConfigs } from './repos.js';
import { dnfManualHeader } from './manual-marks.js';
import { queryInstalled, type InstalledRpm } from './rpmdb.js';

const nevraKey = (p: Nevra) => `${p.name}\0${p.epoch || '0'}\0${p.version}\0${p.release}\0${p.arch}`;

const NODE_TO_BASEARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ppc64: 'ppc64le', s390x: 's390x', ia32: 'i386' };

/** The root's base architecture: the most common arch among installed packages other than noarch. */
export function baseArchOf(installed: InstalledRpm[]): string {
  const counts = new Map<string, number>();
  for (const p of installed) if (p.arch && p.arch !== 'noarch' && p.arch !== '(none)') counts.set(p.arch, (counts.get(p.arch) ?? 0) + 1);
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  const arch = best ?? NODE_TO_BASEARCH[process.arch] ?? process.arch;
  return /^i[3-6]86$/.test(arch) ? 'i386' : arch;
}

function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** rpm systems whose package manager is tdnf (Azure Linux, CBL-Mariner). */
const TDNF_SYSTEMS = ['mariner', 'azurelinux'];

export function snapshotHeader(repos: LoadedRepo[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== '') {
    if (!/^\d+$/.test(sde)) throw new PingetError('USAGE', `SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${sde}"`);
    return isoSeconds(Number(sde));
  }
  const stamps = repos.filter((r) => r.signed && r.timestamp).map((r) => r.timestamp!);
  return stamps.length ? isoSeconds(Math.max(...stamps)) : undefined;
}

export async function generateFedora(root: string, info: DistroInfo, opts: GenerateOptions): Promise<GenerateResult> {
  let installed = await queryInstalled(root);
  const basearch = info.arch ?? baseArchOf(installed);
  if (opts.only && opts.only.length > 0) {
    const names = new Set(installed.map((p) => p.name));
    const unknown = opts.only.filter((n) => !names.has(n));
    if (unknown.length) throw new PingetError('BAD_INPUT', `not installed in ${root}: ${unknown.join(', ')}`);
    const wanted = new Set(opts.only);
    installed = installed.filter((p) => wanted.has(p.name));
  }
  const configs = await readRepoConfigs(root, repoVars(info.versionId, basearch));
  const cachedRepos = await findCachedRepos(root);
  if (cachedRepos.length === 0 && TDNF_SYSTEMS.includes(info.osId)) {
    // their package manager is tdnf, whose cache pinget does not read: "run dnf makecache" would not help there
    throw new PingetError(
      'BAD_INPUT',
      `${root}: ${info.prettyName ?? info.osId} keeps its repository metadata in tdnf's cache (var/cache/tdnf), which pinget does not read yet: hash verify works on this root, hash generate does not`,
    );
  }
  const repos: LoadedRepo[] = [];
  // Only installed names are kept from primary.xml: the rest of a Fedora-sized repo is never XML-parsed.
  const installedNames = new Set(installed.map((p) => p.name));
  const wanted = (name: string) => installedNames.has(name);
  for (const cached of cachedRepos) {
    const config = configs.find((c) => c.id === cached.id);
    const loaded = await loadCachedRepo(root, cached, config, { allowUnsigned: opts.allowUnsigned, wanted });
    if (loaded) repos.push(loaded);
    else opts.log.verbose(`${cached.dir}: no primary metadata in the cache; skipped`);
  }
  if (opts.allowUnsigned && configs.some((c) => c.repoGpgcheck)) {
    opts.log.warn('--allow-unsigned: NOT checking repomd.xml signatures');
  }
  const index = new Map<string, PrimaryPackage>();
  for (const repo of [...repos].sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0))) {
    for (const p of repo.packages) {
      if (p.checksumType !== 'sha256') continue;
      const key = nevraKey(p);
      const seen = index.get(key);
      if (!seen) index.set(key, p);
      else if (seen.checksum !== p.checksum) {
        opts.log.warn(`${p.name}-${evrString(p)}.${p.arch} has two different files in the cached repos; using the one from the newest metadata`);
      }
    }
  }
  const entries: LockEntry[] = [];
  const missing: InstalledRpm[] = [];
  for (const p of installed) {
    const meta = index.get(nevraKey(p));
    const path = meta && kojiPath(p, p.sourceRpm || meta.sourceRpm);
    if (!meta || !path) missing.push(p);
    else entries.push({ sha256: meta.checksum, path });
  }
  entries.push(...(await resolveFedoraMissing(root, missing, opts, repos.length > 0)));
  const headers: Record<string, string> = { distro: [info.osId, info.versionId, basearch].filter(Boolean).join(' ') };
  // Koji paths have no epoch: the header keeps them, so that verify and install compare E:V-R (hash update regenerates it whole)
  headers[EPOCHS_HEADER] = formatEpochs(installed);
  const snapshot = snapshotHeader(repos);
  if (snapshot) headers.snapshot = snapshot;
  Object.assign(headers, await dnfManualHeader(root, installed.map((p) => p.name), opts.log));
  return { entries, headers };
}

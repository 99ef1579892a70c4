/**
 * `--sources` for Fedora and the RHEL family: the `.src.rpm` each pinned binary was built from (the source rpm its
 * Koji path names, which is the binary's header SOURCERPM), from the root's source repositories: the `[*-source]`
 * sections of its repo files (fedora-source, updates-source, baseos-source ...), used whether enabled or not (they
 * usually are not; that is said). Each one's repomd.xml is fetched and checked as lock checks the binary repos
 * (lock-repos.ts), its primary metadata fetched by the sha256 repomd.xml names through the fetch chain, and each
 * source rpm pinned with the sha256 primary.xml gives it. A source rpm no source repository lists is an error
 * naming it: never a lockfile without the sources that were asked for.
 */
import { readFile } from 'node:fs/promises';
import { compressionOfName, decompress } from '../../src/decompress.js';
import { PingetError, reasonOf } from '../../src/errors.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import type { LockEntry } from '../../src/lockfile.js';
import type { SourcesRequest } from '../../src/distro/types.js';
import { readOsRelease } from '../../src/distro/os-release.js';
import { baseArchOf } from './generate.js';
import { fetchRepomd, metadataOf } from './lock-repos.js';
import { inspectKojiPath } from './nevra.js';
import { parsePrimary } from './repodata.js';
import { isSourceRepo, repoVars, type RepoConfig } from './repo-files.js';
import { readRepoConfigs } from './repos.js';
import { queryInstalled } from './rpmdb.js';

interface Wanted {
  name: string;
  version: string;
  release: string;
  /** `name-version-release.src.rpm` */
  file: string;
}

/** The source rpm of each pinned binary, from its Koji path (`<srpm name>/<version>/<release>/<arch>/<file>`). */
export function sourceRpmsOf(binaries: LockEntry[]): Wanted[] {
  const out = new Map<string, Wanted>();
  for (const e of binaries) {
    const parts = e.path.split('/');
    if (parts.length !== 5 || parts[3] === 'src' || !inspectKojiPath(e.path)) continue;
    const [name, version, release] = parts;
    const file = `${name}-${version}-${release}.src.rpm`;
    out.set(file, { name, version, release, file });
  }
  return [...out.values()];
}

/** The root's source repositories, with the variables dnf would substitute in them. */
export async function sourceRepos(root: string, req: Pick<SourcesRequest, 'info'>): Promise<{ repos: RepoConfig[]; vars: Record<string, string> }> {
  const releasever = req.info.versionId ?? (await readOsRelease(root))?.VERSION_ID;
  const basearch = req.info.arch ?? baseArchOf(await queryInstalled(root).catch(() => []));
  const vars = repoVars(releasever, basearch);
  const repos = (await readRepoConfigs(root, vars)).filter(isSourceRepo);
  // The enabled ones first: where the root says to look.
  return { repos: [...repos.filter((r) => r.enabled), ...repos.filter((r) => !r.enabled)], vars };
}

export async function pinFedoraSources(req: SourcesRequest): Promise<LockEntry[]> {
  const wanted = sourceRpmsOf(req.binaries);
  if (wanted.length === 0) return [];
  const root = req.root ?? '/';
  if (!req.fetcher) throw new PingetError('INTERNAL', 'pinFedoraSources needs an index fetcher');
  const { repos, vars } = await sourceRepos(root, req);
  if (repos.length === 0) {
    throw new PingetError('NOT_FOUND', `--sources: ${root.replace(/\/$/, '')}/etc/yum.repos.d has no source repository (a [*-source] section such as fedora-source) to pin the source rpms of ${wanted.length} package(s) from`);
  }
  const found = new Map<string, LockEntry>();
  const unreadable: string[] = [];
  for (const c of repos) {
    if (found.size === wanted.length) break;
    if (!c.enabled) req.log.info(`--sources: using repo ${c.id} (${c.source}), disabled there, for the source rpms`);
    let primary: string;
    let where: string;
    try {
      const verified = await fetchRepomd(c, { root, fetcher: req.fetcher, vars, allowUnsigned: req.allowUnsigned, log: req.log });
      const d = metadataOf(verified, 'primary')!;
      where = `${redactUrl(verified.url)} (repo ${c.id})`;
      const kind = compressionOfName(d.href) ? d.href.slice(d.href.lastIndexOf('.') + 1) : undefined;
      const plain = kind && d.openChecksumType === 'sha256' && /^[0-9a-f]{64}$/.test(d.openChecksum ?? '') ? { sha256: d.openChecksum!, compression: kind } : undefined;
      const [file] = await req.fetcher.files([{ path: d.href, sha256: d.checksum, bases: verified.bases, plain }]);
      const bytes = await readFile(file);
      primary = (plain ? bytes : await decompress(bytes, d.href)).toString('utf8');
    } catch (e) {
      if (e instanceof PingetError && (e.code === 'INTEGRITY' || e.code === 'INTERRUPTED' || e.code === 'INTERNAL')) throw e;
      unreadable.push(`repo ${c.id} (${c.source}): ${reasonOf(e)}`);
      continue;
    }
    const names = new Set(wanted.map((w) => w.name));
    for (const p of parsePrimary(primary, where, (n) => names.has(n))) {
      if (p.arch !== 'src' && p.arch !== 'nosrc') continue;
      const w = wanted.find((x) => x.name === p.name && x.version === p.version && x.release === p.release);
      if (!w || found.has(w.file)) continue;
      if (p.checksumType !== 'sha256' || !/^[0-9a-f]{64}$/.test(p.checksum)) throw new PingetError('BAD_INPUT', `${where}: ${w.file} has a ${p.checksumType} checksum; pinget needs sha256`);
      if (p.href.split('/').pop() !== w.file) throw new PingetError('INTEGRITY', `${where}: the entry of ${w.file} is at ${JSON.stringify(p.href.slice(0, 200))}, not a file of that name`);
      found.set(w.file, { sha256: p.checksum, path: `${w.name}/${w.version}/${w.release}/src/${w.file}` });
      req.log.verbose(`source ${w.file}: from repo ${c.id}`);
    }
  }
  const missing = wanted.filter((w) => !found.has(w.file)).map((w) => w.file);
  if (missing.length) {
    const what = `--sources: no source repository lists ${missing.length} source rpm(s): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}`;
    if (unreadable.length) throw new PingetError('UNAVAILABLE', `${what}; ${unreadable[0]}${unreadable.length > 1 ? ` (and ${unreadable.length - 1} more source repositories could not be read)` : ''}`, { details: unreadable.length > 1 ? unreadable : [] });
    throw new PingetError('NOT_FOUND', `${what} (read: ${repos.map((r) => r.id).join(', ')})`);
  }
  return [...found.values()];
}

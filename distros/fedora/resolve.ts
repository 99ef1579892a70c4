/**
 * `lock` for Fedora and the RHEL family: package names -> what `dnf install` of them would add to the base, as one
 * libdnf transaction (never a union of per-package answers). pinget fetches and checks the repository metadata
 * (lock-repos.ts), dnf chooses (dnf-resolve.ts), and each lockfile line is the package's Koji path with the
 * sha256 primary.xml gives it, as `hash generate` writes it.
 */
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { readOsRelease } from '../../src/distro/os-release.js';
import type { LockEntry } from '../../src/lockfile.js';
import type { EmptyBase, PackageRef, ResolveRequest, ResolveResult } from '../../src/distro/types.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import { loadKeyringOption, type PublicKey } from '../../src/verify/openpgp.js';
import { formatManual } from '../../src/manual-marks.js';
import { resolverStateDir } from '../../src/resolver-state.js';
import { dnfChoose } from './dnf-resolve.js';
import { fetchRepos } from './lock-repos.js';
import { kojiPath, refOf } from './nevra.js';
import { expandVars, repoVars, type RepoConfig } from './repo-files.js';
import { readRepoConfigs } from './repos.js';
import { findRpmDb, type RpmDbLocation } from './rpmdb.js';

/** A dnf package spec: name, name-version[-release], name.arch, a provide; no spaces, no options, no globs. */
const DNF_SPEC = /^[A-Za-z0-9_+/][A-Za-z0-9._+:~^()/-]*$/;

export function checkSpecs(names: string[]): void {
  const bad = names.filter((n) => !DNF_SPEC.test(n));
  if (bad.length) throw new PingetError('USAGE', `not a dnf package spec (name, name-version, name.arch or a provide): ${bad.slice(0, 3).map((b) => JSON.stringify(b.slice(0, 80))).join(', ')}`);
}

const isoSeconds = (s: number) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What a resolution reads of its base: the installed packages, the repositories and how they are checked, the release. */
interface FedoraBase {
  root: string;
  db?: RpmDbLocation;
  osId: string;
  releasever: string;
  configs: RepoConfig[];
  keys?: PublicKey[];
}

async function rootBase(root: string, arch: string): Promise<FedoraBase> {
  const db = await findRpmDb(root);
  if (!db) throw new PingetError('BAD_INPUT', `${root}: no rpm database; is this an rpm-based root?`);
  const os = await readOsRelease(root);
  const releasever = os?.VERSION_ID ?? '';
  const configs = (await readRepoConfigs(root, repoVars(releasever || undefined, arch))).filter((c) => c.enabled);
  if (configs.length === 0) throw new PingetError('BAD_INPUT', `${root}/etc/yum.repos.d: no enabled repository to resolve against`);
  return { root, db, osId: (os?.ID ?? 'fedora').toLowerCase(), releasever, configs };
}

/**
 * An empty system (`--distro fedora:40`): nothing installed, the `--mirror` rpm-md repositories (each URL holds
 * repodata/; `$releasever` and `$basearch` are substituted), releasever the release given. An empty system has no
 * keys, so each repomd.xml must be signed (repomd.xml.asc) by a `--keyring` key; unsigned only with --allow-unsigned.
 */
async function emptyBase(empty: EmptyBase, arch: string, allowUnsigned: boolean | undefined): Promise<FedoraBase> {
  const what = `--distro ${empty.osId}:${empty.release}`;
  if (empty.mirrors.length === 0) throw new PingetError('USAGE', `${what} needs --mirror URL: an rpm-md repository (URL/repodata/repomd.xml); repeatable`);
  if (!allowUnsigned && empty.keyrings.length === 0) {
    throw new PingetError('USAGE', `${what} has no keys to check the repositories with: pass --keyring FILE (the RPM-GPG-KEY that signs their repomd.xml), or --allow-unsigned for unsigned repositories`);
  }
  const vars = repoVars(empty.release, arch);
  const configs = empty.mirrors.map((m, i): RepoConfig => ({
    id: `mirror${i + 1}`,
    source: `--mirror ${redactUrl(m)}`,
    baseurls: [expandVars(m, vars)],
    enabled: true,
    gpgcheck: true,
    repoGpgcheck: !allowUnsigned,
    gpgkeys: [],
  }));
  const keys = allowUnsigned ? undefined : await loadKeyringOption(empty.keyrings);
  return { root: '/', osId: empty.osId, releasever: empty.release, configs, keys };
}

export async function resolveFedora(req: ResolveRequest): Promise<ResolveResult> {
  // Koji keeps every build but no repository as it was on a day, so there is nothing dated to resolve against.
  if (req.snapshot) {
    throw new PingetError('USAGE', '--snapshot: Fedora and the RHEL family have no dated snapshot archive of their repositories; to resolve as of a date, point the base\'s repo files (baseurl=) at a dated compose\'s tree and lock without --snapshot');
  }
  // The source rpms come from a base's [*-source] repo files; an empty system has none (and the host's are not its).
  if (req.sources && 'empty' in req.base) throw new PingetError('USAGE', '--sources: an empty Fedora base has no [*-source] repositories to pin the source rpms from; lock from a base (--root or --image) whose repo files name them');
  if (req.targetRelease) throw new PingetError('USAGE', '-t has no meaning for dnf: name the version in the spec instead (name-version)');
  checkSpecs(req.names);
  const base = 'root' in req.base ? await rootBase(req.base.root, req.arch) : await emptyBase(req.base.empty, req.arch, req.allowUnsigned);
  const { root, db, releasever, configs } = base;
  if (req.allowUnsigned && configs.some((c) => c.repoGpgcheck)) req.log.verbose('--allow-unsigned: repomd.xml signatures are not checked');
  const vars = repoVars(releasever || undefined, req.arch);
  const repos = await fetchRepos(configs, { root, fetcher: req.fetcher, scratch: join(req.scratch, 'repos'), vars, allowUnsigned: req.allowUnsigned, keys: base.keys, log: req.log, signal: req.signal });
  const cacheDir = await resolverStateDir(req.stateRoot, 'dnf', [req.arch, releasever, ...repos.map((r) => `${r.id} ${r.repomdSha256}`)]);
  const chosen = await dnfChoose({ scratch: join(req.scratch, 'dnf'), cacheDir, root, db, arch: req.arch, releasever: releasever || '0', repos, names: req.names, weak: req.recommends, signal: req.signal });

  const entries: LockEntry[] = [];
  const packages: PackageRef[] = [];
  for (const p of chosen) {
    if (p.arch !== req.arch && p.arch !== 'noarch') throw new PingetError('USAGE', `repo ${p.repo} gives ${p.name} only for ${p.arch}, not ${req.arch}: the repository does not serve ${req.arch}`);
    if (p.chksum_type !== 'sha256' || !/^[0-9a-f]{64}$/.test(p.chksum)) throw new PingetError('BAD_INPUT', `repo ${p.repo}: ${p.name} has a ${p.chksum_type} checksum in primary.xml; lock needs sha256`);
    const nevra = { name: p.name, epoch: p.epoch ? String(p.epoch) : '', version: p.version, release: p.release, arch: p.arch };
    const path = kojiPath(nevra, p.sourcerpm);
    if (!path) throw new PingetError('BAD_INPUT', `repo ${p.repo}: ${p.name} names no source rpm (${JSON.stringify(p.sourcerpm)}); its Koji path is unknown`);
    entries.push({ path, sha256: p.chksum });
    packages.push(refOf(nevra));
  }
  const headers: Record<string, string> = { distro: [base.osId, releasever, req.arch].filter(Boolean).join(' ') };
  const sde = process.env.SOURCE_DATE_EPOCH;
  const stamps = repos.map((r) => r.timestamp ?? 0).filter(Boolean);
  if (sde && /^\d+$/.test(sde)) headers.snapshot = isoSeconds(Number(sde));
  else if (stamps.length) headers.snapshot = isoSeconds(Math.max(...stamps));
  if (chosen.length) headers.manual = formatManual(chosen.filter((p) => p.user).map((p) => p.name));
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, headers, packages };
}

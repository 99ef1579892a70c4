/**
 * `lock` for Arch Linux: package names -> what `pacman -S --needed` of them would add to the base. pinget fetches
 * and checks the sync databases of the base's repositories (lock-dbs.ts), pacman chooses (pacman-resolve.ts), and
 * the lockfile holds each chosen file as `hash generate` pins it: `<repo>/os/<arch>/<%FILENAME%>` with the sync
 * database's %SHA256SUM%, and its `.sig` line from %PGPSIG%.
 */
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import type { LockEntry } from '../../src/lockfile.js';
import { readOsRelease } from '../../src/distro/os-release.js';
import type { EmptyBase, PackageRef, ResolveRequest, ResolveResult } from '../../src/distro/types.js';
import { loadKeyringOption, openpgpModule } from '../../src/verify/openpgp.js';
import { formatManual } from '../../src/manual-marks.js';
import { sha256Bytes } from '../../src/verify/sha256.js';
import { KeyringLoader, isoFromEpoch, snapshotOf } from './generate.js';
import { fetchSyncDbs, type LockRepo } from './lock-dbs.js';
import type { PacmanPackage } from './desc.js';
import { databaseSigLevel, type PacmanConf } from './pacman-conf.js';
import type { Keyring } from './signatures.js';
import { pacmanChoose, type Chosen } from './pacman-resolve.js';
import { loadPacmanRoot } from './pacman-root.js';
import { mirrorPath } from './paths.js';

/** `name`, `repo/name`, or a dependency with a version (`name>=1.2`), as `pacman -S` takes them. */
const PACMAN_TARGET = /^([a-z0-9][a-z0-9._-]*\/)?[a-z0-9@_+][a-z0-9@._+-]*((<=|>=|=|<|>)[A-Za-z0-9.:+_~-]+)?$/i;

export function checkTargets(names: string[]): void {
  const bad = names.filter((n) => !PACMAN_TARGET.test(n));
  if (bad.length) throw new PingetError('USAGE', `not a pacman target (name, repo/name or name>=version): ${bad.slice(0, 3).map((b) => JSON.stringify(b.slice(0, 80))).join(', ')}`);
}

/** Every repository's servers moved onto the Arch Linux Archive's tree of that UTC day (`repos/YYYY/MM/DD/`). */
async function onArchiveDay(conf: PacmanConf, day: Date, archiveUrls: Record<string, string>): Promise<PacmanConf> {
  // The archives' modules (and the CID code under them) load only for --snapshot.
  const [{ archiveBase }, { ARCH_ARCHIVE_NAME, snapshotDays }] = await Promise.all([import('../../src/fetch/archives/index.js'), import('../../src/fetch/archives/arch.js')]);
  const base = archiveBase('arch', ARCH_ARCHIVE_NAME, archiveUrls);
  const [ymd] = snapshotDays(day.toISOString());
  return { ...conf, repos: conf.repos.map((r) => ({ ...r, servers: [`${base}/repos/${ymd}/$repo/os/$arch`] })) };
}

/** Each repository with its records by `name version` (a closure of thousands would otherwise scan each database once per package). */
type Indexed = Map<string, { repo: LockRepo; byNameVersion: Map<string, PacmanPackage> }>;

function indexRepos(repos: LockRepo[]): Indexed {
  return new Map(repos.map((r) => [r.name, { repo: r, byNameVersion: new Map(r.packages.map((p) => [`${p.name} ${p.version}`, p])) }]));
}

/** The lock lines of one chosen package, from its sync database record. */
function pin(c: Chosen, repos: Indexed, arch: string): { ref: PackageRef; entries: LockEntry[]; signed: boolean } {
  const repo = repos.get(c.repo)?.repo;
  const rec = repos.get(c.repo)?.byNameVersion.get(`${c.name} ${c.version}`);
  if (!repo || !rec) throw new PingetError('INTERNAL', `pacman chose ${c.repo}/${c.name} ${c.version}, which the sync database pinget read does not have`);
  if (rec.arch !== arch && rec.arch !== 'any') {
    throw new PingetError('USAGE', `[${c.repo}] has ${c.name} ${c.version} only for ${rec.arch}, not for ${arch}: the repository does not serve ${arch}`);
  }
  if (!rec.filename || rec.filename.includes('/') || rec.filename.startsWith('.') || !/^[0-9a-f]{64}$/.test(rec.sha256 ?? '')) {
    throw new PingetError('INTEGRITY', `${repo.server}/${c.repo}.db: the record of ${c.name} ${c.version} has no usable %FILENAME% and %SHA256SUM%`);
  }
  const path = mirrorPath(c.repo, arch, rec.filename);
  const entries: LockEntry[] = [{ path, sha256: rec.sha256! }];
  if (rec.pgpsig) entries.push({ path: `${path}.sig`, sha256: sha256Bytes(Buffer.from(rec.pgpsig, 'base64')) });
  return { ref: { name: rec.name, version: rec.version, arch: rec.arch }, entries, signed: !!rec.pgpsig };
}

/** What a resolution reads of its base: the repositories, the keys that check them, the installed packages, the distro header. */
interface ArchBase {
  conf: PacmanConf;
  keys: (what: string) => Promise<Keyring>;
  localDb?: string;
  distro: string;
}

async function rootBase(root: string): Promise<ArchBase> {
  const pr = loadPacmanRoot(root);
  if (pr.conf.repos.length === 0) throw new PingetError('BAD_INPUT', `${join(root, 'etc/pacman.conf')}: no repository to resolve against`);
  const keyring = new KeyringLoader(pr);
  const os = await readOsRelease(root);
  return { conf: pr.conf, keys: (what) => keyring.get(what), localDb: join(pr.dbPath, 'local'), distro: `${os?.ID || 'arch'} ${os?.VERSION_ID || os?.BUILD_ID || 'rolling'}` };
}

/** Arch Linux's stock repositories, in pacman.conf's order. */
export const EMPTY_REPOS = ['core', 'extra'];

/**
 * An empty Arch system (`--distro arch:rolling`): Arch Linux's stock repositories, core and extra, on the `--mirror`
 * servers (pacman Server lines; a bare URL gets Arch's `$repo/os/$arch` layout), nothing installed. An empty
 * system has no keyring, so the databases' signatures are required and checked with the `--keyring` files
 * (pacman's `DatabaseRequired`); Arch's own databases are unsigned, so they need --allow-unsigned.
 */
function emptyBase(empty: EmptyBase, allowUnsigned: boolean | undefined): ArchBase {
  if (empty.release !== 'rolling') throw new PingetError('USAGE', `--distro arch:${empty.release}: Arch Linux has no releases; use --distro arch:rolling (and --snapshot DATE for a past day)`);
  if (empty.mirrors.length === 0) throw new PingetError('USAGE', '--distro arch:rolling needs --mirror URL: an Arch Linux mirror (its repositories at URL/$repo/os/$arch)');
  if (!allowUnsigned && empty.keyrings.length === 0) {
    throw new PingetError('USAGE', '--distro arch:rolling has no pacman keyring to check the databases with: pass --keyring FILE (the keys that sign them), or --allow-unsigned for unsigned databases');
  }
  const servers = empty.mirrors.map((m) => (m.includes('$repo') ? m : `${m.replace(/\/+$/, '')}/$repo/os/$arch`));
  let keys: Promise<Keyring> | undefined;
  return {
    conf: { options: { SigLevel: ['Required', 'DatabaseRequired'] }, repos: EMPTY_REPOS.map((name) => ({ name, servers })) },
    keys: () => (keys ??= loadKeyringOption(empty.keyrings)),
    distro: 'arch rolling',
  };
}

export async function resolveArch(req: ResolveRequest): Promise<ResolveResult> {
  if (req.targetRelease) throw new PingetError('USAGE', '-t has no meaning for pacman: name the repository in the target instead (repo/name)');
  checkTargets(req.names);
  if (!req.recommends) req.log.verbose('--no-install-recommends: pacman never installs optional dependencies by itself');
  const base = 'root' in req.base ? await rootBase(req.base.root) : emptyBase(req.base.empty, req.allowUnsigned);
  const conf = req.snapshot ? await onArchiveDay(base.conf, req.snapshot, req.archive.archiveUrls ?? {}) : base.conf;
  // openpgp.js (~0.1 s to load and set up) loads while the databases download, not after.
  if (!req.allowUnsigned && conf.repos.some((r) => databaseSigLevel(conf, r) !== 'Never')) openpgpModule().catch(() => undefined);
  const fetched = await fetchSyncDbs(conf.repos, {
    conf,
    arch: req.arch,
    fetcher: req.fetcher,
    keys: req.allowUnsigned ? undefined : base.keys,
    log: req.log,
  });
  // pinget reads the records (and maps them by name and version) while pacman resolves; a database that is not one
  // fails as such, not as pacman's error.
  const parsed = Promise.all(fetched.map(async (r): Promise<LockRepo> => ({ ...r, packages: await r.packages }))).then((repos) => ({ repos, indexed: indexRepos(repos) }));
  parsed.catch(() => undefined);
  const { chosen, direct, checked } = await pacmanChoose({ scratch: join(req.scratch, 'pacman'), arch: req.arch, localDb: base.localDb, repos: fetched, names: req.names, signal: req.signal }).catch(
    async (e: unknown) => {
      await parsed;
      throw e;
    },
  );
  const { repos, indexed } = await parsed;

  if (!checked) req.log.warn('not root: pacman checks conflicts only in a real transaction, which needs root; conflicts with the base are not checked');
  const pinned = chosen.map((c) => pin(c, indexed, req.arch));
  const unsigned = pinned.filter((p) => !p.signed).map((p) => `${p.ref.name} ${p.ref.version}`);
  if (unsigned.length) req.log.warn(`no signature in the sync databases for ${unsigned.slice(0, 10).join(', ')}${unsigned.length > 10 ? ', ...' : ''}; installing will need --allow-unsigned or LocalFileSigLevel = Required`);

  const headers: Record<string, string> = { distro: `${base.distro} ${req.arch}` };
  const snapshot = req.snapshot ? isoFromEpoch(req.snapshot.getTime() / 1000) : snapshotOf(process.env, repos);
  if (snapshot) headers.snapshot = snapshot;
  if (chosen.length) headers.manual = formatManual(direct.map((d) => d.name));
  const entries = pinned.flatMap((p) => p.entries).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, headers, packages: pinned.map((p) => p.ref) };
}

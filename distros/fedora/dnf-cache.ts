/**
 * The repository metadata dnf keeps in the root's cache: dnf4 `/var/cache/dnf/<repoid>-<hash>/repodata/`,
 * dnf5 `/var/cache/libdnf5/<repoid>-<hash>/repodata/`. Each repomd.xml is checked against its detached
 * signature when the repo has repo_gpgcheck, and every metadata file against the checksums repomd.xml lists,
 * so a changed primary.xml is an integrity failure, not a silently wrong lockfile.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { decompress } from '../../src/decompress.js';
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import { loadKeys, verifyDetached } from '../../src/verify/openpgp.js';
import { parsePrimary, parseRepomd, type PrimaryPackage, type Repomd, type RepomdData } from './repodata.js';
import type { RepoConfig } from './repo-files.js';
import { resolveInRoot } from '../../src/root-path.js';

export const CACHE_DIRS = [
  { layout: 'dnf4', dir: 'var/cache/dnf' },
  { layout: 'dnf5', dir: 'var/cache/libdnf5' },
] as const;

export interface CachedRepo {
  id: string;
  dir: string;
  layout: 'dnf4' | 'dnf5';
}

export interface LoadedRepo extends CachedRepo {
  repomd: Repomd;
  packages: PrimaryPackage[];
  /** True when repomd.xml's signature was checked. */
  signed: boolean;
  /** Newest metadata timestamp in repomd.xml (seconds). */
  timestamp?: number;
}

const CACHE_ENTRY = /^(.+)-([0-9a-f]{8,64})$/;

/** Cached repositories of a root, sorted by id then directory (deterministic). */
export async function findCachedRepos(root: string): Promise<CachedRepo[]> {
  const out: CachedRepo[] = [];
  for (const { layout, dir } of CACHE_DIRS) {
    const base = resolveInRoot(root, dir);
    const names = await readdir(base).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const m = CACHE_ENTRY.exec(name);
      if (!m) continue;
      const repoDir = join(base, name);
      if (await stat(join(repoDir, 'repodata', 'repomd.xml')).catch(() => undefined)) out.push({ id: m[1], dir: repoDir, layout });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.dir < b.dir ? -1 : 1));
}

function digest(type: string, data: Uint8Array): string | undefined {
  const algo = type === 'sha' ? 'sha1' : type;
  if (!['sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'md5'].includes(algo)) return undefined;
  return createHash(algo).update(data).digest('hex');
}

/** The gpgkey files of a repo inside the root; keys on the network are not fetched. */
export function localKeyFiles(root: string, repo: RepoConfig): string[] {
  return repo.gpgkeys.filter((k) => k.startsWith('file://')).map((k) => resolveInRoot(root, decodeURIComponent(new URL(k).pathname)));
}

async function checkRepomdSignature(root: string, cached: CachedRepo, config: RepoConfig, data: Uint8Array): Promise<void> {
  const file = join(cached.dir, 'repodata', 'repomd.xml');
  const sig = await readFile(`${file}.asc`).catch(() => undefined);
  if (!sig) {
    throw new PingetError('INTEGRITY', `${file}.asc: missing, but repo ${config.id} (${config.source}) has repo_gpgcheck=1; run dnf makecache, or pass --allow-unsigned`);
  }
  const keyFiles = localKeyFiles(root, config);
  if (keyFiles.length === 0) {
    throw new PingetError('INTEGRITY', `${config.source}: repo ${config.id} has repo_gpgcheck=1 but no local gpgkey=file:// to check ${file} with; pass --allow-unsigned to skip`);
  }
  const keys = await loadKeys(keyFiles);
  if (keys.length === 0) {
    throw new PingetError('INTEGRITY', `${config.source}: no readable key in ${keyFiles.join(', ')} (gpgkey of repo ${config.id}) to check ${file}; pass --allow-unsigned to skip`);
  }
  await verifyDetached(data, sig, keys, file);
}

async function readMetadataFile(cached: CachedRepo, entry: RepomdData): Promise<{ file: string; bytes: Uint8Array } | undefined> {
  for (const file of [join(cached.dir, entry.href), join(cached.dir, 'repodata', basename(entry.href))]) {
    const bytes = await readFile(file).catch(() => undefined);
    if (bytes) return { file, bytes };
  }
  return undefined;
}

async function unzck(file: string): Promise<Uint8Array> {
  const res = await run('unzck', ['--stdout', file], { missingHint: 'install zchunk (Debian: apt-get install zchunk), or run dnf with --setopt=zchunk=False makecache' });
  if (res.code !== 0) throw new PingetError('BAD_INPUT', `${file}: unzck failed: ${res.stderr.trim().split('\n').pop()}`);
  return Buffer.from(res.stdout, 'utf8');
}

/** Reads, checks and parses one cached repository's primary metadata. */
export async function loadCachedRepo(
  root: string,
  cached: CachedRepo,
  config: RepoConfig | undefined,
  opts: { allowUnsigned?: boolean; wanted?: (name: string) => boolean },
): Promise<LoadedRepo | undefined> {
  const repomdFile = join(cached.dir, 'repodata', 'repomd.xml');
  const repomdBytes = await readFile(repomdFile);
  let signed = false;
  if (config?.repoGpgcheck && !opts.allowUnsigned) {
    await checkRepomdSignature(root, cached, config, repomdBytes);
    signed = true;
  }
  const repomd = parseRepomd(repomdBytes.toString('utf8'), repomdFile);
  // dnf fetches primary.xml.zck instead of primary.xml.<gz|xz|zst> when the repo has one (Fedora's do).
  let found: { entry: RepomdData; file: string; bytes: Uint8Array } | undefined;
  for (const type of ['primary', 'primary_zck']) {
    const entry = repomd.data.find((d) => d.type === type);
    const got = entry && (await readMetadataFile(cached, entry));
    if (entry && got) {
      found = { entry, ...got };
      break;
    }
  }
  if (!found) return undefined;
  const { entry, file, bytes } = found;
  const got = digest(entry.checksumType, bytes);
  if (got === undefined) throw new PingetError('BAD_INPUT', `${repomdFile}: unsupported checksum type "${entry.checksumType}" for ${entry.href}`);
  if (got !== entry.checksum) {
    throw new PingetError('INTEGRITY', `${file}: checksum does not match ${repomdFile} (${entry.checksumType} ${got}, expected ${entry.checksum}); the metadata was changed or is stale: run dnf makecache`);
  }
  const xml = entry.type === 'primary_zck' ? await unzck(file) : await decompress(bytes, file);
  if (entry.openChecksum && entry.openChecksumType) {
    const open = digest(entry.openChecksumType, xml);
    if (open !== undefined && open !== entry.openChecksum) {
      throw new PingetError('INTEGRITY', `${file}: uncompressed checksum does not match ${repomdFile}; run dnf makecache`);
    }
  }
  const packages = parsePrimary(Buffer.from(xml).toString('utf8'), file, opts.wanted);
  const stamps = repomd.data.map((d) => d.timestamp ?? 0);
  const timestamp = stamps.length ? Math.max(...stamps) : undefined;
  return { ...cached, repomd, packages, signed, timestamp: timestamp || undefined };
}

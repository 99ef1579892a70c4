/**
 * `lock`: the repository metadata dnf resolves against, fetched by pinget and laid out as local repositories.
 * Each enabled repo's `repodata/repomd.xml` comes from its baseurl (or the mirrors its metalink/mirrorlist
 * names) and, where the repo has repo_gpgcheck, is checked against `repomd.xml.asc` with the repo's gpgkey files
 * read inside the base; `primary` and `filelists` (dnf 4 reads file provides from them) are then fetched by the
 * sha256 the verified repomd.xml names, through the fetch chain (the cache first). dnf only reads files pinget
 * verified, from `file://` directories.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import type { IndexFetcher } from '../../src/distro/types.js';
import type { Logger } from '../../src/ui/log.js';
import { loadKeys, verifyDetached, type PublicKey } from '../../src/verify/openpgp.js';
import { sha256Bytes } from '../../src/verify/sha256.js';
import { localKeyFiles } from './dnf-cache.js';
import { resolveRepoMirrors } from './mirrors.js';
import { parseRepomd, type Repomd, type RepomdData } from './repodata.js';
import type { RepoConfig } from './repo-files.js';

const REPOMD_MAX = 4 << 20;
const TYPES = ['primary', 'filelists'];

export interface LockRepo {
  id: string;
  /** The local directory dnf reads as the repository. */
  dir: string;
  /** Newest metadata timestamp in the verified repomd.xml (seconds), when signed. */
  timestamp?: number;
  /** sha256 of the verified repomd.xml: what dnf's kept caches are keyed by. */
  repomdSha256: string;
}

/** How a repository's metadata is reached and checked (lock's and --sources' own). */
export interface RepomdOptions {
  root: string;
  fetcher: IndexFetcher;
  vars: Record<string, string>;
  allowUnsigned?: boolean;
  /** The keys every signed repomd.xml is checked with (an empty base's --keyring), instead of each repo's gpgkey files in the root. */
  keys?: PublicKey[];
  log: Logger;
  signal?: AbortSignal;
}

export interface FetchReposOptions extends RepomdOptions {
  scratch: string;
}

/** A repository's repomd.xml as fetched and, where the repo has repo_gpgcheck, checked. */
export interface VerifiedRepomd {
  bases: string[];
  url: string;
  data: Buffer;
  repomd: Repomd;
  signed: boolean;
}

async function basesOf(c: RepoConfig, o: RepomdOptions): Promise<string[]> {
  const mirrors = c.baseurls.length ? [] : await resolveRepoMirrors(c, { log: o.log, vars: o.vars, signal: o.signal });
  const bases = [...c.baseurls, ...mirrors].map((u) => u.replace(/\/+$/, '')).filter((u) => /^https?:\/\//i.test(u));
  if (bases.length === 0) throw new PingetError('BAD_INPUT', `${c.source}: repo ${c.id} has no http(s) baseurl, and no mirror list answered; lock fetches each repository's metadata itself`);
  return [...new Set(bases)];
}

async function checkSignature(c: RepoConfig, url: string, data: Buffer, o: RepomdOptions): Promise<void> {
  const sig = await o.fetcher.document([`${url}.asc`], 64 << 10).catch((e: unknown) => {
    const why = o.keys ? 'is checked with --keyring' : 'has repo_gpgcheck=1';
    if (e instanceof PingetError && e.code === 'NOT_FOUND') throw new PingetError('INTEGRITY', `${redactUrl(url)}.asc: missing, but repo ${c.id} (${c.source}) ${why}; pass --allow-unsigned to skip the check`, { cause: e });
    throw e;
  });
  if (o.keys) return verifyDetached(data, sig.data, o.keys, redactUrl(url));
  const keyFiles = localKeyFiles(o.root, c);
  const keys = keyFiles.length ? await loadKeys(keyFiles) : [];
  if (keys.length === 0) throw new PingetError('INTEGRITY', `${c.source}: repo ${c.id} has repo_gpgcheck=1 but no readable gpgkey=file:// in the base to check ${redactUrl(url)} with; pass --allow-unsigned to skip`);
  await verifyDetached(data, sig.data, keys, redactUrl(url));
}

/** The repo's repomd.xml from the first of its bases that serves it, its signature checked where the repo asks. */
export async function fetchRepomd(c: RepoConfig, o: RepomdOptions): Promise<VerifiedRepomd> {
  const bases = await basesOf(c, o);
  const { url, data } = await o.fetcher.document(bases.map((b) => `${b}/repodata/repomd.xml`), REPOMD_MAX);
  const signed = c.repoGpgcheck && !o.allowUnsigned;
  if (signed) await checkSignature(c, url, data, o);
  return { bases, url, data, repomd: parseRepomd(data.toString('utf8'), redactUrl(url)), signed };
}

/** A metadata file the verified repomd.xml names, checked for a sha256 and a relative location; undefined when it lists none. */
export function metadataOf(r: VerifiedRepomd, type: string): RepomdData | undefined {
  const d = r.repomd.data.find((x) => x.type === type);
  if (!d) {
    if (type === 'primary') throw new PingetError('INTEGRITY', `${redactUrl(r.url)}: lists no primary metadata`);
    return undefined;
  }
  if (d.checksumType !== 'sha256' || !/^[0-9a-f]{64}$/.test(d.checksum)) throw new PingetError('BAD_INPUT', `${redactUrl(r.url)}: ${type} has a ${d.checksumType} checksum; pinget needs sha256`);
  if (!/^[A-Za-z0-9._/-]+$/.test(d.href) || d.href.split('/').includes('..')) throw new PingetError('INTEGRITY', `${redactUrl(r.url)}: ${type} location ${JSON.stringify(d.href.slice(0, 100))} is not a relative path`);
  return d;
}

async function fetchOne(c: RepoConfig, o: FetchReposOptions): Promise<LockRepo & { targets: { path: string; sha256: string; bases: string[] }[] }> {
  const verified = await fetchRepomd(c, o);
  const { bases, data, repomd, signed } = verified;
  const targets = [];
  for (const type of TYPES) {
    const d = metadataOf(verified, type);
    if (d) targets.push({ path: d.href, sha256: d.checksum, bases });
  }
  const dir = join(o.scratch, c.id);
  await mkdir(join(dir, 'repodata'), { recursive: true });
  await writeFile(join(dir, 'repodata', 'repomd.xml'), data);
  const stamps = repomd.data.map((d) => d.timestamp ?? 0);
  return { id: c.id, dir, timestamp: signed && stamps.length ? Math.max(...stamps) || undefined : undefined, repomdSha256: sha256Bytes(data), targets };
}

/** Every enabled repo of the base, fetched, checked and laid out under `o.scratch/<id>/`. */
export async function fetchRepos(configs: RepoConfig[], o: FetchReposOptions): Promise<LockRepo[]> {
  const repos = await Promise.all(configs.map((c) => fetchOne(c, o)));
  const targets = repos.flatMap((r) => r.targets);
  const files = await o.fetcher.files(targets);
  let i = 0;
  for (const r of repos) {
    for (const t of r.targets) {
      const at = join(r.dir, t.path);
      await mkdir(dirname(at), { recursive: true });
      await symlink(files[i++], at);
    }
  }
  o.log.verbose(`lock: ${targets.length} metadata file(s) of ${repos.length} repo(s) verified`);
  return repos.map(({ id, dir, timestamp, repomdSha256 }) => ({ id, dir, timestamp, repomdSha256 }));
}

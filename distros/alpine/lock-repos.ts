/**
 * `lock`: the index of each repository of the base, `<repository>/<arch>/APKINDEX.tar.gz`, fetched by pinget and
 * its signature checked against the base's keys (etc/apk/keys), as `hash generate` checks the indexes apk fetched.
 * The check runs while apk resolves (resolve.ts); apk, given the same keys, checks the signature itself before it
 * reads an index, and no answer of apk's is used unless pinget's check passed. An index names no hash of itself,
 * so it is fetched whole each run, as `apk update` does.
 * apk 3's Packages.adb repositories (`v3 URL`: `URL/<arch>/Packages.adb`; `ndx URL`: URL itself) are fetched the
 * same way; their ADB signature is checked by apk 3 itself (`apk verify` with the base's keys, which fails on an
 * index no key of them signed, or on bytes that are no ADB file) before pinget reads the package list.
 */
import { PingetError, reasonOf } from '../../src/errors.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import type { IndexFetcher } from '../../src/distro/types.js';
import type { Logger } from '../../src/ui/log.js';
import { readAdbIndex, type AdbIndex } from './adb-index.js';
import { parseApkIndex, type ApkIndex } from './apkindex.js';
import type { ApkRepository } from './repositories.js';
import type { ApkKeys } from './signature.js';
import { apkVerifyAdb } from './v3-repo.js';

/** Alpine's community index is a few MB; an index past this is not one. */
const INDEX_MAX = 256 << 20;

export interface LockRepo {
  repo: ApkRepository;
  /** The verified index bytes, as served. */
  data: Buffer;
  index: ApkIndex;
  /** The index as read, for a Packages.adb repository (its records are `index.records`). */
  adb?: AdbIndex;
  /** Where the index was fetched from. */
  indexUrl: string;
}

export interface FetchIndexesOptions {
  arch: string;
  fetcher: IndexFetcher;
  /** The base's keys; undefined: --allow-unsigned. */
  keys?: ApkKeys;
  /** Where the keys were read, for messages. */
  keysDir: string;
  log: Logger;
  /** A directory of pinget's own, for apk 3 to verify Packages.adb indexes in. */
  scratch: string;
  signal?: AbortSignal;
}

/** The URL of a repository's index for `arch` (apk-tools 3 repoparser.c and database.c add_repository_component). */
export function indexUrlOf(repo: ApkRepository, arch: string): string {
  if (repo.kind === 'ndx') return repo.url;
  return `${repo.url}/${arch}/${repo.kind === 'v3' ? 'Packages.adb' : 'APKINDEX.tar.gz'}`;
}

async function readV3(repo: ApkRepository, data: Buffer, url: string, o: FetchIndexesOptions): Promise<LockRepo> {
  const what = redactUrl(url);
  if (o.keys) await apkVerifyAdb(data, what, o.keys, o.keysDir, o.scratch, o.signal);
  let adb: AdbIndex;
  try {
    adb = readAdbIndex(data);
  } catch (e) {
    throw new PingetError('INTEGRITY', `${what}: not an apk Packages.adb index: ${reasonOf(e)}`, { cause: e });
  }
  return { repo, data, index: { records: adb.records, description: adb.description }, adb, indexUrl: url };
}

/** An index as fetched, not yet checked (readIndexes checks it). */
export type FetchedIndex = Pick<LockRepo, 'repo' | 'data' | 'indexUrl'>;

async function fetchOne(repo: ApkRepository, o: FetchIndexesOptions): Promise<FetchedIndex> {
  if (!/^https?:\/\//i.test(repo.url)) {
    throw new PingetError('BAD_INPUT', `etc/apk/repositories:${repo.line}: ${repo.url} is not an http(s) repository; lock fetches each repository's index itself`);
  }
  const url = indexUrlOf(repo, o.arch);
  const { data } = await o.fetcher.document([url], INDEX_MAX).catch((e: unknown) => {
    if (!(e instanceof PingetError && e.code === 'NOT_FOUND')) throw e;
    throw new PingetError('USAGE', `${redactUrl(repo.url)} has no index for architecture ${o.arch} (${redactUrl(url)}: not found): the repository does not serve ${o.arch}`, { cause: e });
  });
  return { repo, data, indexUrl: url };
}

/** One fetched index checked (its signature against the base's keys) and read. */
async function readOne({ repo, data, indexUrl: url }: FetchedIndex, o: FetchIndexesOptions): Promise<LockRepo> {
  if (repo.kind) return readV3(repo, data, url, o);
  let index: ApkIndex;
  try {
    index = await parseApkIndex(data, redactUrl(url), o.keys);
  } catch (e) {
    // A bad signature, or bytes that are no index at all: a liar or a broken mirror either way.
    const msg = reasonOf(e);
    const hint = msg.includes('signature') ? ` (keys: ${o.keysDir}; --allow-unsigned skips this check)` : '';
    throw new PingetError('INTEGRITY', msg + hint, { cause: e });
  }
  return { repo, data, index, indexUrl: url };
}

/** Every repository of the base, in etc/apk/repositories order, fetched (not yet checked: readIndexes). */
export async function fetchIndexes(repos: ApkRepository[], o: FetchIndexesOptions): Promise<FetchedIndex[]> {
  const out = await Promise.all(repos.map((r) => fetchOne(r, o)));
  o.log.verbose(`lock: ${out.length} index file(s) fetched for ${o.arch}`);
  return out;
}

/** The fetched indexes checked and read, in the same order; the first that fails its check rejects. */
export async function readIndexes(fetched: FetchedIndex[], o: FetchIndexesOptions): Promise<LockRepo[]> {
  const out = await Promise.all(fetched.map((f) => readOne(f, o)));
  if (o.keys) o.log.verbose(`lock: the signatures of ${out.length} index file(s) checked`);
  return out;
}

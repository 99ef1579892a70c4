/**
 * `lock`: the index of each repository of the base, `<repository>/<arch>/APKINDEX.tar.gz`, fetched by pinget and
 * its signature checked against the base's keys (etc/apk/keys) before apk reads it, as `hash generate` checks the
 * indexes apk fetched. An index names no hash of itself, so it is fetched whole each run, as `apk update` does.
 */
import { PingetError, reasonOf } from '../../src/errors.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import type { IndexFetcher } from '../../src/distro/types.js';
import type { Logger } from '../../src/ui/log.js';
import { parseApkIndex, type ApkIndex } from './apkindex.js';
import type { ApkRepository } from './repositories.js';
import type { ApkKeys } from './signature.js';

/** Alpine's community index is a few MB; an index past this is not one. */
const INDEX_MAX = 256 << 20;

export interface LockRepo {
  repo: ApkRepository;
  /** The verified index bytes, as served. */
  data: Buffer;
  index: ApkIndex;
}

export interface FetchIndexesOptions {
  arch: string;
  fetcher: IndexFetcher;
  /** The base's keys; undefined: --allow-unsigned. */
  keys?: ApkKeys;
  /** Where the keys were read, for messages. */
  keysDir: string;
  log: Logger;
}

async function fetchOne(repo: ApkRepository, o: FetchIndexesOptions): Promise<LockRepo> {
  if (!/^https?:\/\//i.test(repo.url)) {
    throw new PingetError('BAD_INPUT', `etc/apk/repositories:${repo.line}: ${repo.url} is not an http(s) repository; lock fetches each repository's index itself`);
  }
  const url = `${repo.url}/${o.arch}/APKINDEX.tar.gz`;
  const { data } = await o.fetcher.document([url], INDEX_MAX).catch((e: unknown) => {
    if (!(e instanceof PingetError && e.code === 'NOT_FOUND')) throw e;
    throw new PingetError('USAGE', `${redactUrl(repo.url)} has no index for architecture ${o.arch} (${redactUrl(url)}: not found): the repository does not serve ${o.arch}`, { cause: e });
  });
  let index: ApkIndex;
  try {
    index = await parseApkIndex(data, redactUrl(url), o.keys);
  } catch (e) {
    // A bad signature, or bytes that are no index at all: a liar or a broken mirror either way.
    const msg = reasonOf(e);
    const hint = msg.includes('signature') ? ` (keys: ${o.keysDir}; --allow-unsigned skips this check)` : '';
    throw new PingetError('INTEGRITY', msg + hint, { cause: e });
  }
  return { repo, data, index };
}

/** Every repository of the base, in etc/apk/repositories order, fetched and checked. */
export async function fetchIndexes(repos: ApkRepository[], o: FetchIndexesOptions): Promise<LockRepo[]> {
  const out = await Promise.all(repos.map((r) => fetchOne(r, o)));
  o.log.verbose(`lock: ${out.length} APKINDEX file(s) fetched for ${o.arch}${o.keys ? ', signatures checked' : ''}`);
  return out;
}

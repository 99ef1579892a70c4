/**
 * `lock`: the sync databases pacman resolves against, fetched by pinget from the base's repositories (each
 * repository's Server lines in order) and checked before pacman reads them. A database's detached signature
 * (`<repo>.db.sig`) is checked against the base's pacman keyring as the repository's SigLevel asks
 * (pacman.conf(5): Never, Optional = checked when present, Required = must be there), as `hash generate` checks
 * the databases pacman fetched. A sync database names no hash of itself anywhere, so it is fetched whole each run.
 */
import { PingetError } from '../../src/errors.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import type { IndexFetcher } from '../../src/distro/types.js';
import type { Logger } from '../../src/ui/log.js';
import type { PacmanPackage } from './desc.js';
import { databaseSigLevel, expandServer, type PacmanConf, type RepoConf } from './pacman-conf.js';
import { verifyDetachedSig, type Keyring } from './signatures.js';
import { parseSyncDb } from './sync-db.js';

/** extra.db is about 8 MiB today; a database past this is not one. */
const DB_MAX = 256 << 20;
const SIG_MAX = 64 << 10;

export interface LockRepo {
  name: string;
  /** The server (`$repo` and `$arch` expanded) that served the database. */
  server: string;
  /** The verified database bytes, as served (compressed). */
  data: Buffer;
  packages: PacmanPackage[];
}

/** A database fetched and its signature checked; its records still being read (pacman may run meanwhile). */
export type FetchedDb = Omit<LockRepo, 'packages'> & { packages: Promise<PacmanPackage[]> };

export interface FetchDbsOptions {
  conf: PacmanConf;
  arch: string;
  fetcher: IndexFetcher;
  /** The base's keyring, asked only when a signature is to be checked; undefined: --allow-unsigned. */
  keys?: (what: string) => Promise<Keyring>;
  log: Logger;
}

const notFound = (e: unknown) => e instanceof PingetError && e.code === 'NOT_FOUND';

async function fetchOne(repo: RepoConf, o: FetchDbsOptions): Promise<FetchedDb> {
  const servers = repo.servers.map((s) => expandServer(s, repo.name, o.arch)).filter((s) => /^https?:\/\//i.test(s));
  if (servers.length === 0) throw new PingetError('BAD_INPUT', `pacman.conf: [${repo.name}] has no http(s) Server; lock fetches each repository's database itself`);
  const urls = servers.map((s) => `${s}/${repo.name}.db`);
  const { url, data } = await o.fetcher.document(urls, DB_MAX).catch((e: unknown) => {
    if (!notFound(e)) throw e;
    // The usual layout has $arch in the Server: a repository without that architecture has no database there.
    throw new PingetError('USAGE', `[${repo.name}] has no database for architecture ${o.arch} (${redactUrl(urls[0])}: not found): the repository does not serve ${o.arch}`, { cause: e });
  });
  const level = databaseSigLevel(o.conf, repo);
  if (o.keys && level !== 'Never') {
    const sig = await o.fetcher.document([`${url}.sig`], SIG_MAX).then((d) => d.data, (e: unknown) => {
      if (notFound(e)) return undefined;
      throw e;
    });
    if (sig) await verifyDetachedSig(data, sig, await o.keys(redactUrl(url)), redactUrl(url));
    else if (level === 'Required') {
      throw new PingetError('INTEGRITY', `${redactUrl(url)}: no signature (${repo.name}.db.sig), and the base's pacman.conf requires one for [${repo.name}]; pass --allow-unsigned to skip the check`);
    } else o.log.verbose(`${redactUrl(url)}: unsigned; [${repo.name}]'s SigLevel does not require a database signature`);
  }
  const packages = parseSyncDb(data, redactUrl(url)).catch((e: unknown) => {
    // What the server sent is not what a repository serves: a liar or a broken mirror, as a bad signature is.
    if (e instanceof PingetError && e.code === 'BAD_INPUT') throw new PingetError('INTEGRITY', e.message.replace(/; run pacman -Sy.*$/, ''), { cause: e });
    throw e;
  });
  // Awaited by the caller after pacman ran; handled here so that a bad database is not an unhandled rejection meanwhile.
  packages.catch(() => undefined);
  return { name: repo.name, server: url.slice(0, -`/${repo.name}.db`.length), data, packages };
}

/** Every repository of the configuration, in pacman.conf order, fetched and checked. */
export async function fetchSyncDbs(repos: RepoConf[], o: FetchDbsOptions): Promise<FetchedDb[]> {
  const out = await Promise.all(repos.map((r) => fetchOne(r, o)));
  o.log.verbose(`lock: ${out.length} sync database(s) fetched for ${o.arch}`);
  return out;
}

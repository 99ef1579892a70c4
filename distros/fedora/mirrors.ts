/**
 * A repo's mirrors when it has no baseurl of its own (Fedora's shipped .repo files use `metalink=`):
 * the metalink or mirrorlist is fetched once, at providers() time. It is a convenience, not a
 * requirement: an unreachable or unreadable list is a verbose note and no mirrors, never an error.
 */
import { httpRequest, readBodyCapped, redactUrl } from '../../src/fetch/http-client.js';
import { reasonOf } from '../../src/errors.js';
import type { Logger } from '../../src/ui/log.js';
import { looksLikeMetalink, parseMetalink, parseMirrorlist } from './metalink.js';
import { expandVars, type RepoConfig } from './repo-files.js';

export interface MirrorResolveOptions {
  log: Logger;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Default 1. */
  retries?: number;
  /** At most this many mirrors per repo; default 3. */
  max?: number;
  /** Substituted in mirrorlist lines (yum expands `$basearch` there too). */
  vars?: Record<string, string>;
  signal?: AbortSignal;
}

/** A metalink or mirrorlist is a few KiB to a few hundred; anything much bigger is not one. */
const MAX_BYTES = 4 << 20;

async function fetchText(url: string, opts: MirrorResolveOptions): Promise<string> {
  const res = await httpRequest(url, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 10_000, retries: opts.retries ?? 1 });
  if (res.status !== 200) {
    res.body.destroy();
    throw new Error(`HTTP ${res.status}`);
  }
  const body = await readBodyCapped(res.body, MAX_BYTES, () => new Error(`larger than ${MAX_BYTES} bytes`));
  return body.toString('utf8');
}

/** Base URLs (ending in `/`) from the repo's metalink, else its mirrorlist; [] when neither answers. */
export async function resolveRepoMirrors(repo: RepoConfig, opts: MirrorResolveOptions): Promise<string[]> {
  const max = opts.max ?? 3;
  for (const [kind, url] of [
    ['metalink', repo.metalink],
    ['mirrorlist', repo.mirrorlist],
  ] as const) {
    if (!url) continue;
    try {
      const text = await fetchText(url, opts);
      const bases = looksLikeMetalink(text)
        ? parseMetalink(text, redactUrl(url)).map((m) => m.base)
        : parseMirrorlist(opts.vars ? expandVars(text, opts.vars) : text);
      if (bases.length > 0) return bases.slice(0, max);
      opts.log.verbose(`repo ${repo.id} (${repo.source}): ${kind} ${redactUrl(url)} lists no http(s) mirrors`);
    } catch (e) {
      opts.log.verbose(`repo ${repo.id} (${repo.source}): ${kind} ${redactUrl(url)} not usable (${reasonOf(e)}); skipping it`);
    }
  }
  return [];
}

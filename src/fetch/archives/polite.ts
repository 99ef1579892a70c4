/**
 * HTTP for shared public archives, politely, over the shared client (src/fetch/http-client.ts):
 * at most a few requests in flight per archive host (a download holds its slot until its body is
 * read or dropped), 429/503 answered by waiting what `Retry-After` asks (up to the timeout), bodies
 * bounded as every download is (http-download.ts), and JSON answers kept in memory for the life of
 * the process. The snapshot archives answer a date with a redirect to the nearest earlier import,
 * which the shared client follows.
 */
import { PingetError } from '../../errors.js';
import { readBodyCapped, redactUrl } from '../http-client.js';
import { httpDownload, type DownloadOptions } from '../http-download.js';
import type { FetchBody } from '../types.js';
import type { Attempts } from './types.js';

/** Download options (timeouts, retries, bounds: http-download.ts); maxPerHost defaults to 2 here. */
export type PoliteOptions = Omit<DownloadOptions, 'headers'>;

export const DEFAULT_MAX_PER_HOST = 2;
const JSON_MAX_BYTES = 32 << 20;
const JSON_CACHE_MAX = 10_000;

/**
 * GET with politeness and retries; redirects are followed by the shared client. Resolves to the body
 * of a 2xx answer; NOT_FOUND for 404/410, UNAVAILABLE for everything else that fails.
 */
export function politeGet(url: string, opts: PoliteOptions): Promise<FetchBody> {
  return httpDownload(url, { ...opts, maxPerHost: opts.maxPerHost ?? DEFAULT_MAX_PER_HOST, headers: { 'user-agent': 'pinget' } });
}

const jsonCache = new Map<string, Promise<unknown>>();

/**
 * A JSON document, fetched once per process per URL (concurrent callers share one request).
 * A 404 is an answer and stays cached; other failures are forgotten so a later call tries again.
 */
export function politeJson(url: string, opts: PoliteOptions): Promise<unknown> {
  const hit = jsonCache.get(url);
  if (hit) return hit;
  const p = (async () => {
    const body = await politeGet(url, opts);
    const bytes = await readBodyCapped(
      body.stream,
      JSON_MAX_BYTES,
      () => new PingetError('UNAVAILABLE', `${redactUrl(url)}: answer larger than ${JSON_MAX_BYTES >> 20} MiB; not the archive's API`),
    );
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch (e) {
      throw new PingetError('UNAVAILABLE', `${redactUrl(url)}: the answer is not JSON (${(e as Error).message}); is the archive's base URL right?`);
    }
  })();
  p.catch((e) => {
    if (!(e instanceof PingetError && e.code === 'NOT_FOUND')) jsonCache.delete(url);
  });
  if (jsonCache.size >= JSON_CACHE_MAX) jsonCache.delete(jsonCache.keys().next().value as string);
  jsonCache.set(url, p);
  return p;
}

/**
 * A whole small document (a dated Release or Packages index), at most maxBytes; NOT_FOUND for 404/410.
 * Not cached here: the caller keeps what it needs for the run (indexes are large).
 */
export async function politeBytes(url: string, maxBytes: number, opts: PoliteOptions): Promise<Buffer> {
  const body = await politeGet(url, opts);
  if (body.size !== undefined && body.size > maxBytes) {
    body.stream.destroy();
    throw new PingetError('INTEGRITY', `${redactUrl(url)}: ${body.size} bytes, more than the ${maxBytes} expected`);
  }
  return readBodyCapped(body.stream, maxBytes, () => new PingetError('INTEGRITY', `${redactUrl(url)}: longer than the ${maxBytes} bytes expected`));
}

/** Forgets cached JSON (tests; a long-lived library user that wants fresh answers). */
export function clearJsonCache(): void {
  jsonCache.clear();
}

/** The first of urls (all under base) that serves, in order; each failure is noted in attempts. */
export async function firstServed(urls: string[], base: string, opts: PoliteOptions & { signal: AbortSignal }, attempts: Attempts): Promise<FetchBody | undefined> {
  for (const url of urls) {
    try {
      return await politeGet(url, opts);
    } catch (e) {
      if (opts.signal.aborted) throw e;
      attempts.add(url.slice(base.length + 1), e);
    }
  }
  return undefined;
}

/**
 * The IndexFetcher a resolver gets (src/distro/types.ts): signed release files straight from the source, every
 * file a verified document names through the fetch chain by its hash (the cache first, then each base URL), and
 * files no hash names (apk packages) through unpinned-files.ts.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { decompressStream } from '../decompress.js';
import { PingetError, reasonOf } from '../errors.js';
import { fetchAll } from '../fetch/chain.js';
import { politeBytes } from '../fetch/archives/polite.js';
import { httpLimits } from '../fetch/http-download.js';
import { redactUrl } from '../fetch/http-client.js';
import type { IndexFetcher } from '../distro/types.js';
import type { CommandContext } from './context.js';
import { closeProviders } from './plan.js';

export function indexFetcher(ctx: CommandContext, signal: AbortSignal): IndexFetcher {
  return {
    async document(urls, maxBytes) {
      const failures: string[] = [];
      let notFound = urls.length > 0;
      for (const url of urls) {
        try {
          return { url, data: await politeBytes(url, maxBytes, { ...httpLimits(ctx.providerContext), signal }) };
        } catch (e) {
          if (signal.aborted) throw e;
          notFound &&= e instanceof PingetError && e.code === 'NOT_FOUND';
          failures.push(`${redactUrl(url)}: ${reasonOf(e)}`);
        }
      }
      throw new PingetError(notFound ? 'NOT_FOUND' : 'UNAVAILABLE', `cannot fetch ${failures[0] ?? 'an index'}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`, { details: failures });
    },

    async files(all) {
      const { createProvider } = await import('../fetch/providers.js');
      const out = new Map<string, string>();
      const plainHit = async (t: (typeof all)[number]) => {
        if (!t.plain) return false;
        const hit = await ctx.cache.verifyBlob(t.plain.sha256);
        if (hit.state === 'hit') out.set(`${t.path}\0${t.sha256}`, hit.file);
        return hit.state === 'hit';
      };
      const hits = await Promise.all(all.map(plainHit));
      const targets = all.filter((_, i) => !hits[i]);
      // One chain per set of base URLs (a suite's mirrors); the cache is asked first by the chain itself.
      const groups = new Map<string, typeof targets>();
      for (const t of targets) {
        const key = t.bases.join('\n');
        (groups.get(key) ?? groups.set(key, []).get(key)!).push(t);
      }
      for (const [key, group] of groups) {
        const providers = key.split('\n').map((b) => createProvider(`${b}/{{.Name}}`, ctx.providerContext));
        try {
          const results = await fetchAll(
            group.map((t) => ({ path: t.path, sha256: t.sha256, headers: {} })),
            { cache: ctx.cache, providers, jobs: ctx.args.jobs, log: ctx.log, signal },
          );
          for (const r of results) out.set(`${r.target.path}\0${r.target.sha256}`, r.file);
          // Compressed indexes: decompressed once into the cache under the hash of their plain form.
          for (const t of group) {
            if (!t.plain) continue;
            const key = `${t.path}\0${t.sha256}`;
            const plain = await ctx.cache.ingest(t.plain.sha256, Readable.from(decompressStream(createReadStream(out.get(key)!), t.plain.compression)), signal).catch((e: unknown) => {
              throw new PingetError('INTEGRITY', `${t.path}: its decompressed form does not match the hash its release names (${reasonOf(e)})`, { cause: e });
            });
            out.set(key, plain);
          }
        } finally {
          await closeProviders(providers);
        }
      }
      return all.map((t) => out.get(`${t.path}\0${t.sha256}`)!);
    },

    async unpinned(targets) {
      return (await import('./unpinned-files.js')).fetchUnpinned(ctx, signal, targets);
    },
  };
}

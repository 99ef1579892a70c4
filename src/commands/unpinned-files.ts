/**
 * IndexFetcher.unpinned (src/distro/types.ts): files whose sha256 no document names (apk packages). Each is
 * downloaded from its bases in order into the cache under the hash its bytes turn out to have, and kept only when
 * the caller's check accepts it; a rejected blob leaves the cache again (unless it was there before). The hash
 * found is remembered under the target's key (`<cache>/resolver/unpinned/<sha256 of key>`) so that a later run
 * finds the blob in the cache; that memory is only a hint: the blob it names is re-hashed and checked again.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { PingetError, reasonOf, type ErrorCode } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import type { Provider } from '../fetch/types.js';
import type { IndexFetcher } from '../distro/types.js';
import type { CommandContext } from './context.js';
import { closeProviders } from './plan.js';

type Target = Parameters<IndexFetcher['unpinned']>[0][number];
interface Failure {
  path: string;
  code: ErrorCode;
  reason: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const isIntegrity = (e: unknown) => e instanceof PingetError && e.code === 'INTEGRITY';
/** The reason alone: a PingetError's message without the path it may start with. */
const why = (e: unknown, path: string) => (e instanceof PingetError ? e.message.replace(`${path}: `, '') : reasonOf(e));

export async function fetchUnpinned(ctx: CommandContext, signal: AbortSignal, targets: Target[]): Promise<{ sha256: string; file: string }[]> {
  const memory = join(ctx.cache.dir, 'resolver', 'unpinned');
  await mkdir(memory, { recursive: true });
  const providers = new Map<string, Provider>();
  // The provider modules (about 40) load on the first miss only: a warm run finds every file in the cache.
  let load: Promise<typeof import('../fetch/providers.js')> | undefined;
  const providerFor = async (base: string) => {
    const { createProvider } = await (load ??= import('../fetch/providers.js'));
    return providers.get(base) ?? providers.set(base, createProvider(`${base}/{{.Name}}`, ctx.providerContext)).get(base)!;
  };
  const failures: Failure[] = [];

  const remembered = async (t: Target, memo: string): Promise<{ sha256: string; file: string } | undefined> => {
    const known = (await readFile(memo, 'utf8').catch(() => '')).trim();
    if (!SHA256.test(known)) return undefined;
    const hit = await ctx.cache.verifyBlob(known);
    if (hit.state !== 'hit') return undefined;
    try {
      await t.check(hit.file);
      return { sha256: known, file: hit.file };
    } catch (e) {
      if (!isIntegrity(e)) throw e;
      ctx.log.verbose(`${t.path}: the cached blob ${known.slice(0, 12)}… is not it (${reasonOf(e)}); fetching it again`);
      return undefined;
    }
  };

  const one = async (t: Target): Promise<{ sha256: string; file: string } | undefined> => {
    const memo = join(memory, createHash('sha256').update(t.key).digest('hex'));
    const hit = await remembered(t, memo);
    if (hit) return hit;
    const mine: Failure[] = [];
    for (const base of t.bases) {
      signal.throwIfAborted();
      const provider = await providerFor(base);
      let stored: { sha256: string; file: string; existed: boolean };
      try {
        const body = await provider.open({ path: t.path, sha256: '', headers: {} }, signal);
        stored = await ctx.cache.ingestUnpinned(body.stream, signal);
      } catch (e) {
        if (signal.aborted) throw e;
        mine.push({ path: t.path, code: e instanceof PingetError ? e.code : 'UNAVAILABLE', reason: `${base}: ${why(e, t.path)}` });
        continue;
      }
      try {
        await t.check(stored.file);
      } catch (e) {
        if (!stored.existed) await ctx.cache.remove(stored.sha256);
        if (!isIntegrity(e)) throw e;
        const reason = `${base}: ${why(e, t.path)}`;
        if (base !== t.bases.at(-1)) ctx.log.warn(`${t.path}: ${reason}; trying the next source`);
        mine.push({ path: t.path, code: 'INTEGRITY', reason });
        continue;
      }
      // Only a hint for the next run: a cache that cannot keep it costs a download, not a wrong answer.
      await writeFileAtomic(memo, `${stored.sha256}\n`).catch((e: unknown) => ctx.log.verbose(`${memo}: ${reasonOf(e)}`));
      return { sha256: stored.sha256, file: stored.file };
    }
    failures.push(...(mine.length ? mine : [{ path: t.path, code: 'NOT_FOUND' as const, reason: 'no source to ask' }]));
    return undefined;
  };

  try {
    const limit = pLimit(Math.max(1, ctx.args.jobs));
    const settled = await Promise.allSettled(targets.map((t) => limit(() => one(t))));
    const crashed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (crashed) throw crashed.reason;
    if (failures.length === 0) return settled.map((s) => (s as PromiseFulfilledResult<{ sha256: string; file: string }>).value);
  } finally {
    await closeProviders([...providers.values()]);
  }
  // INTEGRITY when some source served wrong bytes, NOT_FOUND when none had the file, else UNAVAILABLE.
  const code: ErrorCode = failures.some((f) => f.code === 'INTEGRITY') ? 'INTEGRITY' : failures.every((f) => f.code === 'NOT_FOUND') ? 'NOT_FOUND' : 'UNAVAILABLE';
  const first = failures.find((f) => f.code === code) ?? failures[0];
  const paths = [...new Set(failures.map((f) => f.path))];
  throw new PingetError(code, `${first.path}: ${first.reason}${paths.length > 1 ? ` (and ${paths.length - 1} more file(s))` : ''}`, {
    details: failures.length > 1 ? failures.map((f) => `${f.path}: ${f.reason}`) : [],
  });
}

/** `--sources` for the commands that write lockfiles (hash generate, hash update, lock): the adapter's pinSources hook. */
import type { DistroAdapter, DistroInfo, SourcesRequest } from '../distro/types.js';
import type { LockEntry } from '../lockfile.js';
import { PingetError } from '../errors.js';
import type { CommandContext } from './context.js';

/** Why a distro has no source packages pinget can pin, in one true line (exit 2). */
const NO_SOURCES: Record<string, string> = {
  arch: "Arch Linux's repositories and the Arch Linux Archive hold binary packages and their signatures, no source packages to pin (each package's PKGBUILD is in Arch's git packaging repositories)",
  alpine: "Alpine and Wolfi publish no source packages (an Alpine package's APKBUILD is in the aports git repository, a Wolfi package's melange recipe in Wolfi's os repository, the upstream tarballs where those say)",
};

/** Refuses --sources before any work where the adapter cannot pin them. */
export function checkSourcesSupported(adapter: DistroAdapter): void {
  if (adapter.pinSources) return;
  throw new PingetError('USAGE', `--sources: ${NO_SOURCES[adapter.id] ?? `pinning source packages is not supported for ${adapter.id} yet`}; nothing to pin`);
}

/** The source lines of these binaries; index fetches go through the fetch chain and the cache. */
export async function pinSourcesFor(
  ctx: CommandContext,
  adapter: DistroAdapter,
  info: DistroInfo,
  binaries: LockEntry[],
  extra: Omit<SourcesRequest, 'info' | 'binaries' | 'archive' | 'log' | 'fetcher'> & { signal?: AbortSignal } = {},
): Promise<LockEntry[]> {
  checkSourcesSupported(adapter);
  // An unusable cache is exit 2 now, before the first request.
  await ctx.cache.prepare();
  const [{ indexFetcher }, { interruptSignal }] = await Promise.all([import('./index-fetcher.js'), import('../interrupt.js')]);
  const { signal, ...rest } = extra;
  const fetcher = indexFetcher(ctx, signal ?? interruptSignal());
  return adapter.pinSources!({ ...rest, info, binaries, fetcher, allowUnsigned: ctx.args['allow-unsigned'], archive: ctx.providerContext, log: ctx.log });
}

/** Runs the fetch chain for a set of targets with progress on a TTY; shared by install, download and cache push. */
import { fetchAll, type FetchOptions, type FetchResult } from '../fetch/chain.js';
import type { FetchTarget } from '../fetch/types.js';
import { interruptSignal } from '../interrupt.js';
import { progressEnabled } from '../ui/progress-enabled.js';
import type { CommandContext } from './context.js';
import { closeProviders, makeProviders, providerSpecs, type DistroChoice } from './plan.js';

/** `opts.sources`: the targets include source packages (the distro's source repositories are asked too). */
export async function fetchTargets(ctx: CommandContext, choice: DistroChoice | undefined, targets: FetchTarget[], headers: Record<string, string>, deliver?: FetchOptions['deliver'], opts: { sources?: boolean } = {}): Promise<FetchResult[]> {
  // An unusable cache is exit 2 now, before the first request, not a failure of every provider.
  await ctx.cache.prepare();
  const specs = await providerSpecs(ctx, choice, headers, opts);
  ctx.log.verbose(`providers: cache (${ctx.cache.dir}), ${specs.map((s) => s.template).join(', ') || 'none'}`);
  const providers = await makeProviders(ctx, specs);
  // cli-progress loads only when a display is drawn (a TTY, no --quiet or --json).
  const progress = progressEnabled(ctx.args) ? (await import('../ui/progress.js')).createProgress({ enabled: true, total: targets.length }) : undefined;
  const signal = interruptSignal();
  try {
    return await fetchAll(targets, {
      cache: ctx.cache,
      providers,
      jobs: ctx.args.jobs,
      log: ctx.log,
      signal,
      onProgress: progress?.onProgress,
      acceptMismatch: choice?.adapter.acceptMismatch ? (t, file) => choice.adapter.acceptMismatch!(t.path, file, t.headers) : undefined,
      deliver,
    });
  } finally {
    progress?.stop();
    await closeProviders(providers);
  }
}

export function summarize(results: FetchResult[]): { fromCache: number; fetched: number; bytes: number } {
  const fromCache = results.filter((r) => r.source === 'cache').length;
  return { fromCache, fetched: results.length - fromCache, bytes: results.reduce((n, r) => n + (r.source === 'cache' ? 0 : r.bytes), 0) };
}

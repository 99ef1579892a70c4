/** `pinget install`: fetch, verify, and hand the files to the distro's package manager in one transaction. */
import type { Argv, CommandModule } from 'yargs';
import pLimit from 'p-limit';
import { isPinnedVersion } from '../distro/version-compare.js';
import { nameList } from '../distro/missing.js';
import type { FetchTarget } from '../fetch/types.js';
import type { DistroAdapter, DistroInfo, PackageRef } from '../distro/types.js';
import type { Logger } from '../ui/log.js';
import { PingetError } from '../errors.js';
import { makeContext, printJson, warnUnsigned, withGlobalOptions, type CommandContext, type GlobalArgs } from './context.js';
import { buildDrift, withCachedFiles } from '../verify/deep.js';
import { fetchTargets, summarize } from './fetch-run.js';
import type { FetchResult } from '../fetch/chain.js';
import { ALLOW_EMPTY_HINT, chooseTarget, loadLockfiles, splitSources, targetsFor, type DistroChoice } from './plan.js';
import { checkPackageDbWritable } from './preflight.js';
import { interruptSignal } from '../interrupt.js';
import { warmHashPool } from '../verify/hash-pool.js';
import { formatBytes } from '../ui/units.js';
import { example } from './help-examples.js';

interface Args extends GlobalArgs {
  files: string[];
  reinstall: boolean;
  normalize: boolean;
  'allow-empty': boolean;
}

/** A fresh root (an empty directory with an os-release) has no package database yet: nothing is installed. */
async function installedOrNone(adapter: DistroAdapter, root: string, info: DistroInfo, log: Logger): Promise<PackageRef[]> {
  try {
    return await adapter.installed(root, info);
  } catch (e) {
    if (!(e instanceof PingetError) || e.code !== 'BAD_INPUT') throw e;
    log.verbose(`${root}: no package database yet (${e.message}); installing everything`);
    return [];
  }
}

/** Lockfile paths of packages installed at their pinned version but as another build (warned about). */
async function rebuiltOf(ctx: CommandContext, choice: DistroChoice, already: FetchTarget[], headers: Record<string, string>): Promise<Set<string>> {
  if (!choice.adapter.buildDrift || already.length === 0) return new Set();
  const pinned = await withCachedFiles(already.map((t) => ({ ref: t.ref!, entry: { path: t.path, sha256: t.sha256 } })), ctx.cache, ctx.log);
  const drift = await buildDrift(choice.adapter, ctx.args.root, choice.info, pinned, headers, ctx.log);
  if (drift.length === 1) {
    const [d] = drift;
    ctx.log.warn(`${d.ref.name} ${d.ref.version}: installed, but not the pinned build (${d.reason}); installing the pinned one`);
  } else if (drift.length > 1) {
    // One line for all (a rebuilt distro can differ in every package), each one's reason with --verbose.
    ctx.log.warn(`${drift.length} packages installed, but not the pinned builds: ${nameList(drift.map((d) => `${d.ref.name} ${d.ref.version}`))}; installing the pinned ones (each one's reason with --verbose)`);
    for (const d of drift) ctx.log.verbose(`  ${d.ref.name} ${d.ref.version}: ${d.reason}`);
  }
  return new Set(drift.map((d) => d.path));
}

/**
 * Hands the fetched files to `install`: from a shared cache, private re-hashed copies (Cache.forUse), which
 * are removed afterwards; from a private cache, the blobs themselves.
 */
async function installFiles<T>(ctx: CommandContext, results: FetchResult[], install: (files: { entry: { path: string; sha256: string }; file: string }[]) => Promise<T>): Promise<T> {
  const limit = pLimit(ctx.args.jobs);
  try {
    const files = await Promise.all(results.map((r) => limit(() => ctx.cache.forUse(r.target.sha256, r.file))));
    return await install(results.map((r, i) => ({ entry: { path: r.target.path, sha256: r.target.sha256 }, file: files[i] })));
  } finally {
    await ctx.cache.dispose();
  }
}

export const installCommand: CommandModule<object, Args> = {
  command: 'install <files..>',
  describe: "fetch, verify and install the lockfiles' packages with the distro's package manager",
  builder: (y: Argv) =>
    withGlobalOptions(
      y
        .positional('files', { type: 'string', describe: 'lockfiles (SHA256SUMS-<arch>); - reads stdin' })
        .example(example('$0 install SHA256SUMS-amd64', 'install what the lockfile pins into this system'))
        .example(example('$0 install SHA256SUMS-amd64 --root /mnt/image --provider-append oci://registry.local/mirror', 'into a mounted root, with one more provider'))
        .option('allow-empty', { type: 'boolean', default: false, describe: 'accept a lockfile without package lines' })
        .option('reinstall', { type: 'boolean', default: false, describe: 'install packages already present at the pinned version too' })
      .option('normalize', {
        type: 'boolean',
        default: false,
        describe: 'afterwards remove package-manager logs and caches and clamp mtimes to SOURCE_DATE_EPOCH (or the snapshot header)',
      }),
    ) as unknown as Argv<Args>,
  handler: async (args) => {
    // Installs are mostly cache hits, each re-hashed: the workers boot while the lockfile and root are read.
    warmHashPool();
    const ctx = makeContext(args);
    const lock = await loadLockfiles(args.files, { allowEmpty: args['allow-empty'], emptyHint: ALLOW_EMPTY_HINT });
    const choice = await chooseTarget(ctx, lock, args.files, true);
    const { adapter, info } = choice;
    await checkPackageDbWritable(adapter.id, args.root);
    if (args['allow-unsigned']) warnUnsigned(ctx.log, 'package signatures before installing');
    // What of the package manager's logs and caches the root had before: --normalize keeps those (no whiteouts).
    const normalize = args.normalize ? await import('../normalize.js') : undefined;
    const before = await normalize?.snapshotBeforeInstall(args.root, adapter.normalization);

    const installedRefs = await installedOrNone(adapter, args.root, info, ctx.log);
    const installed = new Map(installedRefs.map((r) => [`${r.name}:${r.arch}`, r.version]));
    // Source packages (`--sources` lines) are for download, never for the package manager.
    const { binaries, sources } = await splitSources(lock.entries, adapter);
    if (sources.length) ctx.log.verbose(`${sources.length} source package file(s) in the lockfile are not installed`);
    const targets = targetsFor(binaries, lock, adapter);
    const unknown = targets.filter((t) => !t.ref);
    const isInstalled = (t: FetchTarget) => {
      if (!t.ref) return false;
      const have = installed.get(`${t.ref.name}:${t.ref.arch}`);
      return have !== undefined && isPinnedVersion(adapter.pinnedVersion?.(t.ref, lock.headers) ?? t.ref.version, have);
    };
    let already = args.reinstall ? [] : targets.filter(isInstalled);
    const wanted = args.reinstall ? targets : targets.filter((t) => !isInstalled(t));
    // at the pinned version, but where the package database can tell: is it the pinned build?
    const rebuilt = await rebuiltOf(ctx, choice, already, lock.headers);
    if (rebuilt.size > 0) {
      already = already.filter((t) => !rebuilt.has(t.path));
      wanted.push(...targets.filter((t) => rebuilt.has(t.path)));
    }
    if (unknown.length > 0) ctx.log.verbose(`${unknown.length} lockfile paths are not ${adapter.id} packages; fetched and handed over as they are`);

    // Each file verified is handed to the adapter at once, so its reads overlap the hashing of the rest.
    const readAhead = adapter.readAhead && (async (r: FetchResult) => adapter.readAhead!(r.file, r.target.path));
    const results = wanted.length ? await fetchTargets(ctx, choice, wanted, lock.headers, readAhead) : [];
    interruptSignal().throwIfAborted();
    const report = results.length
      ? await installFiles(ctx, results, (files) =>
          adapter.install(
            files,
            args.root,
            info,
            // what is fetched is either not installed or another build of the pinned version: hand all of it over
            { reinstall: args.reinstall || rebuilt.size > 0, allowUnsigned: args['allow-unsigned'], installed: installedRefs, log: ctx.log },
          ),
        )
      : { installed: [], skipped: [] };
    const skipped = [...already.map((t) => t.ref!), ...report.skipped];
    await adapter.applyMarks?.(args.root, info, targets.flatMap((t) => (t.ref ? [t.ref] : [])), lock.headers, ctx.log);
    const normalized = await normalize?.normalizeRoot(args.root, adapter.normalization, lock.headers, ctx.log, before);

    const sum = summarize(results);
    if (args.json) printJson({ installed: report.installed, skipped, fetched: sum.fetched, fromCache: sum.fromCache, bytes: sum.bytes, normalized });
    else {
      ctx.log.info(
        `${report.installed.length} packages installed into ${args.root}, ${skipped.length} already at the pinned version` +
          (results.length ? ` (${sum.fetched} files fetched, ${formatBytes(sum.bytes)}; ${sum.fromCache} from the cache)` : ''),
      );
    }
  },
};

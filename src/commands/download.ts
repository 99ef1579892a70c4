/** `pinget download`: fetch and verify only; lays files out by lockfile path so `sha256sum -c` passes there. */
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { PingetError } from '../errors.js';
import { makeContext, printJson, withGlobalOptions, type GlobalArgs } from './context.js';
import { fetchTargets, summarize } from './fetch-run.js';
import { ALLOW_EMPTY_HINT, chooseTarget, loadLockfiles, splitSources, targetsFor } from './plan.js';
import { checkOutputDir, removeMade } from './preflight.js';
import { formatBytes } from '../ui/units.js';
import { OutputDir } from '../output-dir.js';
import { example } from './help-examples.js';

interface Args extends GlobalArgs {
  files: string[];
  output: string;
  copy: boolean;
  'allow-empty': boolean;
  sources: boolean;
}

export const downloadCommand: CommandModule<object, Args> = {
  command: 'download <files..>',
  describe: 'fetch and verify the files of lockfiles into a directory, laid out by their lockfile paths',
  builder: (y: Argv) =>
    withGlobalOptions(
      y
        .positional('files', { type: 'string', describe: 'lockfiles; - reads stdin' })
        .example(example('$0 download SHA256SUMS-amd64 -o pkgs && (cd pkgs && sha256sum -c ../SHA256SUMS-amd64)', 'fetch and check, without installing'))
        .example(example('$0 download SHA256SUMS-arm64 --distro debian -o pkgs', 'for another architecture than this system'))
        .option('output', { alias: 'o', type: 'string', requiresArg: true, default: '.', describe: 'directory to lay the files out in' })
        .option('copy', { type: 'boolean', default: false, describe: 'copy files out of the cache instead of hard-linking them' })
        .option('sources', { type: 'boolean', default: false, describe: 'also fetch the source packages the lockfile pins (hash generate --sources)' })
        .option('allow-empty', { type: 'boolean', default: false, describe: 'accept a lockfile without package lines' }),
    ) as unknown as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const lock = await loadLockfiles(args.files, { allowEmpty: args['allow-empty'], emptyHint: ALLOW_EMPTY_HINT });
    // No distro pinget knows, on the root or in the lockfile: only --provider can serve it.
    const choice = await chooseTarget(ctx, lock, args.files, false).catch((e) => {
      if (e instanceof PingetError && e.code === 'BAD_INPUT') return undefined;
      throw e;
    });
    const { binaries, sources } = await splitSources(lock.entries, choice?.adapter);
    if (sources.length && !args.sources) ctx.log.info(`leaving out ${sources.length} source package file(s); --sources fetches them too`);
    const entries = args.sources ? lock.entries : binaries;
    const withSources = args.sources && sources.length > 0;
    const out = resolve(args.output);
    const made = await checkOutputDir(out);
    let results;
    try {
      // Both places are checked before the first request: an unwritable -o or cache is exit 2 naming it.
      const dir = await OutputDir.open(out, { copy: args.copy, mayLink: (st) => ctx.cache.mayLink(st) }, made);
      try {
        await ctx.cache.prepare();
        results = await fetchTargets(ctx, choice, targetsFor(entries, lock, choice?.adapter), lock.headers, (r) => dir.place(r.file, r.target.sha256, r.target.path).then(() => {}), { sources: withSources });
        await dir.finish();
      } finally {
        await dir.close();
      }
    } catch (e) {
      // A failed download leaves no empty directories it made for -o.
      await removeMade(made);
      throw e;
    }
    const sum = summarize(results);
    if (args.json) printJson({ dir: out, files: results.map((r) => ({ path: r.target.path, sha256: r.target.sha256, source: r.source, bytes: r.bytes })) });
    else ctx.log.info(`${results.length} files verified in ${args.output} (${sum.fetched} fetched, ${formatBytes(sum.bytes)}; ${sum.fromCache} from the cache)`);
  },
};

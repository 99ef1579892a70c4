/** `pinget download`: fetch and verify only; lays files out by lockfile path so `sha256sum -c` passes there. */
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { makeContext, printJson, withGlobalOptions, type GlobalArgs } from './context.js';
import { fetchTargets, summarize } from './fetch-run.js';
import { chooseDistro, loadLockfiles, targetsFor } from './plan.js';
import { OutputDir } from '../output-dir.js';

interface Args extends GlobalArgs {
  files: string[];
  output: string;
  copy: boolean;
  'allow-empty': boolean;
}

export const downloadCommand: CommandModule<object, Args> = {
  command: 'download <files..>',
  describe: 'fetch and verify the files of lockfiles into a directory, laid out by their lockfile paths',
  builder: (y: Argv) =>
    withGlobalOptions(y)
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'lockfiles' })
      .option('output', { alias: 'o', type: 'string', default: '.', describe: 'directory to lay the files out in' })
      .option('copy', { type: 'boolean', default: false, describe: 'copy files out of the cache instead of hard-linking them' })
      .option('allow-empty', { type: 'boolean', default: false, describe: 'accept a lockfile without package lines' }) as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const lock = await loadLockfiles(args.files, { allowEmpty: args['allow-empty'] });
    const choice = await chooseDistro(ctx, lock).catch(() => undefined);
    const out = resolve(args.output);
    const dir = await OutputDir.open(out, { copy: args.copy });
    const results = await fetchTargets(ctx, choice, targetsFor(lock.entries, lock, choice?.adapter), lock.headers, (r) => dir.place(r.file, r.target.sha256, r.target.path).then(() => {}));
    const sum = summarize(results);
    if (args.json) printJson({ directory: out, files: results.map((r) => ({ path: r.target.path, sha256: r.target.sha256, source: r.source, bytes: r.bytes })) });
    else ctx.log.info(`${results.length} files verified in ${args.output} (${sum.fetched} fetched, ${(sum.bytes / 1e6).toFixed(1)} MB; ${sum.fromCache} from the cache)`);
  },
};

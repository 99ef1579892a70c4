/** `pinget hash generate`: the lockfile of what is installed. */
import type { Argv, CommandModule } from 'yargs';
import { dedupe, formatLockfile, makeLockfile } from '../lockfile.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { DEDUPE_BASE_HEADER, dedupeBaseValue } from '../dedupe-base.js';
import { restrictManual } from '../manual-marks.js';
import { LEFT_OUT_HEADER } from '../distro/missing.js';
import { PingetError } from '../errors.js';
import { makeContext, printJson, repeatable, warnUnsigned, withGlobalOptions, type GlobalArgs } from './context.js';
import { checkOutputFile, checkRootIs } from './preflight.js';
import { chooseDistro, detectRootDistro, loadLockfile } from './plan.js';
import { example } from './help-examples.js';
import { checkSourcesSupported, pinSourcesFor } from './pin-sources.js';


interface Args extends GlobalArgs {
  names?: string[];
  dedupe?: string[];
  output?: string;
  'allow-missing': boolean;
  offline: boolean;
  sources: boolean;
  image?: string;
}

export const hashGenerateCommand: CommandModule<object, Args> = {
  command: 'generate [names..]',
  describe: 'write the lockfile of the installed packages (or only NAMEs)',
  builder: (y: Argv) =>
    withGlobalOptions(
      y
        .positional('names', { type: 'string', describe: 'package names (default: all installed)' })
        .example(example('$0 hash generate > SHA256SUMS-amd64', 'pin every installed package'))
        .example(example('$0 hash generate gcc make --dedupe base.SHA256SUMS -o SHA256SUMS-amd64', 'only these, minus what the base image pins'))
        .example(example('$0 hash generate --image app.oci -o SHA256SUMS-amd64', 'pin an image without running it (an OCI layout or a docker/podman save archive)'))
        .option('dedupe', repeatable("drop entries already pinned in FILE (a base image's lockfile); repeatable"))
        .option('allow-missing', { type: 'boolean', default: false, describe: 'leave out, with a warning naming them, installed packages no index or cache can pin' })
        .option('offline', { type: 'boolean', default: false, describe: 'never ask a snapshot archive for versions the indexes no longer list' })
        .option('sources', { type: 'boolean', default: false, describe: "also pin the source packages of the pinned packages (Debian: each .dsc and its files, from the mirrors' signed Sources indexes; rpm: each .src.rpm, from the [*-source] repositories)" })
        .option('image', { type: 'string', requiresArg: true, describe: 'pin an image without running it: an OCI image layout DIR or a docker/podman save FILE' })
        .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'write to FILE (atomically) instead of stdout' }),
    ) as unknown as Argv<Args>,
  handler: async (args) => {
    if (!args.image) return generate(args);
    if (args.root !== '/') throw new PingetError('USAGE', '--image and --root name two systems; give one');
    const { withImageRoot } = await import('../image/index.js');
    await withImageRoot(args.image, makeContext(args).log, (root) => generate({ ...args, root }));
  },
};

async function generate(args: Args): Promise<void> {
  const ctx = makeContext(args);
  if (args.output) await checkOutputFile(args.output);
  const { adapter, info } = await chooseDistro(ctx, undefined, true);
  await checkRootIs(adapter, ctx.args.root, ctx.args.distro, () => detectRootDistro(ctx.args.root));
  if (args.sources) checkSourcesSupported(adapter);
  if (args['allow-unsigned']) warnUnsigned(ctx.log, `the signatures of ${adapter.id} indexes under ${args.root}`);
  const leftOut: string[] = [];
  const result = await adapter.generate(args.root, info, {
    only: args.names,
    allowUnsigned: args['allow-unsigned'],
    allowMissing: args['allow-missing'],
    leftOut,
    offline: args.offline,
    archive: ctx.providerContext,
    candidateProviders: [...(ctx.args.provider ?? []), ...(ctx.args['provider-append'] ?? [])],
    log: ctx.log,
  });
  if (args.sources) result.entries = [...result.entries, ...(await pinSourcesFor(ctx, adapter, info, result.entries, { root: args.root }))];
  const bases = await Promise.all((args.dedupe ?? []).map((f) => loadLockfile(f)));
  const entries = dedupe(result.entries, bases);
  const headers = restrictManual(result.headers, entries, (path) => adapter.inspect(path));
  const base = await dedupeBaseValue(args.dedupe ?? []);
  if (base) headers[DEDUPE_BASE_HEADER] = base;
  if (leftOut.length) headers[LEFT_OUT_HEADER] = [...new Set(leftOut)].sort().join(' ');
  const lock = makeLockfile(entries, headers);
  const text = formatLockfile(lock);
  if (args.output) {
    await writeFileAtomic(args.output, text);
    ctx.log.info(`wrote ${entries.length} entries to ${args.output}`);
  }
  if (args.json) printJson({ distro: info, headers: lock.headers, entries: lock.entries, dropped: result.entries.length - entries.length, file: args.output });
  else if (!args.output) process.stdout.write(text);
}

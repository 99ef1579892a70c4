/** `pinget hash update FILE`: re-pin the packages FILE names at their now-installed versions. */
import type { Argv, CommandModule } from 'yargs';
import { PingetError } from '../errors.js';
import { makeLockfile, formatLockfile } from '../lockfile.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { versionComparator } from '../distro/version-compare.js';
import { nameList, parseLeftOut, SHOWN_NAMES } from '../distro/missing.js';
import { makeContext, printJson, warnUnsigned, withGlobalOptions, type GlobalArgs } from './context.js';
import { chooseTarget, loadLockfile, splitSources } from './plan.js';
import { pinSourcesFor } from './pin-sources.js';
import { example } from './help-examples.js';

interface Args extends GlobalArgs {
  file: string;
  'dry-run': boolean;
}

export const hashUpdateCommand: CommandModule<object, Args> = {
  command: 'update <file>',
  describe: 'rewrite FILE with its packages re-pinned at the installed versions; prints the diff',
  builder: (y: Argv) =>
    withGlobalOptions(
      y
        .positional('file', { type: 'string', describe: 'the lockfile to rewrite' })
        .example(example('$0 hash update SHA256SUMS-amd64 --dry-run', 'show what re-pinning would change'))
        .option('dry-run', { type: 'boolean', default: false, describe: 'print the diff, do not rewrite FILE' }),
    ) as unknown as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const old = await loadLockfile(args.file);
    const { adapter, info } = await chooseTarget(ctx, old, [args.file], true);
    // Source lines (`--sources`) are pinned again for the updated binaries, as hash generate --sources pins them.
    const { binaries, sources } = await splitSources(old.entries, adapter);
    const names = [...new Set(binaries.map((e) => adapter.inspect(e.path)?.name).filter((n): n is string => !!n))];
    if (names.length === 0) throw new PingetError('BAD_INPUT', `${args.file}: no ${adapter.id} packages in it to update`);
    if (args['allow-unsigned']) warnUnsigned(ctx.log, `the signatures of ${adapter.id} indexes under ${args.root}`);
    const refs = await adapter.installed(args.root, info);
    const installed = new Set(refs.map((r) => r.name));
    const still = names.filter((n) => installed.has(n));
    const gone = names.filter((n) => !installed.has(n));
    if (gone.length) ctx.log.warn(`${gone.length} package(s) no longer installed, dropped from ${args.file}: ${nameList(gone)}`);
    if (gone.length > SHOWN_NAMES) ctx.log.verbose(`  dropped: ${gone.join(', ')}`);
    // update re-pins what FILE names; what was installed since stays unpinned: say so (--allow-missing's left-out ones aside)
    const pinnedNames = new Set(names);
    const leftOut = parseLeftOut(old.headers);
    const unpinned = [...new Set(refs.filter((r) => !pinnedNames.has(r.name) && !leftOut.has(`${r.name}:${r.arch}`)).map((r) => r.name))].sort();
    if (unpinned.length) ctx.log.warn(`${unpinned.length} installed package(s) are not in ${args.file} and stay unpinned (hash generate pins them): ${nameList(unpinned)}`);
    const result = still.length ? await adapter.generate(args.root, info, { only: still, allowUnsigned: args['allow-unsigned'], log: ctx.log }) : { entries: [], headers: {} };
    if (sources.length) result.entries = [...result.entries, ...(await pinSourcesFor(ctx, adapter, info, result.entries, { root: args.root }))];
    const updated = makeLockfile(result.entries, { ...old.headers, ...result.headers });
    for (const [sha, cid] of old.cids) updated.cids.set(sha, cid); // formatLockfile keeps those whose hash is still listed
    const [{ diffLockfiles }, { formatText }] = await Promise.all([import('../diff.js'), import('../ui/diff-format.js')]);
    const d = diffLockfiles(old, updated, { inspect: (p) => adapter.inspect(p), compare: versionComparator(adapter.id), sourceFile: (await adapter.sbomHooks?.())?.sourceFile });
    if (!args['dry-run']) await writeFileAtomic(args.file, formatLockfile(updated));
    if (args.json) printJson({ file: args.file, written: !args['dry-run'], diff: d });
    else process.stdout.write(formatText(d));
  },
};

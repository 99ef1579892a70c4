/** `pinget diff OLD NEW`: what changed between two lockfiles, per package, for pull-request review. */
import type { Argv, CommandModule } from 'yargs';
import { versionComparator } from '../distro/version-compare.js';
import { PingetError } from '../errors.js';
import { run } from '../exec.js';
import { emptyLockfile, parseLockfile, type Lockfile } from '../lockfile.js';
import { headerDistroId, loadLockfile } from './plan.js';
import { withOutputOptions } from './context.js';
import { example } from './help-examples.js';

interface Args {
  old: string;
  new: string;
  format: 'text' | 'markdown' | 'json';
  'exit-code': boolean;
  distro?: string;
  title?: string;
}

/** FILE, '-' (stdin), git:REV:PATH, or /dev/null for no lockfile (a file added or removed, as git diff shows it). */
export async function readSide(spec: string): Promise<Lockfile> {
  if (spec === '/dev/null') return emptyLockfile();
  const m = /^git:([^:]+):(.+)$/.exec(spec);
  // one side of a diff may be a lockfile that pins nothing yet
  if (!m) return loadLockfile(spec, { allowEmpty: true });
  const res = await run('git', ['show', `${m[1]}:${m[2]}`], { missingHint: 'install git' });
  if (res.code !== 0) throw new PingetError('BAD_INPUT', `${spec}: git cannot show ${m[2]} at ${m[1]}: ${res.stderr.trim().split('\n')[0]}`);
  return parseLockfile(res.stdout, spec);
}

export const diffCommand: CommandModule<object, Args> = {
  command: 'diff <old> <new>',
  describe: 'explain what changed between two lockfiles (FILE, - for stdin, or git:REV:PATH)',
  builder: (y: Argv) =>
    withOutputOptions(
      y
        .positional('old', { type: 'string', describe: 'the lockfile before: FILE, - (stdin) or git:REV:PATH' })
        .positional('new', { type: 'string', describe: 'the lockfile after: FILE, - (stdin) or git:REV:PATH' })
        .example(example('$0 diff git:origin/main:SHA256SUMS-amd64 SHA256SUMS-amd64', 'what a branch changes'))
        .example(example('$0 diff old new --format markdown --title "SHA256SUMS-arm64" > comment.md', 'a pull-request comment (at most 65,536 characters)'))
        .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text' as const, requiresArg: true, describe: 'text, markdown (for pull requests) or json (default: text)' })
        .option('title', { type: 'string', requiresArg: true, describe: 'markdown heading, to tell comments apart (default: "Lockfile changes")' })
        .option('exit-code', { type: 'boolean', default: false, describe: 'exit 1 when the lockfiles differ' })
        .option('distro', { type: 'string', requiresArg: true, describe: 'read paths as this distro (default: the lockfile header, else by path shape)' }),
    ) as unknown as Argv<Args>,
  handler: async (args) => {
    if ([args.old, args.new].every((s) => s === '-' || s === '/dev/stdin')) throw new PingetError('USAGE', 'only one side of diff can be - (stdin)');
    const [oldLock, newLock] = [await readSide(args.old), await readSide(args.new)];
    const { adapterById, adapterForPath, loadAdapter } = await import('../distro-registry.js');
    const id = args.distro ?? headerDistroId(newLock.headers) ?? headerDistroId(oldLock.headers);
    const preferred = id ? adapterById(id) : undefined;
    if (args.distro && !preferred) throw new PingetError('USAGE', `unknown distro "${args.distro}" for --distro`);
    const [{ diffLockfiles, isEmptyDiff }, { formatJson, formatMarkdown, formatText }] = await Promise.all([import('../diff.js'), import('../ui/diff-format.js')]);
    const first = newLock.entries[0] ?? oldLock.entries[0];
    const chosen = preferred ?? (first ? adapterForPath(first.path) : undefined);
    const adapterId = chosen?.id;
    const real = preferred ? await loadAdapter(preferred) : undefined;
    const sourceFile = (await chosen?.sbomHooks?.())?.sourceFile;
    const d = diffLockfiles(oldLock, newLock, {
      version: real?.pinnedVersion ? (ref, headers) => real.pinnedVersion!(ref, headers) : undefined,
      inspect: (path) => (preferred?.inspect(path) ?? adapterForPath(path)?.inspect(path)),
      sourceFile,
      compare: versionComparator(adapterId ?? 'debian'),
      // the id as named (ubuntu), not only its adapter's (debian): links and the security archive differ
      distro: (preferred ? id?.toLowerCase() : undefined) ?? adapterId,
    });
    const format = (args as { json?: boolean }).json ? 'json' : args.format;
    const text = format === 'json' ? formatJson(d) : format === 'markdown' ? formatMarkdown(d, { title: args.title }) : formatText(d);
    process.stdout.write(text);
    if (args['exit-code'] && !isEmptyDiff(d)) throw new PingetError('DRIFT', '');
  },
};

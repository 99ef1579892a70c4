/** `pinget diff OLD NEW`: what changed between two lockfiles, per package, for pull-request review. */
import type { Argv, CommandModule } from 'yargs';
import { adapterById, adapterForPath } from '../../distros/index.js';
import { versionComparator } from '../../distros/version-compare.js';
import { diffLockfiles, isEmptyDiff } from '../diff.js';
import { PingetError } from '../errors.js';
import { run } from '../exec.js';
import { parseLockfile, type Lockfile } from '../lockfile.js';
import { formatJson, formatMarkdown, formatText } from '../ui/diff-format.js';
import { headerDistroId, loadLockfile } from './plan.js';

interface Args {
  old: string;
  new: string;
  format: 'text' | 'markdown' | 'json';
  'exit-code': boolean;
  distro?: string;
}

/** FILE, '-' (stdin) or git:REV:PATH. */
export async function readSide(spec: string): Promise<Lockfile> {
  const m = /^git:([^:]+):(.+)$/.exec(spec);
  if (!m) return loadLockfile(spec);
  const res = await run('git', ['show', `${m[1]}:${m[2]}`], { missingHint: 'install git' });
  if (res.code !== 0) throw new PingetError('BAD_INPUT', `${spec}: git cannot show ${m[2]} at ${m[1]}: ${res.stderr.trim().split('\n')[0]}`);
  return parseLockfile(res.stdout, spec);
}

export const diffCommand: CommandModule<object, Args> = {
  command: 'diff <old> <new>',
  describe: 'explain what changed between two lockfiles (FILE, - for stdin, or git:REV:PATH)',
  builder: (y: Argv) =>
    y
      .positional('old', { type: 'string', demandOption: true })
      .positional('new', { type: 'string', demandOption: true })
      .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text' as const, describe: 'output format' })
      .option('exit-code', { type: 'boolean', default: false, describe: 'exit 1 when the lockfiles differ' })
      .option('distro', { type: 'string', describe: 'read paths as this distro (default: the lockfile header, else by path shape)' }) as unknown as Argv<Args>,
  handler: async (args) => {
    if ([args.old, args.new].every((s) => s === '-' || s === '/dev/stdin')) throw new PingetError('USAGE', 'only one side of diff can be - (stdin)');
    const [oldLock, newLock] = [await readSide(args.old), await readSide(args.new)];
    const id = args.distro ?? headerDistroId(newLock.headers) ?? headerDistroId(oldLock.headers);
    const preferred = id ? adapterById(id) : undefined;
    if (args.distro && !preferred) throw new PingetError('USAGE', `unknown distro "${args.distro}" for --distro`);
    const d = diffLockfiles(oldLock, newLock, {
      inspect: (path) => (preferred?.inspect(path) ?? adapterForPath(path)?.inspect(path)),
      compare: versionComparator(preferred?.id ?? (newLock.entries[0] ? adapterForPath(newLock.entries[0].path)?.id : undefined) ?? 'debian'),
    });
    const text = args.format === 'json' ? formatJson(d) : args.format === 'markdown' ? formatMarkdown(d) : formatText(d);
    process.stdout.write(text);
    if (args['exit-code'] && !isEmptyDiff(d)) throw new PingetError('DRIFT', '');
  },
};

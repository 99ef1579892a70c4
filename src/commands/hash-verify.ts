/** `pinget hash verify`: does this system still match the lockfile? */
import type { Argv, CommandModule } from 'yargs';
import { PingetError } from '../errors.js';
import type { PackageRef } from '../../distros/types.js';
import { isPinnedVersion } from '../../distros/version-compare.js';
import { makeContext, printJson, withGlobalOptions, type GlobalArgs } from './context.js';
import { chooseTarget, loadLockfiles } from './plan.js';

interface Args extends GlobalArgs {
  files: string[];
  'only-pinned': boolean;
}

export interface Drift {
  kind: 'missing' | 'changed' | 'unpinned';
  name: string;
  arch: string;
  pinned?: string;
  installed?: string;
}

const key = (r: { name: string; arch: string }) => `${r.name}:${r.arch}`;

/** Compares pinned packages with installed ones, by name and architecture. Pure. */
export function compareInstalled(pinned: PackageRef[], installed: PackageRef[], onlyPinned: boolean): Drift[] {
  const have = new Map(installed.map((r) => [key(r), r]));
  const want = new Map(pinned.map((r) => [key(r), r]));
  const drift: Drift[] = [];
  for (const [k, p] of want) {
    const i = have.get(k);
    if (!i) drift.push({ kind: 'missing', name: p.name, arch: p.arch, pinned: p.version });
    else if (!isPinnedVersion(p.version, i.version)) drift.push({ kind: 'changed', name: p.name, arch: p.arch, pinned: p.version, installed: i.version });
  }
  if (!onlyPinned) {
    for (const [k, i] of have) if (!want.has(k)) drift.push({ kind: 'unpinned', name: i.name, arch: i.arch, installed: i.version });
  }
  return drift.sort((a, b) => (a.name === b.name ? a.arch.localeCompare(b.arch) : a.name < b.name ? -1 : 1));
}

export const hashVerifyCommand: CommandModule<object, Args> = {
  command: 'verify <files..>',
  describe: 'check that the installed packages match the lockfile; lists drift, exit 1 if any',
  builder: (y: Argv) =>
    withGlobalOptions(
      y
        .positional('files', { type: 'string', describe: 'lockfiles; - reads stdin' })
        .example('$0 hash verify SHA256SUMS-amd64 --root rootfs', 'exit 1 when the unpacked image drifted from its lockfile')
        .option('only-pinned', { type: 'boolean', default: false, describe: 'ignore installed packages the lockfile does not pin' }),
    ) as unknown as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const lock = await loadLockfiles(args.files);
    const { adapter, info } = await chooseTarget(ctx, lock, args.files, true);
    const pinned: PackageRef[] = [];
    for (const e of lock.entries) {
      const ref = adapter.inspect(e.path);
      if (!ref) throw new PingetError('BAD_INPUT', `${args.files.join(', ')}: ${e.path} is not a ${adapter.id} package path`);
      pinned.push(ref);
    }
    const drift = compareInstalled(pinned, await adapter.installed(args.root, info), args['only-pinned']);
    if (args.json) printJson({ ok: drift.length === 0, pinned: pinned.length, drift });
    else if (drift.length === 0) ctx.log.info(`${args.root}: ${pinned.length} pinned packages, all installed at the pinned versions`);
    else {
      for (const d of drift) {
        const what =
          d.kind === 'missing' ? `pinned ${d.pinned}, not installed` : d.kind === 'changed' ? `pinned ${d.pinned}, installed ${d.installed}` : `installed ${d.installed}, not pinned`;
        process.stdout.write(`${d.kind.padEnd(8)} ${d.name}:${d.arch}  ${what}\n`);
      }
    }
    if (drift.length > 0) {
      throw new PingetError('DRIFT', `${drift.length} package${drift.length === 1 ? '' : 's'} differ from ${args.files.join(', ')}`);
    }
  },
};

/** `pinget hash verify`: does this system still match the lockfile? */
import type { Argv, CommandModule } from 'yargs';
import { PingetError } from '../errors.js';
import type { FileDrift, PackageRef } from '../distro/types.js';
import type { LockEntry } from '../lockfile.js';
import { buildDrift, deepVerify, withCachedFiles } from '../verify/deep.js';
import { isPinnedVersion } from '../distro/version-compare.js';
import { nameList, parseLeftOut } from '../distro/missing.js';
import { makeContext, printJson, withGlobalOptions, type GlobalArgs } from './context.js';
import { chooseTarget, loadLockfiles, splitSources } from './plan.js';
import { example } from './help-examples.js';

interface Args extends GlobalArgs {
  files: string[];
  'only-pinned': boolean;
  deep: boolean;
}

export interface Drift {
  kind: 'missing' | 'changed' | 'unpinned' | 'rebuilt';
  name: string;
  arch: string;
  pinned?: string;
  installed?: string;
  /** For `rebuilt`: how the installed build differs from the pinned one. */
  reason?: string;
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
        .example(example('$0 hash verify SHA256SUMS-amd64 --root rootfs', 'exit 1 when the unpacked image drifted from its lockfile'))
        .example(example('$0 hash verify SHA256SUMS-amd64 --deep', 'also check the installed files by content'))
        .option('only-pinned', { type: 'boolean', default: false, describe: 'ignore installed packages the lockfile does not pin' })
        .option('deep', {
          type: 'boolean',
          default: false,
          describe: "also check the installed files by content: the package database's digests, and the pinned package when it is in the cache",
        }),
    ) as unknown as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const lock = await loadLockfiles(args.files);
    const { adapter, info } = await chooseTarget(ctx, lock, args.files, true);
    const pinned: PackageRef[] = [];
    const entryOf = new Map<PackageRef, LockEntry>();
    // Source packages (`--sources` lines) are never installed: not drift.
    const { binaries } = await splitSources(lock.entries, adapter);
    for (const e of binaries) {
      const ref = adapter.inspect(e.path);
      // a detached signature pinned beside its package (Arch's `<file>.sig` lines) is not a package itself
      if (!ref && e.path.endsWith('.sig') && adapter.inspect(e.path.slice(0, -4))) continue;
      if (!ref) throw new PingetError('BAD_INPUT', `${args.files.join(', ')}: ${e.path} is not a ${adapter.id} package path`);
      pinned.push(ref);
      entryOf.set(ref, e);
    }
    // rpm lockfiles record epochs in a header (the path has none): compare E:V-R with E:V-R
    const withEpochs = adapter.pinnedVersion ? pinned.map((r) => ({ ...r, version: adapter.pinnedVersion!(r, lock.headers) })) : pinned;
    const all = compareInstalled(withEpochs, await adapter.installed(args.root, info), args['only-pinned']);
    // what --allow-missing left out on purpose (the lockfile's left-out header) is said once, not drift
    const leftOut = parseLeftOut(lock.headers);
    const intended = all.filter((d) => d.kind === 'unpinned' && leftOut.has(key(d)));
    const drift = all.filter((d) => !intended.includes(d));
    if (intended.length && !args.json) {
      ctx.log.info(`${intended.length} installed package(s) left out of the lockfile on purpose (--allow-missing): ${nameList(intended.map(key))}`);
    }
    // packages at their pinned version: is it the pinned build (where the database can tell), and with --deep, are its files intact?
    const off = new Set(drift.filter((d) => d.kind !== 'unpinned').map((d) => `${d.name}:${d.arch}`));
    const atPinRefs = pinned.filter((r) => !off.has(`${r.name}:${r.arch}`)).map((ref) => ({ ref, entry: entryOf.get(ref)! }));
    const atPin = args.deep || adapter.buildDrift ? await withCachedFiles(atPinRefs, ctx.cache, ctx.log) : atPinRefs;
    for (const b of await buildDrift(adapter, args.root, info, atPin, lock.headers, ctx.log)) {
      drift.push({ kind: 'rebuilt', name: b.ref.name, arch: b.ref.arch, pinned: b.ref.version, installed: b.ref.version, reason: b.reason });
    }
    const files: FileDrift[] = args.deep ? await deepVerify(adapter, args.root, info, atPin, ctx.log) : [];
    if (args.json) printJson({ ok: drift.length === 0 && files.length === 0, pinned: pinned.length, drift, leftOut: intended.map(key), ...(args.deep ? { files } : {}) });
    else if (drift.length === 0 && files.length === 0) {
      ctx.log.info(`${args.root}: ${pinned.length} pinned packages, all installed at the pinned versions${args.deep ? ', their files unchanged' : ''}`);
    } else {
      for (const f of files) process.stdout.write(`${'file'.padEnd(8)} ${f.package}  ${f.path}: ${f.reason}\n`);
      for (const d of drift) {
        const what =
          d.kind === 'missing'
            ? `pinned ${d.pinned}, not installed`
            : d.kind === 'changed'
              ? `pinned ${d.pinned}, installed ${d.installed}`
              : d.kind === 'rebuilt'
                ? `${d.pinned} installed, but not the pinned build: ${d.reason}`
                : `installed ${d.installed}, not pinned`;
        process.stdout.write(`${d.kind.padEnd(8)} ${d.name}:${d.arch}  ${what}\n`);
      }
    }
    if (drift.length > 0 || files.length > 0) {
      const what = [
        ...(drift.length ? [`${drift.length} package${drift.length === 1 ? '' : 's'}`] : []),
        ...(files.length ? [`${files.length} installed file${files.length === 1 ? '' : 's'} (${files.slice(0, 3).map((f) => f.path).join(', ')}${files.length > 3 ? ', ...' : ''})`] : []),
      ];
      throw new PingetError('DRIFT', `${what.join(' and ')} differ from ${args.files.join(', ')}`);
    }
  },
};

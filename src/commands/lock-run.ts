/**
 * `pinget lock`: the base (a root, an image, or an empty system of a release), the architectures and outputs,
 * then for each architecture the adapter's resolver in a scratch directory that is always removed; files are
 * written only when every architecture resolved. `--update` re-resolves what a lockfile's `lock` header asked for.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEDUPE_BASE_HEADER, dedupeBaseValue } from '../dedupe-base.js';
import { PingetError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { interruptSignal } from '../interrupt.js';
import { dedupe, formatLockfile, makeLockfile, type Lockfile } from '../lockfile.js';
import { restrictManual } from '../manual-marks.js';
import type { DistroAdapter, EmptyBase, ResolveResult } from '../distro/types.js';
import { makeContext, printJson, warnUnsigned, type CommandContext } from './context.js';
import { indexFetcher } from './index-fetcher.js';
import { lockRequest, parseLockRequest, LOCK_HEADER, type LockRequest } from './lock-request.js';
import { lockOutputs, parseSnapshot, readNameFile, type LockArgs } from './lock-inputs.js';
import { checkOutputFile } from './preflight.js';
import { checkSourcesSupported, pinSourcesFor } from './pin-sources.js';
import { loadLockfile } from './plan.js';
import { warmHashPool } from '../verify/hash-pool.js';

type Base = { root: string } | { empty: EmptyBase };

const HOST_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64' };
/** The machine's name as pacman and rpm spell it (uname -m), for the distros that do. */
const MACHINE: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
const DPKG_NAMED = new Set(['debian', 'ubuntu']);

async function resolverFor(ctx: CommandContext, base: Base, distroId: string | undefined): Promise<DistroAdapter> {
  const { adapterById, detectDistro, loadAdapter, unknownDistro } = await import('../distro-registry.js');
  let adapter: DistroAdapter | undefined;
  if ('root' in base) adapter = (await detectDistro(base.root, distroId)).adapter;
  else {
    adapter = adapterById(base.empty.osId);
    if (!adapter) throw unknownDistro(base.empty.osId, '--distro');
  }
  const real = await loadAdapter(adapter);
  if (!real.resolve) throw new PingetError('USAGE', `lock does not resolve ${adapter.id} packages yet; pin an image built with its package manager with \`pinget hash generate\``);
  return real;
}

async function archesFor(args: LockArgs, adapter: DistroAdapter, base: Base, fromLock?: Lockfile): Promise<string[]> {
  if (args.arch) {
    const list = [...new Set(args.arch.split(',').map((a) => a.trim()).filter(Boolean))];
    // `_` for pacman's and rpm's names (x86_64); Debian's have none.
    const bad = list.filter((a) => !/^[a-z0-9][a-z0-9_-]*$/.test(a));
    if (list.length === 0 || bad.length) throw new PingetError('USAGE', `--arch: not an architecture list: "${args.arch}"`);
    return list;
  }
  const header = fromLock?.headers.distro?.trim().split(/\s+/).pop();
  if (header) return [header];
  const native = 'root' in base ? await adapter.nativeArch?.(base.root) : undefined;
  const arch = native ?? (DPKG_NAMED.has(adapter.id) ? HOST_ARCH : MACHINE)[process.arch];
  if (!arch) throw new PingetError('USAGE', 'cannot tell the architecture to resolve for; pass --arch');
  return [arch];
}

function finish(result: ResolveResult, bases: Lockfile[], adapter: DistroAdapter, request: LockRequest, dedupeBase: string | undefined): Lockfile {
  const entries = dedupe(result.entries, bases);
  const headers = restrictManual({ ...result.headers, [LOCK_HEADER]: lockRequest(request) }, entries, (p) => adapter.inspect(p));
  if (dedupeBase) headers[DEDUPE_BASE_HEADER] = dedupeBase;
  return makeLockfile(entries, headers);
}

async function withBase<T>(args: LockArgs, ctx: CommandContext, request: LockRequest, fn: (base: Base) => Promise<T>): Promise<T> {
  if (request.empty) {
    if (args.image || args.root !== '/') throw new PingetError('USAGE', '--distro NAME:RELEASE starts from an empty system; it takes no --root or --image');
    return fn({ empty: { ...request.empty, mirrors: args.mirror ?? [], keyrings: args.keyring ?? [] } });
  }
  if (args.mirror?.length) throw new PingetError('USAGE', '--mirror goes with --distro NAME:RELEASE; a base root or image brings its own apt sources');
  if (args.keyring?.length) throw new PingetError('USAGE', '--keyring goes with --distro NAME:RELEASE; a base root or image brings its own keys');
  if (!args.image) {
    if (!(await stat(args.root).catch(() => undefined))?.isDirectory()) throw new PingetError('USAGE', `--root ${args.root}: no such directory`);
    return fn({ root: args.root });
  }
  if (args.root !== '/') throw new PingetError('USAGE', '--image and --root name two bases; give one');
  const { withImageRoot } = await import('../image/index.js');
  return withImageRoot(args.image, ctx.log, (root) => fn({ root }));
}

export async function runLock(args: LockArgs): Promise<void> {
  const ctx = makeContext(args);
  const signal = interruptSignal();
  const old = args.update ? await loadLockfile(args.update) : undefined;
  if (old && (args.names?.length || args.file)) throw new PingetError('USAGE', '--update re-resolves the names the lockfile was made from; give no names with it');
  const request: LockRequest = old
    ? parseLockRequest(old.headers, args.update!)
    : {
        names: [...(args.names ?? []), ...(args.file ? await readNameFile(args.file) : [])],
        recommends: args['install-recommends'],
        targetRelease: args['target-release'],
        ...(args.sources ? { sources: true } : {}),
        empty: parseEmptyDistro(args.distro),
      };
  if (request.names.length === 0 && !request.empty) throw new PingetError('USAGE', 'name the packages to lock (or -f FILE)');
  const snapshot = args.snapshot ? parseSnapshot(args.snapshot) : undefined;
  const bases = await Promise.all((args.dedupe ?? []).map((f) => loadLockfile(f)));
  const dedupeBase = await dedupeBaseValue(args.dedupe ?? []);

  const locks = await withBase(args, ctx, request, async (base) => {
    const adapter = await resolverFor(ctx, base, request.empty ? undefined : args.distro);
    if (request.sources) checkSourcesSupported(adapter);
    const arches = await archesFor(args, adapter, base, old);
    const outputs = old ? [args.update!] : await lockOutputs(args.output, arches);
    for (const o of outputs) if (o !== undefined) await checkOutputFile(o);
    // The indexes go through the cache: an unusable one is exit 2 now, before the first request.
    await ctx.cache.prepare();
    if (args['allow-unsigned']) warnUnsigned(ctx.log, `the signatures of the ${adapter.id} indexes lock reads`);
    const fetcher = indexFetcher(ctx, signal);
    // Cached indexes are re-hashed on the pool's workers: booting them overlaps the resolver's work.
    if (adapter.lockHashWorkers !== false) warmHashPool();
    const out: { arch: string; file?: string; lock: Lockfile; result: ResolveResult }[] = [];
    for (const [i, arch] of arches.entries()) {
      const scratch = await mkdtemp(join(tmpdir(), `pinget-lock-${process.pid}-`));
      try {
        const result = await adapter.resolve!({
          names: request.names,
          arch,
          base,
          recommends: request.recommends,
          targetRelease: request.targetRelease,
          snapshot,
          allowUnsigned: args['allow-unsigned'],
          fetcher,
          archive: ctx.providerContext,
          sources: request.sources,
          scratch,
          stateRoot: join(ctx.cache.dir, 'resolver'),
          log: ctx.log,
          signal,
        });
        if (request.sources) {
          const info = { id: adapter.id, osId: request.empty?.osId ?? adapter.id, idLike: [], arch };
          const where = 'root' in base ? { root: base.root } : { empty: base.empty };
          const pinned = await pinSourcesFor(ctx, adapter, info, result.entries, { ...where, sources: result.sources, snapshot, signal });
          result.entries = [...result.entries, ...pinned];
        }
        out.push({ arch, file: outputs[i], lock: finish(result, bases, adapter, request, dedupeBase), result });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    }
    return { adapter, out };
  });

  if (old) return finishUpdate(args, ctx, old, locks.out[0].lock, locks.adapter);
  for (const { file, lock } of locks.out) {
    if (!file) continue;
    await writeFileAtomic(file, formatLockfile(lock));
    ctx.log.info(`wrote ${lock.entries.length} entries to ${file}`);
  }
  if (args.json) printJson({ files: locks.out.map(({ arch, file, lock, result }) => ({ arch, file, headers: lock.headers, entries: lock.entries, packages: result.packages })) });
  else if (!args.output) process.stdout.write(formatLockfile(locks.out[0].lock));
}

function parseEmptyDistro(value: string | undefined): { osId: string; release: string } | undefined {
  if (!value?.includes(':')) return undefined;
  const [osId, release] = value.split(':');
  if (!/^[a-z]+$/.test(osId) || !/^[a-z0-9][a-z0-9.-]*$/.test(release ?? '')) throw new PingetError('USAGE', `--distro ${value}: expected NAME:RELEASE, e.g. debian:bookworm or ubuntu:noble`);
  return { osId, release };
}

async function finishUpdate(args: LockArgs, ctx: CommandContext, old: Lockfile, updated: Lockfile, adapter: DistroAdapter): Promise<void> {
  for (const [sha, cid] of old.cids) updated.cids.set(sha, cid);
  const before = await readFile(args.update!, 'utf8');
  const after = formatLockfile(updated);
  const [{ diffLockfiles }, { formatText }, { versionComparator }] = await Promise.all([import('../diff.js'), import('../ui/diff-format.js'), import('../distro/version-compare.js')]);
  const d = diffLockfiles(old, updated, { inspect: (p) => adapter.inspect(p), compare: versionComparator(adapter.id), sourceFile: (await adapter.sbomHooks?.())?.sourceFile });
  const changed = before !== after;
  if (changed) await writeFileAtomic(args.update!, after);
  if (args.json) printJson({ file: args.update, changed, diff: d });
  else if (changed) process.stdout.write(formatText(d));
  ctx.log.info(changed ? `${args.update}: updated` : `${args.update}: unchanged`);
  if (changed) throw new PingetError('DRIFT', '');
}

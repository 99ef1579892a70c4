/** What install, download, providers and cache push share: lockfiles in, distro, provider chain, fetch targets. */
import type { DistroAdapter, DistroInfo, ProviderSpec } from '../distro/types.js';
import { PingetError } from '../errors.js';
import { readLockfile, type LockEntry, type Lockfile, type ParseOptions } from '../lockfile.js';
import type { FetchTarget, Provider } from '../fetch/types.js';
import type { CommandContext } from './context.js';
import { readOsRelease } from '../distro/os-release.js';
import { checkLockfileTarget } from './preflight.js';

/** For the commands that have `--allow-empty`. */
export const ALLOW_EMPTY_HINT = 'pass --allow-empty if that is meant';

// The adapters, archives and provider modules load when a command needs them, not for --help.
const distros = () => import('../distro-registry.js');

/** The distro of a root by its os-release alone (no --distro). */
export const detectRootDistro = async (root: string) => (await distros()).detectDistro(root);

/** Reads one lockfile; '-' is stdin. */
export function loadLockfile(file: string, opts: ParseOptions = {}): Promise<Lockfile> {
  const stdin = file === '-' || file === '/dev/stdin';
  return stdin ? readLockfile('<stdin>', { ...opts, source: process.stdin }) : readLockfile(file, opts);
}

/** Reads and merges lockfiles; the same path with two hashes across files is an error. */
export async function loadLockfiles(files: string[], opts: ParseOptions = {}): Promise<Lockfile> {
  const merged: Lockfile = { headers: {}, entries: [], cids: new Map() };
  const seen = new Map<string, { sha256: string; file: string }>();
  for (const file of files) {
    const lock = await loadLockfile(file, opts);
    for (const [k, v] of Object.entries(lock.headers)) merged.headers[k] ??= v;
    for (const [sha, cid] of lock.cids) merged.cids.set(sha, cid);
    for (const e of lock.entries) {
      const prev = seen.get(e.path);
      if (prev && prev.sha256 !== e.sha256) {
        throw new PingetError('BAD_INPUT', `${file}: ${e.path} has a different hash than in ${prev.file}; the lockfiles disagree`);
      }
      if (!prev) {
        seen.set(e.path, { sha256: e.sha256, file });
        merged.entries.push(e);
      }
    }
  }
  return merged;
}

/** The distro id a lockfile's `distro` header names (`debian 12 (bookworm) amd64` -> debian). */
export function headerDistroId(headers: Record<string, string>): string | undefined {
  return headers.distro?.split(/\s+/)[0]?.toLowerCase() || undefined;
}

export interface DistroChoice {
  adapter: DistroAdapter;
  info: DistroInfo;
  /** False when the target is not the root's own system: the root's configured mirrors do not apply. */
  rootMirrors?: boolean;
}

/**
 * The adapter for a lockfile. --distro wins. Commands that change a root (install, hash ...) use the
 * root's os-release; the others (diff, cache push) follow the lockfile — its distro header, else the
 * shape of its paths — and fall back to the root.
 */
export async function chooseDistro(ctx: CommandContext, lock?: Lockfile, requireRoot = false): Promise<DistroChoice> {
  if (ctx.args.distro || requireRoot || !lock) return (await distros()).detectDistro(ctx.args.root, ctx.args.distro);
  return followLockfile(ctx, lock);
}

async function followLockfile(ctx: CommandContext, lock: Lockfile): Promise<DistroChoice> {
  const { adapterById, adapterForPath, detectDistro } = await distros();
  const id = headerDistroId(lock.headers);
  const adapter = (id && adapterById(id)) || (lock.entries[0] && adapterForPath(lock.entries[0].path));
  if (!adapter) return detectDistro(ctx.args.root);
  const onRoot = await adapter.detect(ctx.args.root);
  return { adapter, info: onRoot ?? { id: adapter.id, osId: id ?? adapter.id, idLike: [] }, rootMirrors: !!onRoot };
}

/**
 * The system a lockfile is fetched for, checked against the lockfile's distro header before anything is
 * fetched: install, download, providers and hash verify all come here, so `providers FILE` shows the chain
 * `install FILE` uses. The target is the root (its os-release), or --distro. `download` (installsHere
 * false) on a root pinget cannot read follows the lockfile, and with --distro skips the arch check.
 */
export async function chooseTarget(ctx: CommandContext, lock: Lockfile | undefined, files: string[], installsHere: boolean): Promise<DistroChoice> {
  const forced = ctx.args.distro;
  let detected: DistroChoice;
  try {
    detected = await (await distros()).detectDistro(ctx.args.root, forced);
  } catch (e) {
    if (installsHere || forced || !lock || !(e instanceof PingetError) || e.code !== 'BAD_INPUT') throw e;
    return followLockfile(ctx, lock);
  }
  const rootOs = (await readOsRelease(ctx.args.root).catch(() => undefined))?.ID?.toLowerCase();
  const sameSystem = !forced || forced.toLowerCase() === rootOs;
  const info: DistroInfo = sameSystem ? detected.info : { id: detected.adapter.id, osId: forced!.toLowerCase(), idLike: [] };
  if (lock) {
    checkLockfileTarget({
      files,
      headers: lock.headers,
      root: ctx.args.root,
      info,
      targetId: forced ?? info.osId,
      forced: !!forced,
      checkArch: sameSystem && (installsHere || !forced),
      mayTargetOther: !installsHere,
    });
  }
  return { adapter: detected.adapter, info, rootMirrors: sameSystem };
}

/** The provider specs in order: --provider replaces the default (mirrors, then archives); --provider-append adds. */
export async function providerSpecs(ctx: CommandContext, choice: DistroChoice | undefined, headers: Record<string, string>, opts: { sources?: boolean } = {}): Promise<ProviderSpec[]> {
  const specs: ProviderSpec[] = [];
  if (ctx.args.provider && ctx.args.provider.length > 0) {
    specs.push(...ctx.args.provider.map((template) => ({ template })));
  } else if (choice) {
    if (choice.rootMirrors !== false) specs.push(...(await choice.adapter.providers(ctx.args.root, choice.info, headers, { log: ctx.log, sources: opts.sources })));
    const { archiveDistro, archiveProviders } = await import('../fetch/archives/index.js');
    specs.push(...archiveProviders(archiveDistro(choice.info), headers, ctx.providerContext.archiveUrls));
  }
  specs.push(...(ctx.args['provider-append'] ?? []).map((template) => ({ template })));
  const unique = new Map<string, ProviderSpec>();
  for (const s of specs) if (!unique.has(s.template)) unique.set(s.template, s);
  return [...unique.values()];
}

export async function makeProviders(ctx: CommandContext, specs: ProviderSpec[]): Promise<Provider[]> {
  const [{ ADAPTERS }, { createProvider }] = await Promise.all([distros(), import('../fetch/providers.js')]);
  const distroFactories = ADAPTERS.flatMap((a) => a.providerFactories ?? []);
  return specs.map((s) => createProvider(s.template, ctx.providerContext, distroFactories));
}

export function targetsFor(entries: LockEntry[], lock: Lockfile, adapter?: DistroAdapter): FetchTarget[] {
  return entries.map((e) => ({
    path: e.path,
    sha256: e.sha256,
    cid: lock.cids.get(e.sha256),
    ref: adapter?.inspect(e.path),
    headers: lock.headers,
  }));
}

/** Lockfile entries split into binaries and source-package files (`--sources` lines), as the adapter tells them. */
export async function splitSources(entries: LockEntry[], adapter?: DistroAdapter): Promise<{ binaries: LockEntry[]; sources: LockEntry[] }> {
  const hooks = await adapter?.sbomHooks?.();
  if (!hooks?.sourceFile) return { binaries: entries, sources: [] };
  const sources = entries.filter((e) => hooks.sourceFile!(e.path));
  return { binaries: sources.length ? entries.filter((e) => !hooks.sourceFile!(e.path)) : entries, sources };
}

export async function closeProviders(providers: Provider[]): Promise<void> {
  await Promise.allSettled(providers.map((p) => p.close?.()));
}

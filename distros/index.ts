/**
 * Detection from <root>/etc/os-release, and the registry of adapters.
 *
 * An adapter's code (and what it pulls in: openpgp, the XML parser, tar readers ...) is loaded only when that
 * adapter is used: the registry holds light stand-ins that know the adapter's id, the os-release IDs it claims
 * and its (pure) lockfile path parser, and load the real adapter on the first call that needs it.
 */
import { stat } from 'node:fs/promises';
import { PingetError } from '../src/errors.js';
import type { ProviderFactory } from '../src/fetch/types.js';
import type { DistroAdapter, DistroInfo, InspectedFile, PackageRef } from '../src/distro/types.js';
import type { SbomHooks } from '../src/distro/sbom-types.js';
import { inFamily, osIds, readOsRelease, type OsRelease } from '../src/distro/os-release.js';
import { FAMILY as FEDORA } from './fedora/family.js';
import { FAMILY as ARCH } from './arch/family.js';
import { FAMILY as ALPINE } from './alpine/family.js';
import { FAMILY as DEBIAN } from './debian/family.js';
import { inspectDebPath } from './debian/pool-path.js';
import { inspectKojiPath } from './fedora/nevra.js';
import { inspectArchPath } from './arch/paths.js';
import { inspectApkPath } from './alpine/paths.js';

interface AdapterEntry {
  id: string;
  /** os-release ID / ID_LIKE values the adapter's detect() accepts (its own list, which detect() reads too). */
  family: readonly string[];
  inspect(path: string): PackageRef | undefined;
  /** Package files of this distro start with these bytes; inspectFile reads one (its code loads on use). */
  fileMagic?: Uint8Array;
  inspectFile?(file: string): Promise<InspectedFile | undefined>;
  /** Its purls and source packages for `pinget sbom` (a small pure module, loaded on use). */
  sbom(): Promise<SbomHooks>;
  load(): Promise<DistroAdapter>;
}

// One line per adapter; order matters only when two could claim the same os-release.
const ENTRIES: AdapterEntry[] = [
  {
    id: 'fedora',
    family: FEDORA,
    inspect: inspectKojiPath,
    fileMagic: Uint8Array.of(0xed, 0xab, 0xee, 0xdb),
    inspectFile: async (file) => (await import('./fedora/inspect-file.js')).inspectRpmFile(file),
    sbom: async () => (await import('./fedora/sbom.js')).fedoraSbom,
    load: async () => (await import('./fedora/index.js')).fedoraAdapter },
  { id: 'arch', family: ARCH, inspect: inspectArchPath, sbom: async () => (await import('./arch/sbom.js')).archSbom, load: async () => (await import('./arch/index.js')).archAdapter },
  {
    id: 'alpine',
    family: ALPINE,
    inspect(path) {
      const ref = inspectApkPath(path);
      return ref && { name: ref.name, version: ref.version, arch: ref.arch };
    },
    sbom: async () => (await import('./alpine/sbom.js')).alpineSbom,
    load: async () => (await import('./alpine/index.js')).alpineAdapter,
  },
  {
    id: 'debian',
    family: DEBIAN,
    inspect: inspectDebPath,
    fileMagic: new TextEncoder().encode('!<arch>'),
    inspectFile: async (file) => (await import('./debian/inspect-file.js')).inspectDebFile(file),
    sbom: async () => (await import('./debian/sbom.js')).debianSbom,
    load: async () => (await import('./debian/index.js')).debianAdapter },
];

const LOADERS = new Map<string, () => Promise<DistroAdapter>>();

/** The real adapter behind a stand-in, loaded now (for the optional hooks a command needs before detect()). */
export function loadAdapter(adapter: DistroAdapter): Promise<DistroAdapter> {
  const load = LOADERS.get(adapter.id);
  if (!load) throw new PingetError('INTERNAL', `no adapter ${adapter.id}`);
  return load();
}

/** A stand-in that loads the real adapter on first use; `providerFactories` are those of a loaded adapter. */
function lazyAdapter(entry: AdapterEntry): DistroAdapter {
  let loaded: DistroAdapter | undefined;
  let loading: Promise<DistroAdapter> | undefined;
  const real = async () => (loaded ??= await (loading ??= entry.load()));
  LOADERS.set(entry.id, real);
  const adapter: DistroAdapter = {
    id: entry.id,
    inspect: entry.inspect,
    fileMagic: entry.fileMagic,
    inspectFile: entry.inspectFile,
    sbomHooks: entry.sbom,
    // Every command that builds providers has chosen (so loaded) its adapter first: chooseDistro calls detect().
    get providerFactories(): ProviderFactory[] | undefined {
      return loaded?.providerFactories;
    },
    detect: async (root) => (await real()).detect(root),
    generate: async (root, info, opts) => (await real()).generate(root, info, opts),
    installed: async (root, info) => (await real()).installed(root, info),
    providers: async (root, info, headers, opts) => (await real()).providers(root, info, headers, opts),
    install: async (files, root, info, opts) => (await real()).install(files, root, info, opts),
  };
  // The optional methods (acceptMismatch, applyMarks, verifyFiles, buildDrift ...) appear once the real adapter
  // is loaded, which detect() does before any command asks for them.
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      if (prop in target) return Reflect.get(target, prop, receiver);
      const value = loaded?.[prop as keyof DistroAdapter];
      return typeof value === 'function' ? value.bind(loaded) : value;
    },
  });
}

export const ADAPTERS: DistroAdapter[] = ENTRIES.map(lazyAdapter);

/** Families pinget knows and does not serve, with why, so that a root of one gets one true line. */
const UNSUPPORTED: { ids: string[]; why: string }[] = [
  {
    ids: ['suse', 'opensuse', 'sles', 'opensuse-leap', 'opensuse-tumbleweed', 'sle-micro'],
    why: "SUSE is not supported: its rpm database is in the ndb format (usr/lib/sysimage/rpm/Packages.db) that the rpm pinget runs cannot read, and its repositories are zypper's",
  },
];

/** Distros served by another's adapter, for --distro and lockfile headers. */
const ALIASES: Record<string, string> = {
  ...Object.fromEntries(ENTRIES.flatMap((e) => e.family.filter((m) => m !== e.id).map((m) => [m, e.id]))),
  rocky: 'fedora',
  almalinux: 'fedora',
  archlinux: 'arch',
};

export function adapterById(id: string): DistroAdapter | undefined {
  const wanted = ALIASES[id] ?? id;
  return ADAPTERS.find((a) => a.id === wanted);
}

function claims(entry: AdapterEntry, os: OsRelease): boolean {
  return inFamily(os, entry.family);
}

/** A --root that does not exist (or is no directory) is the user's slip, not a distro pinget does not support. */
async function checkRootDir(root: string): Promise<void> {
  const st = await stat(root).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw e;
  });
  if (!st) throw new PingetError('USAGE', `--root ${root}: no such directory`);
  if (!st.isDirectory()) throw new PingetError('USAGE', `--root ${root}: not a directory`);
}

/** The one line for a root no adapter serves: what its os-release says, and (only where it helps) --distro. */
function noDistroError(root: string, os: OsRelease | undefined): PingetError {
  const base = root.replace(/\/$/, '');
  const supported = `supported: ${ADAPTERS.map((a) => a.id).sort().join(', ')} and their derivatives`;
  if (!os) {
    return new PingetError('BAD_INPUT', `${base}/etc/os-release: missing, so the distro of this root is unknown (${supported}); pass --distro ID to say which it is`);
  }
  const ids = osIds(os);
  const known = UNSUPPORTED.find((u) => ids.some((i) => u.ids.includes(i)));
  const what = `ID=${os.ID ?? ''}${os.ID_LIKE ? ` ID_LIKE="${os.ID_LIKE}"` : ''}`;
  return new PingetError('BAD_INPUT', `${base}/etc/os-release: ${what}: ${known ? known.why : `not a distro pinget supports (${supported})`}`);
}

/**
 * Finds the adapter for a root. With `forced` (--distro), that adapter is used even when
 * os-release says otherwise; its detect() still fills version and codename when it can.
 */
/** The one line for a distro id no adapter serves: why, for a family pinget knows and does not serve; else the known ids. */
export function unknownDistro(id: string, option: string): PingetError {
  const known = UNSUPPORTED.find((u) => u.ids.includes(id.toLowerCase()));
  if (known) return new PingetError('USAGE', `${option} ${id}: ${known.why}`);
  return new PingetError('USAGE', `unknown distro "${id}" for ${option}; known: ${[...ADAPTERS.map((a) => a.id), ...Object.keys(ALIASES)].join(', ')}`);
}

export async function detectDistro(root: string, forced?: string): Promise<{ adapter: DistroAdapter; info: DistroInfo }> {
  if (forced) {
    const adapter = adapterById(forced);
    if (!adapter) throw unknownDistro(forced, '--distro');
    const info = (await adapter.detect(root)) ?? { id: adapter.id, osId: forced, idLike: [] };
    return { adapter, info };
  }
  await checkRootDir(root);
  // Only the adapters whose family os-release names are loaded and asked.
  const os = await readOsRelease(root);
  if (os) {
    for (const [i, entry] of ENTRIES.entries()) {
      if (!claims(entry, os)) continue;
      const info = await ADAPTERS[i].detect(root);
      if (info) return { adapter: ADAPTERS[i], info };
    }
  }
  throw noDistroError(root, os);
}

/** The adapter whose inspect() understands a lockfile path, for commands that have no root (diff). */
export function adapterForPath(path: string, preferred?: string): DistroAdapter | undefined {
  const first = preferred ? adapterById(preferred) : undefined;
  if (first?.inspect(path)) return first;
  return ADAPTERS.find((a) => a.inspect(path));
}

/** The adapter whose package files begin with `head`'s bytes, for `hash inspect FILE`. */
export function adapterForFile(head: Uint8Array): DistroAdapter | undefined {
  return ADAPTERS.find((a) => a.fileMagic && a.fileMagic.every((b, i) => head[i] === b));
}

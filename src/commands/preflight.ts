/** Checks that run before anything is fetched or written: lockfile vs target system, writable places. */
import { access, constants, mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { DistroAdapter, DistroInfo } from '../distro/types.js';
import { readOsRelease } from '../distro/os-release.js';
import { clip, PingetError } from '../errors.js';

export interface DistroHeader {
  /** os-release ID the lockfile was made on: debian, ubuntu, fedora, rocky, alpine, arch... */
  id: string;
  arch?: string;
  text: string;
}

/**
 * Reads `# distro: <id> [version] [(codename)] [arch]` as the adapters write it. The last word is the
 * architecture when there are at least three, or two and it does not look like a version.
 */
export function parseDistroHeader(headers: Record<string, string>): DistroHeader | undefined {
  const text = headers.distro?.trim();
  if (!text) return undefined;
  const words = text.split(/\s+/);
  const last = words[words.length - 1];
  const looksLikeArch = words.length >= 2 && /^[a-z][a-z0-9_]*$/i.test(last) && last !== 'rolling' && (words.length >= 3 || /\d/.test(last));
  return { id: clip(words[0].toLowerCase(), 40), arch: looksLikeArch ? clip(last, 40) : undefined, text: clip(text, 120) };
}

function describeSystem(root: string, info: DistroInfo): string {
  return `${root} is ${[info.osId, info.versionId, info.arch].filter(Boolean).join(' ')}`;
}

/**
 * The lockfile must be for the target: its distro id (debian and ubuntu differ) and, when the target is
 * the root itself, its architecture. `targetId` is --distro when given, else the root's os-release ID.
 */
export function checkLockfileTarget(o: {
  files: string[];
  headers: Record<string, string>;
  root: string;
  info: DistroInfo;
  targetId: string;
  forced: boolean;
  checkArch: boolean;
  /** download may fetch for another system: say how. */
  mayTargetOther: boolean;
}): void {
  const header = parseDistroHeader(o.headers);
  if (!header) return;
  const what = o.files.join(', ');
  if (header.id !== o.targetId.toLowerCase()) {
    const target = o.forced ? `--distro is ${o.targetId}` : describeSystem(o.root, o.info);
    throw new PingetError(
      'USAGE',
      `${what} pins packages of ${header.text}, but ${target}: use the lockfile made for this system, regenerate it here with \`pinget hash generate\`, or point --root at a root of that distro` +
        (o.forced || !o.mayTargetOther ? '' : ` (or pass --distro ${header.id} to download for another system)`),
    );
  }
  if (o.checkArch && header.arch && o.info.arch && header.arch !== o.info.arch) {
    throw new PingetError(
      'USAGE',
      `${what} pins ${header.arch} packages (${header.text}), but ${describeSystem(o.root, o.info)}: use the ${o.info.arch} lockfile (by convention SHA256SUMS-${o.info.arch}), or point --root at a root of that architecture` +
        (o.mayTargetOther ? ` (or pass --distro ${header.id} to download for another system)` : ''),
    );
  }
}

/** Where each distro's package manager keeps its database, relative to the root; the first that exists counts. */
const PACKAGE_DB: Record<string, string[]> = {
  debian: ['var/lib/dpkg'],
  fedora: ['usr/lib/sysimage/rpm', 'var/lib/rpm'],
  alpine: ['lib/apk/db'],
  arch: ['var/lib/pacman'],
};

/** The nearest existing directory at or above `path`. */
async function nearestExisting(path: string): Promise<string> {
  for (let p = resolve(path); ; p = dirname(p)) {
    if ((await stat(p).catch(() => undefined))?.isDirectory()) return p;
    if (p === dirname(p)) return p;
  }
}

/**
 * What each family's package manager needs to install into a root, checked by running it as an unprivileged
 * user: dpkg refuses ("requested operation requires superuser privilege"), pacman too
 * ("you cannot perform this operation unless you are root"); rpm installs into a root the user owns; apk 3
 * will not even make its database without --usermode, so root is what pinget can promise for apk.
 */
const NEEDS: Record<string, { tool: string; rootOnly: boolean; hint: string }> = {
  debian: { tool: 'dpkg', rootOnly: true, hint: 'run as root' },
  arch: { tool: 'pacman', rootOnly: true, hint: 'run as root' },
  alpine: { tool: 'apk', rootOnly: false, hint: 'run as root' },
  fedora: { tool: 'rpm', rootOnly: false, hint: 'run as root, or with --root DIR you own' },
};

/** The one-line hint for installing with this family's package manager as the user we are not. */
export function installPrivilegeHint(adapterId: string): string {
  return NEEDS[adapterId]?.hint ?? 'run as root';
}

/**
 * install: the package manager must be able to run as us and write the package database, or it fails after
 * every download. dpkg and pacman refuse to install unless root: said before fetching. (fakeroot is no way
 * round: it fakes geteuid for pinget but not Node's own stat calls, so the cache's owner checks refuse.)
 */
export async function checkPackageDbWritable(adapterId: string, root: string, euid = process.geteuid?.() ?? 0): Promise<void> {
  const needs = NEEDS[adapterId];
  if (needs?.rootOnly && euid !== 0) {
    throw new PingetError('USAGE', `${needs.tool} installs packages only as root (you are uid ${euid}): ${needs.hint}`);
  }
  const candidates = (PACKAGE_DB[adapterId] ?? []).map((rel) => join(root, rel));
  if (candidates.length === 0) return;
  let dir: string | undefined;
  for (const c of candidates) if ((await stat(c).catch(() => undefined))?.isDirectory()) dir ??= c;
  dir ??= await nearestExisting(candidates[0]);
  try {
    await access(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // root is refused only by the file system (read-only, immutable): no privilege to suggest then
    const hint = euid === 0 ? (code === 'EROFS' ? 'it is on a read-only file system' : 'not even root may write it') : installPrivilegeHint(adapterId);
    throw new PingetError('USAGE', `cannot write the package database ${dir} (${code}): ${hint}`, { cause: e });
  }
}

function pathError(what: string, path: string, e: unknown): PingetError {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  const why: Record<string, string> = {
    ENOENT: 'it cannot be created there',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EEXIST: 'a file of that name exists',
    EACCES: 'permission denied',
    EPERM: 'not permitted',
    EROFS: 'read-only file system',
    ENAMETOOLONG: 'the path is too long (at most 4095 bytes, 255 per component)',
  };
  return new PingetError('USAGE', `${what} ${path}: ${why[code] ?? (e as Error).message} (${code}); choose another path`, { cause: e });
}

/**
 * mkdir -p, one level at a time; returns the directories it made, outermost first. Node's own recursive
 * mkdir loops for ever where the kernel answers a child's mkdir with ENOENT although its parent exists
 * (/proc/x): here that is an error naming the path. A path the kernel cannot take (over PATH_MAX, a
 * component over NAME_MAX) is refused before anything is made, and a failure half way removes what was
 * made: a failed command leaves no directories behind.
 */
export async function makeDirs(dir: string): Promise<string[]> {
  const full = resolve(dir);
  if (Buffer.byteLength(full) >= 4096 || full.split('/').some((c) => Buffer.byteLength(c) > 255)) {
    throw Object.assign(new Error(`${clip(full, 80)}: file name too long`), { code: 'ENAMETOOLONG' });
  }
  const top = await nearestExisting(full);
  const missing: string[] = [];
  for (let p = full; p !== top; p = dirname(p)) missing.unshift(p);
  const made: string[] = [];
  try {
    for (const p of missing) {
      try {
        await mkdir(p);
        made.push(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !(await stat(p)).isDirectory()) throw e;
      }
    }
  } catch (e) {
    await removeMade(made);
    throw e;
  }
  return made;
}

/** Removes directories makeDirs made, innermost first, as long as they are empty (rmdir, never rm -r). */
export async function removeMade(made: string[]): Promise<void> {
  for (const p of [...made].reverse()) if (!(await rmdir(p).then(() => true, () => false))) return;
}

/**
 * download -o DIR: create it now, before fetching anything. Returns the directories made for it (removeMade() them when the command fails).
 */
export async function checkOutputDir(dir: string): Promise<string[]> {
  let made: string[];
  try {
    made = await makeDirs(dir);
  } catch (e) {
    throw pathError('cannot create the output directory', clip(dir, 200), e);
  }
  try {
    // Whether a file can be written there is proven through the opened directory (OutputDir.open).
    if (!(await stat(dir)).isDirectory()) throw new PingetError('USAGE', `output directory ${dir} is a file, not a directory (ENOTDIR); choose another path`);
  } catch (e) {
    await removeMade(made);
    throw e;
  }
  return made;
}

/** -o FILE: its directory must exist and be writable, and FILE must not be a directory. */
export async function checkOutputFile(file: string): Promise<void> {
  const dir = dirname(resolve(file));
  const st = await stat(dir).catch((e) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PingetError('USAGE', `cannot write ${file}: directory ${dir} does not exist (ENOENT); create it or choose another path`);
    throw pathError('cannot write', file, e);
  });
  if (!st.isDirectory()) throw new PingetError('USAGE', `cannot write ${file}: ${dir} is not a directory (ENOTDIR); choose another path`);
  if ((await stat(file).catch(() => undefined))?.isDirectory()) throw new PingetError('USAGE', `cannot write ${file}: it is a directory; give a file name`);
  try {
    await access(dir, constants.W_OK);
  } catch (e) {
    throw pathError('cannot write', file, e);
  }
}

/**
 * hash generate reads the root's package database: with --distro naming another distro than the root's,
 * it would find nothing and write an empty lockfile. A root with no os-release is taken at its word.
 */
export async function checkRootIs(
  adapter: DistroAdapter,
  root: string,
  forced: string | undefined,
  ownDistro: () => Promise<unknown>,
): Promise<void> {
  if (!forced || (await adapter.detect(root))) return;
  const os = await readOsRelease(root).catch(() => undefined);
  if (!os?.ID) return;
  // the advice to drop --distro only where that works: a root pinget can read without it
  const readable = await ownDistro().then(() => true, () => false);
  throw new PingetError(
    'USAGE',
    `--distro ${forced}, but ${root} is ${[os.ID, os.VERSION_ID].filter(Boolean).join(' ')}: ${readable ? 'drop --distro to pin what is installed there, or point --root at a root of that distro' : `pinget cannot read that root with --distro ${forced} or without it; point --root at a root of a supported distro`}`,
  );
}

/**
 * Whom a cache directory lets in. Other users on the machine are not trusted: a directory they can
 * write is a place where they can plant a blob before we look, or swap a folder for a symlink. Each of
 * `<cache>`, `blobs/`, `blobs/sha256/` and `tmp/` must be
 * - a real directory (the cache path itself may lead through a symlink: the user's choice; nothing
 *   inside it may be one),
 * - not writable by others (o+w, sticky or not),
 * - owned by the current user or root, unless it is a group-shared directory: group-writable, setgid,
 *   in a group the current user is a member of (root: any group), the documented way to share a cache;
 * - group-writable only that way.
 * A cache that breaks a rule is refused (exit 2, one line) unless the user trusts it explicitly
 * (--trust-shared-cache, PINGET_TRUST_SHARED_CACHE=1). A group-shared or explicitly trusted cache is
 * `shared`: its blobs are re-verified as they are copied out and never hard-linked.
 * The directories are opened once (DirHandle) and used through their descriptors from then on.
 */
import { fchmod as fchmodCb, type Stats } from 'node:fs';
import { lstat, mkdir, open, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PingetError, reasonOf } from './errors.js';
import { DirHandle } from './dir-handle.js';
import { fileKind } from './fs-safe.js';

const fchmod = promisify(fchmodCb);

export interface CacheDirs {
  root: DirHandle;
  blobs?: DirHandle;
  tmp?: DirHandle;
  /** Someone besides the current user and root may write here: no hard links out of it. */
  shared: boolean;
}

export interface TrustOptions {
  /** --trust-shared-cache: accept directories others can write (still no symlinks, no hard links). */
  trustShared?: boolean;
  /** Create missing directories and prove that a file can be written (commands that fetch). */
  create?: boolean;
}

const HOW_TO = 'use a cache of your own (--cache DIR or PINGET_CACHE), share one as a group-owned setgid directory (docs/cache.md), or accept the risk with --trust-shared-cache';

function myGroups(): Set<number> {
  return new Set([process.getegid?.() ?? -1, ...(process.getgroups?.() ?? [])]);
}

function modeText(st: Stats): string {
  return (st.mode & 0o7777).toString(8).padStart(4, '0');
}

/** Why others could write this directory, or undefined when only we (and root) can; `group` when a trusted group shares it. */
export function judgeDir(st: Stats, uid = process.geteuid?.() ?? 0, groups = myGroups()): { untrusted?: string; group?: boolean } {
  const groupWritable = (st.mode & 0o020) !== 0;
  // Root may write anywhere anyway: a setgid group directory is as trusted for it as for the group.
  const groupShared = groupWritable && (st.mode & 0o2000) !== 0 && (groups.has(st.gid) || uid === 0);
  if (st.mode & 0o002) return { untrusted: `is writable by every user (mode ${modeText(st)})` };
  if (groupWritable && !groupShared) {
    const why = (st.mode & 0o2000) === 0 ? 'not setgid' : `you are not in group ${st.gid}`;
    return { untrusted: `is writable by group ${st.gid} (mode ${modeText(st)}, ${why})` };
  }
  if (st.uid !== uid && st.uid !== 0 && !groupShared) return { untrusted: `belongs to uid ${st.uid}, not to you or root` };
  return { group: groupShared };
}

/** A regular file only the current user or root can change: safe to hard-link or reflink without hashing it again. */
export function onlyWeCanChange(st: Stats, uid = process.geteuid?.() ?? 0): boolean {
  return st.isFile() && (st.uid === uid || st.uid === 0) && (st.mode & 0o022) === 0;
}

function notWritable(dir: string, e: unknown): PingetError {
  const code = (e as NodeJS.ErrnoException).code;
  return new PingetError('USAGE', `cache directory ${dir} is not writable (${code ?? reasonOf(e)}): choose a writable one with --cache DIR or PINGET_CACHE`, { cause: e });
}

/** Opens `name` inside `parent` without following a symlink there, making it first when `create`. */
async function openChild(parent: DirHandle, name: string, o: { create?: boolean; groupShared: boolean }): Promise<DirHandle | undefined> {
  const path = join(parent.path, name);
  let made = false;
  if (o.create) {
    try {
      await mkdir(parent.at(name), { mode: o.groupShared ? 0o2775 : 0o755 });
      made = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw notWritable(path, e);
    }
  }
  let dir: DirHandle;
  try {
    dir = await DirHandle.open(path, { follow: false, through: parent.at(name) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !o.create) return undefined;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      // O_DIRECTORY | O_NOFOLLOW on a symlink says ENOTDIR: lstat tells which.
      const st = await lstat(parent.at(name)).catch(() => undefined);
      if (!st || st.isSymbolicLink()) throw new PingetError('USAGE', `cache directory ${path} is a symbolic link; pinget follows no link inside a cache: remove it (or use another --cache)`);
      throw new PingetError('USAGE', `cache directory ${path} is ${fileKind(st)}, not a directory; remove it (or use another --cache)`);
    }
    throw new PingetError('USAGE', `cache directory ${path}: cannot open it: ${reasonOf(e)}`, { cause: e });
  }
  // The umask may have taken the group's write bit: a member of the group must be able to add blobs.
  if (made && o.groupShared) await fchmod(dir.fd, 0o2775).catch(() => {});
  return dir;
}

/** Opens (and with `create`, makes) the cache's directories, checked as the module comment says. */
export async function openCacheDirs(dir: string, opts: TrustOptions = {}): Promise<CacheDirs | undefined> {
  let root: DirHandle;
  try {
    if (opts.create) await mkdir(dir, { recursive: true, mode: 0o755 });
    root = await DirHandle.open(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !opts.create) return undefined;
    if (code === 'ENOTDIR') throw new PingetError('USAGE', `cache directory ${dir} is not a directory: choose another with --cache DIR or PINGET_CACHE`);
    throw notWritable(dir, e);
  }
  const handles: DirHandle[] = [root];
  try {
    let shared = false;
    const check = (h: DirHandle) => {
      const { untrusted, group } = judgeDir(h.st);
      if (group) shared = true;
      if (!untrusted) return;
      if (!opts.trustShared) throw new PingetError('USAGE', `cache directory ${h.path} ${untrusted}: another user could plant files in it; ${HOW_TO}`);
      shared = true;
    };
    if (!root.st.isDirectory()) throw new PingetError('USAGE', `cache directory ${dir} is ${fileKind(root.st)}`);
    check(root);
    const sub = async (parent: DirHandle, name: string) => {
      const h = await openChild(parent, name, { create: opts.create, groupShared: shared });
      if (h) {
        handles.push(h);
        check(h);
      }
      return h;
    };
    const blobsTop = await sub(root, 'blobs');
    const blobs = blobsTop && (await sub(blobsTop, 'sha256'));
    const tmp = await sub(root, 'tmp');
    if (blobsTop) await blobsTop.close();
    if (opts.create && tmp) await probe(tmp);
    return { root, blobs, tmp, shared };
  } catch (e) {
    for (const h of handles) await h.close();
    throw e;
  }
}

/** Proves that a file can be created in tmp/ (root passes access(2) checks even on a read-only mount). */
async function probe(tmp: DirHandle): Promise<void> {
  const name = `.pinget-probe-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp.at(name), 'wx', 0o600);
    await fh.close();
  } catch (e) {
    throw notWritable(tmp.path, e);
  }
  await unlink(tmp.at(name)).catch(() => {});
}

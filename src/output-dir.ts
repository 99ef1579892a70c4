/**
 * The `download -o DIR` writer: puts verified cache blobs at their lockfile paths inside DIR.
 * - Contained, also against a path swapped while it runs: DIR is opened once, and every directory
 *   inside it is created and opened relative to its parent's descriptor without following a symlink
 *   (DirHandle: /proc/self/fd/N/name); files are created and renamed only through those descriptors,
 *   so no rename of a folder, no symlink put in its place, redirects a write. A symlink met on the
 *   way, or something that is not a directory, is refused (exit 2) and so is an existing destination
 *   that is not a regular file. (DIR itself is the user's choice and may be a symlink.) A directory
 *   opened again later must be the same one (dev and inode); finish() checks that every directory
 *   written to is still at its path.
 * - Cheap: a hard link from the cache when both are on one file system (st_dev) and the cache allows
 *   it (a private cache, a blob only we can change: Cache.mayLink), else a reflink (FICLONE), else a
 *   copy that hashes while it copies. `copy` skips the hard link: the file gets its own inode. A
 *   destination that already holds the right bytes (the blob's inode, or the same hash) is left alone.
 *   Each file is checked after its rename: the name holds the inode that was written.
 * - Metadata calls of the per-file path (mkdir, open, lstat, link, rename) are synchronous: each is a
 *   syscall of microseconds on a local file system, where a call through libuv's thread pool costs two
 *   thread hops (futex, eventfd, epoll) on top; byte copies stay asynchronous.
 * - Atomic and crash-only: each file is written under a temp name carrying the pid in its
 *   destination directory and renamed into place; leftovers of dead processes are swept from every
 *   directory the lockfile touches. No fsync: the cache holds the durable copy.
 */
import { constants as fsConstants, linkSync, lstatSync, mkdirSync, renameSync, type Stats } from 'node:fs';
import { copyFile, lstat, mkdir, open, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { PingetError, reasonOf, type ErrorCode } from './errors.js';
import { DirHandle } from './dir-handle.js';
import { onlyWeCanChange } from './cache-trust.js';
import { sweepTempFiles, tempName } from './fs-atomic.js';
import { copyHashing, fileKind } from './fs-safe.js';
import { hashFileOffThread } from './verify/hash-pool.js';

export type Placement = 'linked' | 'reflinked' | 'copied' | 'kept';

export interface OutputOptions {
  /** Never hard-link from the cache: every file gets its own inode. */
  copy?: boolean;
  /**
   * Whether a source file may be hard-linked (or reflinked without hashing it again): the cache says
   * (a shared cache: never). Default: a file only the current user or root can change.
   */
  mayLink?: (st: Stats) => boolean | Promise<boolean>;
}

/** Errors a bad destination gives (exit 2) as against a full or failing disk (exit 4). */
const DISK_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EBUSY']);
/** link(2) / FICLONE cannot here: fall back to the next way. */
const CANNOT_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EINVAL', 'EACCES']);
/** Directory descriptors kept open when idle; more are closed, oldest first, and opened again when needed. */
const IDLE_HANDLES = 64;

function fsError(path: string, what: string, e: unknown): PingetError {
  if (e instanceof PingetError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const kind: ErrorCode = DISK_ERRORS.has(code) ? 'UNAVAILABLE' : 'BAD_INPUT';
  return new PingetError(kind, `${path}: cannot ${what}: ${reasonOf(e)}`, { cause: e });
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

function swapped(path: string): PingetError {
  return new PingetError('BAD_INPUT', `${path}: the directory was moved or replaced while pinget wrote into it; refusing to go on (run again, and keep others from writing into -o)`);
}

/** Proves a file can be made in the directory (root passes access(2) even on a read-only mount): exit 2 before any request. */
async function probe(dir: DirHandle): Promise<void> {
  const name = `.pinget-probe-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await (await open(dir.at(name), 'wx', 0o600)).close();
  } catch (e) {
    await dir.close();
    const code = errno(e);
    const why = code === 'EACCES' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : reasonOf(dir.explain(e));
    throw new PingetError('USAGE', `cannot write into the output directory ${dir.path}: ${why}${code ? ` (${code})` : ''}; choose another path`, { cause: e });
  }
  await rm(dir.at(name), { force: true });
}

async function openMade(root: string, made: string[]): Promise<DirHandle> {
  if (made.length === 0 || made[made.length - 1] !== root) return DirHandle.open(root);
  let dir = await DirHandle.open(dirname(made[0]));
  for (const path of made) {
    const parent = dir;
    try {
      dir = await DirHandle.open(path, { follow: false, through: parent.at(basename(path)) });
    } catch (e) {
      if (errno(e) === 'ENOENT') throw swapped(path);
      if (errno(e) !== 'ENOTDIR' && errno(e) !== 'ELOOP') throw parent.explain(e);
      throw new PingetError('BAD_INPUT', `${path}: replaced by a symbolic link or a file right after pinget made it; refusing to follow it`);
    } finally {
      await parent.close();
    }
  }
  return dir;
}

export class OutputDir {
  /** Relative directory -> its identity, once checked (and created); a later open must find the same. */
  private readonly known = new Map<string, Stats>();
  /** Directories this run made (empty then), and the paths placed so far: a first file there needs no look for what is in the way. */
  private readonly madeHere = new Set<string>();
  private readonly placed = new Set<string>();
  /** Open directories, least recently used first; those in use (refs > 0) are never closed. */
  private readonly handles = new Map<string, { handle: Promise<DirHandle>; refs: number }>();
  readonly counts: Record<Placement, number> = { linked: 0, reflinked: 0, copied: 0, kept: 0 };

  private constructor(
    readonly root: string,
    private readonly top: DirHandle,
    private readonly opts: OutputOptions,
  ) {}

  /**
   * Opens DIR. `made`: the directories just made for it, outermost first (checkOutputDir): they are
   * opened one by one through their parent without following a symlink, so a folder swapped there
   * since is refused; the rest of DIR's path is the user's choice.
   */
  static async open(root: string, opts: OutputOptions = {}, made: string[] = []): Promise<OutputDir> {
    let top: DirHandle;
    try {
      // Made already (checkOutputDir): no path-based mkdir -p that would follow a symlink swapped in.
      if (made.length === 0) await mkdir(root, { recursive: true });
      top = await openMade(root, made);
    } catch (e) {
      if (e instanceof PingetError) throw e;
      if (errno(e) === 'ENOTDIR') {
        const st = await stat(root).catch(() => undefined);
        throw new PingetError('BAD_INPUT', `${root}: the output directory is ${st ? fileKind(st) : 'not a directory'}`);
      }
      throw fsError(root, 'use it as the output directory', e);
    }
    await probe(top);
    await sweepTempFiles(top.at(''));
    return new OutputDir(root, top, opts);
  }

  /** The open directory `rel` (checked, made if missing); release() it when done. */
  private acquire(rel: string): Promise<DirHandle> {
    if (rel === '') return Promise.resolve(this.top);
    let entry = this.handles.get(rel);
    if (entry) this.handles.delete(rel);
    else entry = { handle: this.openDir(rel), refs: 0 };
    this.handles.set(rel, entry);
    entry.refs++;
    const held = entry;
    return held.handle.catch((e) => {
      held.refs--;
      if (this.handles.get(rel) === held) this.handles.delete(rel);
      throw e;
    });
  }

  private release(rel: string): void {
    const entry = rel === '' ? undefined : this.handles.get(rel);
    if (!entry) return;
    entry.refs--;
    if (this.handles.size <= IDLE_HANDLES) return;
    for (const [r, e] of this.handles) {
      if (this.handles.size <= IDLE_HANDLES) break;
      if (e.refs > 0) continue;
      this.handles.delete(r);
      void e.handle.then((h) => h.close(), () => {});
    }
  }

  /** Opens `rel` through its parent's descriptor, without following a symlink; makes it the first time. */
  private async openDir(rel: string): Promise<DirHandle> {
    const slash = rel.lastIndexOf('/');
    const parentRel = slash < 0 ? '' : rel.slice(0, slash);
    const name = rel.slice(slash + 1);
    const abs = join(this.root, rel);
    const parent = await this.acquire(parentRel);
    try {
      const known = this.known.get(rel);
      let made = false;
      if (!known) {
        try {
          mkdirSync(parent.at(name), { mode: 0o755 });
          made = true;
        } catch (e) {
          // EEXIST also for a symlink there (mkdir does not follow it): the open below tells.
          if (errno(e) !== 'EEXIST') throw fsError(abs, 'create the directory', parent.explain(e));
        }
      }
      let dir: DirHandle;
      try {
        dir = DirHandle.openSync(abs, { follow: false, through: parent.at(name) });
      } catch (e) {
        if (made && errno(e) === 'ENOENT') throw swapped(abs);
        if (errno(e) !== 'ENOTDIR' && errno(e) !== 'ELOOP') throw fsError(abs, 'open the directory', parent.explain(e));
        const st = await lstat(parent.at(name)).catch(() => undefined);
        if (!st || st.isSymbolicLink()) {
          throw new PingetError('BAD_INPUT', `${abs}: a symbolic link inside the output directory; refusing to follow it (remove it, or use another -o)`);
        }
        throw new PingetError('BAD_INPUT', `${abs}: ${fileKind(st)} where a directory is needed; refusing to replace it`);
      }
      if (known && !dir.is(known)) {
        await dir.close();
        throw swapped(abs);
      }
      if (!known) {
        this.known.set(rel, dir.st);
        // Made just now, by us: empty, nothing to sweep.
        if (made) this.madeHere.add(rel);
        else await sweepTempFiles(dir.at(''));
      }
      return dir;
    } finally {
      this.release(parentRel);
    }
  }

  /** Puts the verified file `src` (a cache blob of `sha256`) at `relPath` inside the root. */
  async place(src: string, sha256: string, relPath: string): Promise<Placement> {
    const slash = relPath.lastIndexOf('/');
    const dirRel = slash < 0 ? '' : relPath.slice(0, slash);
    const dir = await this.acquire(dirRel);
    // Others do not write into -o meanwhile (the module's premise, checked by finish()), so in a directory
    // this run made, a name not placed yet is free; elsewhere what is there is looked at first.
    const free = this.madeHere.has(dirRel) && !this.placed.has(relPath);
    this.placed.add(relPath);
    let how: Placement;
    try {
      how = await this.write(src, sha256, dir, relPath.slice(slash + 1), join(this.root, relPath), free);
    } finally {
      this.release(dirRel);
    }
    this.counts[how]++;
    return how;
  }

  /**
   * Checks that every directory written to is still where it was (the root, and each one inside it,
   * by dev and inode, none a symlink now), then closes the descriptors. A swap during the run: exit 2.
   */
  async finish(): Promise<void> {
    try {
      const rootNow = await stat(this.root).catch(() => undefined);
      if (!rootNow || !this.top.is(rootNow)) throw swapped(this.root);
      for (const [rel, st] of this.known) {
        // Inside the root through its descriptor: also where root + rel is longer than PATH_MAX.
        let now: Stats | undefined;
        try {
          now = lstatSync(this.top.at(rel), { throwIfNoEntry: false });
        } catch {
          now = undefined;
        }
        if (!now || !now.isDirectory() || now.dev !== st.dev || now.ino !== st.ino) throw swapped(join(this.root, rel));
      }
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    const open = [...this.handles.values()];
    this.handles.clear();
    for (const e of open) await e.handle.then((h) => h.close(), () => {});
    await this.top.close();
  }

  private async write(src: string, sha256: string, dir: DirHandle, name: string, dest: string, free: boolean): Promise<Placement> {
    let srcSt: Stats;
    try {
      // lstat: a symlink where the blob was is not a file to link or reflink.
      srcSt = lstatSync(src);
    } catch (e) {
      throw fsError(src, 'read the cached file', e);
    }
    const trusted = await (this.opts.mayLink ?? onlyWeCanChange)(srcSt);
    const at = dir.at(name);
    let existing: Stats | undefined;
    try {
      existing = free ? undefined : lstatSync(at, { throwIfNoEntry: false });
    } catch (e) {
      throw fsError(dest, 'inspect it', dir.explain(e));
    }
    if (existing) {
      if (!existing.isFile()) throw new PingetError('BAD_INPUT', `${dest}: ${fileKind(existing)} is in the way; refusing to replace it`);
      const sameInode = existing.dev === srcSt.dev && existing.ino === srcSt.ino;
      if (sameInode && trusted && !this.opts.copy) return 'kept';
      if (!sameInode && existing.size === srcSt.size && (await this.holds(at, sha256))) return 'kept';
    }
    const tmp = dir.at(tempName(sha256));
    try {
      const { how, ino } = await this.writeTemp(src, sha256, tmp, srcSt, srcSt.dev === dir.st.dev, trusted);
      renameSync(tmp, at);
      // The name holds what was written: the same inode, a regular file.
      const now = lstatSync(at);
      if (!now.isFile() || now.ino !== ino || now.dev !== dir.st.dev) throw new PingetError('BAD_INPUT', `${dest}: replaced by something else right after it was written; refusing to go on`);
      return how;
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw fsError(dest, 'write it', dir.explain(e));
    }
  }

  /** Whether an existing regular file already holds these bytes. */
  private async holds(file: string, sha256: string): Promise<boolean> {
    const res = await hashFileOffThread(file).catch(() => undefined);
    return res?.kind === 'file' && res.sha256 === sha256;
  }

  /**
   * Writes the temp file: from a trusted source (a private cache, a blob only we can change) a hard link
   * when on the same file system, else a reflink; else, and from any other source, a copy hashed on the
   * way (the source opened without following a symlink). Returns how, and the inode written.
   */
  private async writeTemp(src: string, sha256: string, tmp: string, srcSt: Stats, sameFs: boolean, trusted: boolean): Promise<{ how: Exclude<Placement, 'kept'>; ino: number }> {
    if (sameFs && trusted && !this.opts.copy) {
      try {
        linkSync(src, tmp);
        // The inode the link names now (the blob may have been renamed over since it was looked at).
        return { how: 'linked', ino: lstatSync(tmp).ino };
      } catch (e) {
        if (!CANNOT_LINK.has(errno(e) ?? '')) throw e;
      }
    }
    // copyFile follows a symlink and reads before it could hash: only for a source no one else can change.
    if (trusted) {
      try {
        await copyFile(src, tmp, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE_FORCE);
        return { how: 'reflinked', ino: (await lstat(tmp)).ino };
      } catch (e) {
        if (!CANNOT_LINK.has(errno(e) ?? '') && errno(e) !== 'ENOTTY') throw e;
        await rm(tmp, { force: true }).catch(() => {});
      }
    }
    return { how: 'copied', ino: await copyHashing(src, sha256, tmp) };
  }
}

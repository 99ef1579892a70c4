/**
 * The `download -o DIR` writer: puts verified cache blobs at their lockfile paths inside DIR.
 * - Contained: every directory component inside DIR is checked with lstat and created one level at
 *   a time; a symlink there, or something that is not a directory, is refused (exit 2) instead of
 *   followed, and so is an existing destination that is not a regular file. (DIR itself is the
 *   user's choice and may be a symlink.)
 * - Cheap: a hard link from the cache when both are on one file system (st_dev), else a reflink
 *   (FICLONE), else a copy that hashes while it copies. `copy` skips the hard link: the file gets its
 *   own inode. A destination that already holds the right bytes (the blob's inode, or the same
 *   hash) is left alone.
 * - Atomic and crash-only: each file is written under a temp name carrying the pid in its
 *   destination directory and renamed into place; leftovers of dead processes are swept from every
 *   directory the lockfile touches. No fsync: the cache holds the durable copy.
 */
import { constants as fsConstants, type Stats } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError, reasonOf, type ErrorCode } from './errors.js';
import { sweepTempFiles, tempName } from './fs-atomic.js';
import { fileKind, openRegular } from './fs-safe.js';
import { hashHandle } from './verify/sha256.js';
import { hashFileOffThread } from './verify/hash-pool.js';

export type Placement = 'linked' | 'reflinked' | 'copied' | 'kept';

export interface OutputOptions {
  /** Never hard-link from the cache: every file gets its own inode. */
  copy?: boolean;
}

/** Errors a bad destination gives (exit 2) as against a full or failing disk (exit 4). */
const DISK_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EBUSY']);
/** link(2) / FICLONE cannot here: fall back to the next way. */
const CANNOT_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EINVAL', 'EACCES']);

function fsError(path: string, what: string, e: unknown): PingetError {
  if (e instanceof PingetError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const kind: ErrorCode = DISK_ERRORS.has(code) ? 'UNAVAILABLE' : 'BAD_INPUT';
  return new PingetError(kind, `${path}: cannot ${what}: ${reasonOf(e)}`, { cause: e });
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

export class OutputDir {
  /** Relative directory -> its st_dev, once checked (and created) component by component. */
  private readonly dirs = new Map<string, Promise<number>>();
  readonly counts: Record<Placement, number> = { linked: 0, reflinked: 0, copied: 0, kept: 0 };

  private constructor(
    readonly root: string,
    private readonly opts: OutputOptions,
  ) {}

  static async open(root: string, opts: OutputOptions = {}): Promise<OutputDir> {
    try {
      await mkdir(root, { recursive: true });
      const st = await stat(root);
      if (!st.isDirectory()) throw new PingetError('BAD_INPUT', `${root}: the output directory is ${fileKind(st)}`);
    } catch (e) {
      throw fsError(root, 'use it as the output directory', e);
    }
    const out = new OutputDir(root, opts);
    out.dirs.set('', out.adopt('', await stat(root)));
    return out;
  }

  private async adopt(rel: string, st: Stats): Promise<number> {
    await sweepTempFiles(join(this.root, rel));
    return st.dev;
  }

  /** Makes sure `rel` is a real directory inside the root (no symlink on the way); returns its st_dev. */
  private ensureDir(rel: string): Promise<number> {
    let known = this.dirs.get(rel);
    if (!known) {
      known = this.makeDir(rel);
      this.dirs.set(rel, known);
    }
    return known;
  }

  private async makeDir(rel: string): Promise<number> {
    const slash = rel.lastIndexOf('/');
    const parentDev = await this.ensureDir(slash < 0 ? '' : rel.slice(0, slash));
    const abs = join(this.root, rel);
    try {
      await mkdir(abs);
      // Made just now, by us: a real, empty directory on its parent's file system; nothing to sweep.
      return parentDev;
    } catch (e) {
      // EEXIST also for a symlink there (mkdir does not follow it): lstat tells which.
      if (errno(e) !== 'EEXIST') throw fsError(abs, 'create the directory', e);
    }
    const st = await lstat(abs).catch((e) => {
      throw fsError(abs, 'inspect it', e);
    });
    if (st.isSymbolicLink()) {
      throw new PingetError('BAD_INPUT', `${abs}: a symbolic link inside the output directory; refusing to follow it (remove it, or use another -o)`);
    }
    if (!st.isDirectory()) throw new PingetError('BAD_INPUT', `${abs}: ${fileKind(st)} where a directory is needed; refusing to replace it`);
    return this.adopt(rel, st);
  }

  /** Puts the verified file `src` (a cache blob of `sha256`) at `relPath` inside the root. */
  async place(src: string, sha256: string, relPath: string): Promise<Placement> {
    const slash = relPath.lastIndexOf('/');
    const dirRel = slash < 0 ? '' : relPath.slice(0, slash);
    const dirDev = await this.ensureDir(dirRel);
    const dest = join(this.root, relPath);
    const how = await this.write(src, sha256, dest, join(this.root, dirRel), dirDev);
    this.counts[how]++;
    return how;
  }

  private async write(src: string, sha256: string, dest: string, dir: string, dirDev: number): Promise<Placement> {
    let srcSt: Stats;
    try {
      srcSt = await stat(src);
    } catch (e) {
      throw fsError(src, 'read the cached file', e);
    }
    const existing = await lstat(dest).catch((e) => {
      if (errno(e) !== 'ENOENT') throw fsError(dest, 'inspect it', e);
      return undefined;
    });
    if (existing) {
      if (!existing.isFile()) throw new PingetError('BAD_INPUT', `${dest}: ${fileKind(existing)} is in the way; refusing to replace it`);
      const sameInode = existing.dev === srcSt.dev && existing.ino === srcSt.ino;
      if (sameInode && !this.opts.copy) return 'kept';
      if (!sameInode && existing.size === srcSt.size && (await this.holds(dest, sha256))) return 'kept';
    }
    const tmp = join(dir, tempName(sha256));
    try {
      const how = await this.writeTemp(src, sha256, tmp, srcSt.dev === dirDev);
      await rename(tmp, dest);
      return how;
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw fsError(dest, 'write it', e);
    }
  }

  /** Whether an existing regular file already holds these bytes. */
  private async holds(file: string, sha256: string): Promise<boolean> {
    const res = await hashFileOffThread(file).catch(() => undefined);
    return res?.kind === 'file' && res.sha256 === sha256;
  }

  private async writeTemp(src: string, sha256: string, tmp: string, sameFs: boolean): Promise<Exclude<Placement, 'kept'>> {
    if (sameFs && !this.opts.copy) {
      try {
        await link(src, tmp);
        return 'linked';
      } catch (e) {
        if (!CANNOT_LINK.has(errno(e) ?? '')) throw e;
      }
    }
    try {
      await copyFile(src, tmp, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE_FORCE);
      return 'reflinked';
    } catch (e) {
      if (!CANNOT_LINK.has(errno(e) ?? '') && errno(e) !== 'ENOTTY') throw e;
      await rm(tmp, { force: true }).catch(() => {});
    }
    await copyHashing(src, sha256, tmp);
    return 'copied';
  }
}

/** Copies src to a new file while hashing it: the bytes written are the bytes verified, read once. */
async function copyHashing(src: string, sha256: string, tmp: string): Promise<void> {
  const input = await openRegular(src);
  try {
    const output = await open(tmp, 'wx', 0o644);
    try {
      const { sha256: got } = await hashHandle(input, async (chunk) => {
        for (let off = 0; off < chunk.length; ) off += (await output.write(chunk, off)).bytesWritten;
      });
      if (got !== sha256) throw new PingetError('INTEGRITY', `${src}: the cached file changed while it was copied (sha256 ${got}, expected ${sha256})`);
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/**
 * A directory opened once and then used through its descriptor, so that no later swap of its path
 * (a rename, a symlink put in its place) can redirect what is created or renamed inside it. Node has
 * no openat(2); `/proc/self/fd/N/name` is the same thing: the kernel resolves `/proc/self/fd/N` to the
 * open directory itself, then only `name` is looked up (a symlink there is not followed by open with
 * O_EXCL or O_NOFOLLOW, by rename(2) or by link(2)). Without /proc the plain path is used.
 */
import { constants as fsConstants, existsSync, type Stats } from 'node:fs';
import { open as openCb, close as closeCb, closeSync, fstat as fstatCb, fstatSync, openSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const openFd = promisify(openCb);
const closeFd = promisify(closeCb);
const fstatFd = promisify(fstatCb);

let procFd: boolean | undefined;
/** Whether /proc/self/fd reaches this process's descriptors (a container without /proc: no). */
export function procFdAvailable(): boolean {
  return (procFd ??= existsSync('/proc/self/fd'));
}

export class DirHandle {
  private closed = false;

  private constructor(
    /** The path it was opened by, for messages and the final check. */
    readonly path: string,
    readonly fd: number,
    readonly st: Stats,
  ) {}

  /**
   * Opens a directory. `follow: false` refuses a symlink as the last component (ELOOP) and `through`,
   * when given, is the pinned path to open it by (a parent handle's at(name)).
   */
  static async open(path: string, opts: { follow?: boolean; through?: string } = {}): Promise<DirHandle> {
    const fd = await openFd(opts.through ?? path, DirHandle.flags(opts.follow));
    try {
      return new DirHandle(path, fd, await fstatFd(fd));
    } catch (e) {
      await closeFd(fd).catch(() => {});
      throw e;
    }
  }

  /**
   * open() without the trip through libuv's thread pool (two thread hops per call, more than the
   * syscalls cost on a local file system): for the many directories of `download -o`.
   */
  static openSync(path: string, opts: { follow?: boolean; through?: string } = {}): DirHandle {
    const fd = openSync(opts.through ?? path, DirHandle.flags(opts.follow));
    try {
      return new DirHandle(path, fd, fstatSync(fd));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  private static flags(follow?: boolean): number {
    return fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | (follow === false ? fsConstants.O_NOFOLLOW : 0);
  }

  /** The path that reaches `name` inside this very directory (whatever its path is now). */
  at(name: string): string {
    if (this.closed) throw new Error(`${this.path}: directory handle used after close`);
    return procFdAvailable() ? `/proc/self/fd/${this.fd}/${name}` : join(this.path, name);
  }

  /** An error or text with this handle's /proc/self/fd prefix put back as the directory's path, for messages. */
  explain<T>(e: T): T {
    const prefix = `/proc/self/fd/${this.fd}`;
    const fix = (v: unknown) => (typeof v === 'string' ? v.split(prefix).join(this.path) : v);
    if (typeof e === 'string') return fix(e) as T;
    if (e instanceof Error) {
      const err = e as NodeJS.ErrnoException & { dest?: string };
      err.message = fix(err.message) as string;
      if (err.path) err.path = fix(err.path) as string;
      if (err.dest) err.dest = fix(err.dest) as string;
    }
    return e;
  }

  /** The same directory as `st` (dev and inode)? */
  is(st: Stats): boolean {
    return st.dev === this.st.dev && st.ino === this.st.ino;
  }

  /** Whether the directory's path still leads to this directory, without a symlink as its last component. */
  async stillAtPath(): Promise<boolean> {
    const st = await lstat(this.path).catch(() => undefined);
    return !!st && st.isDirectory() && this.is(st);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeFd(this.fd).catch(() => {});
  }
}

/**
 * Group commit for files about to be renamed into the cache: the promise stays "the bytes are on disk
 * before the rename makes them a blob", but instead of one fsync(2) per file the files that are ready
 * wait together for one syncfs(2) of their file system, which writes back every dirty file there, theirs
 * included. Files that become ready while one runs wait for the next. Node has no syncfs: coreutils'
 * `sync -f` is given the directory's open descriptor (fd 3), so it syncs exactly the file system that
 * holds it, whatever path may have been swapped meanwhile. Spawning from Node costs milliseconds of its
 * main thread each time (the fork of a large process), so one small `sh` per file system stays up and
 * runs `sync -f` for each group it is asked for, on a line of its stdin. Where that fails, each file is
 * fsynced itself, and later groups do so too.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { fstat } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The device of an open descriptor, or undefined when it is not open. */
function deviceOf(fd: number): Promise<number | undefined> {
  return new Promise((resolve) => fstat(fd, (e, st) => resolve(e ? undefined : st.dev)));
}

/** Answers 0 or 1 per line read: whether `sync -f` of its fd 3 (inherited, so sync's own fd 3) succeeded. */
const LOOP = 'while read -r _; do if sync -f /proc/self/fd/3; then echo 0; else echo 1; fi; done';

/**
 * One long-lived `sh` holding its own copy of a directory descriptor: sync() is syncfs(2) of that
 * directory's file system. It never keeps Node alive while idle, and exits when Node closes its stdin
 * (at exit, however Node ends).
 */
class SyncLoop {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly waiting: ((ok: boolean) => void)[] = [];
  private dead = false;

  constructor(dirFd: number) {
    this.child = spawn('sh', ['-c', LOOP], { stdio: ['pipe', 'pipe', 'ignore', dirFd] }) as ChildProcessByStdio<Writable, Readable, null>;
    const fail = () => {
      this.dead = true;
      for (const w of this.waiting.splice(0)) w(false);
    };
    this.child.once('error', fail);
    this.child.once('close', fail);
    this.child.stdin.on('error', fail);
    let rest = '';
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop()!;
      for (const l of lines) this.waiting.shift()?.(l === '0');
      if (this.waiting.length === 0) this.idle();
    });
    this.idle();
  }

  private idle(): void {
    this.child.unref();
    (this.child.stdin as Writable & { unref?: () => void }).unref?.();
    (this.child.stdout as Readable & { unref?: () => void }).unref?.();
  }

  sync(): Promise<boolean> {
    if (this.dead) return Promise.resolve(false);
    (this.child.stdout as Readable & { ref?: () => void }).ref?.();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write('\n');
    });
  }
}

/** syncfs(2) per file system, through a SyncLoop for each device seen: whether it succeeded. */
export class Syncfs {
  private readonly loops = new Map<number, SyncLoop>();

  async sync(dirFd: number): Promise<boolean> {
    const dev = await deviceOf(dirFd);
    if (dev === undefined) return false;
    let loop = this.loops.get(dev);
    if (!loop) {
      try {
        loop = new SyncLoop(dirFd);
      } catch {
        // A descriptor closed since the fstat (EBADF) is thrown, not emitted.
        return false;
      }
      this.loops.set(dev, loop);
    }
    return loop.sync();
  }
}

interface Waiter {
  path: string;
  dirFd: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * A group starts no sooner than this after the one before started: files that arrive one by one (a
 * download that keeps up with oras) share a sync instead of costing a `sync` process each (about 90
 * groups of 5 at 500 files without it, each a fork and an exec; about 25 with it). The last group waits
 * at most this long.
 */
const MIN_GAP_MS = 100;

export class GroupSync {
  private waiting: Waiter[] = [];
  private running = false;
  private readonly syncfs = new Syncfs();
  private lastStart = 0;
  /** Groups flushed so far (what the gap saves shows here). */
  groups = 0;

  /** `useSyncfs` false: fsync each file (as where there is no `sync -f`). `minGapMs`: see MIN_GAP_MS. */
  constructor(
    private useSyncfs = process.platform === 'linux',
    private readonly minGapMs = MIN_GAP_MS,
  ) {}

  /**
   * Resolves once the file's bytes are on disk (or rejects with why not). `dirFd`: an open descriptor
   * of a directory on the file's file system, kept open by the caller until this settles.
   */
  durable(path: string, dirFd: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ path, dirFd, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const wait = this.lastStart + this.minGapMs - Date.now();
        if (wait > 0 && this.useSyncfs) await new Promise((resolve) => setTimeout(resolve, wait));
        this.lastStart = Date.now();
        this.groups++;
        const group = this.waiting.splice(0);
        try {
          await this.flush(group);
          for (const w of group) w.resolve();
        } catch (e) {
          for (const w of group) w.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async flush(group: Waiter[]): Promise<void> {
    // One file alone gains nothing from syncing its whole file system.
    let rest = group;
    if (this.useSyncfs && group.length > 1) {
      if (await this.syncfs.sync(group[0].dirFd)) rest = group.filter((w) => w.dirFd !== group[0].dirFd);
      else this.useSyncfs = false;
    }
    await Promise.all(rest.map((w) => fsyncFile(w.path)));
  }
}

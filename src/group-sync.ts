/**
 * Group commit for files about to be renamed into the cache: the promise stays "the bytes are on disk
 * before the rename makes them a blob", but instead of one fsync(2) per file the files that are ready
 * wait together for one syncfs(2) of their file system, which writes back every dirty file there, theirs
 * included. Files that become ready while one runs wait for the next. Node has no syncfs: coreutils'
 * `sync -f` is given the directory's open descriptor (fd 3 in the child), so it syncs exactly the file
 * system that holds it, whatever path may have been swapped meanwhile. Where `sync -f` is missing or
 * fails, each file is fsynced itself, and later groups do so too.
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** syncfs(2) of the file system holding the directory open as `dirFd`: whether it succeeded. */
function syncfs(dirFd: number): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const child = spawn('sync', ['-f', '/proc/self/fd/3'], { stdio: ['ignore', 'ignore', 'ignore', dirFd] });
      child.once('error', () => resolve(false));
      child.once('close', (code) => resolve(code === 0));
    } catch {
      // A descriptor that is not open (EBADF) is thrown, not emitted.
      resolve(false);
    }
  });
}

interface Waiter {
  path: string;
  dirFd: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class GroupSync {
  private waiting: Waiter[] = [];
  private running = false;

  /** `useSyncfs` false: fsync each file (as where there is no `sync -f`). */
  constructor(private useSyncfs = process.platform === 'linux') {}

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
      if (await syncfs(group[0].dirFd)) rest = group.filter((w) => w.dirFd !== group[0].dirFd);
      else this.useSyncfs = false;
    }
    await Promise.all(rest.map((w) => fsyncFile(w.path)));
  }
}

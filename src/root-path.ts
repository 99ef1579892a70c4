/**
 * Paths inside a root, resolved as a chroot would: an absolute symlink (`etc/os-release -> /usr/lib/os-release`)
 * points into the root, not at the host's file; `..` stops at the root. Only lstat/readlink: nothing is written.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const MAX_LINKS = 40; // as Linux's MAXSYMLINKS

/**
 * The host path of `rel` inside `root`, every symlink on the way followed inside the root. A component that does
 * not exist ends the walk: the rest is appended as it is (the caller's open then fails with ENOENT, as it should).
 * Synchronous (a few lstat calls) so that synchronous readers (pacman.conf's Include) can use it too.
 */
export function resolveInRoot(root: string, rel: string): string {
  const base = resolve(root);
  const todo = rel.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop(); // clamped: `..` at the root stays at the root
      continue;
    }
    const host = join(base, ...done, c);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      return join(base, ...done, c, ...todo);
    }
    if (!st.isSymbolicLink()) {
      done.push(c);
      continue;
    }
    if (++links > MAX_LINKS) {
      const e: NodeJS.ErrnoException = new Error(`${join(base, rel)}: too many levels of symbolic links inside the root`);
      e.code = 'ELOOP';
      throw e;
    }
    const target = readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/').filter((t) => t !== '' && t !== '.'));
  }
  return join(base, ...done);
}

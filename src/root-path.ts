/**
 * Paths inside a root, resolved as a chroot would: an absolute symlink (`etc/os-release -> /usr/lib/os-release`)
 * points into the root, not at the host's file; `..` stops at the root. Only lstat/readlink: nothing is written.
 * Used for every file pinget reads in a root and for the entries of image layers (src/image/contained.ts).
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PingetError } from './errors.js';

const MAX_LINKS = 40; // as Linux's MAXSYMLINKS

/**
 * The real parts, inside root, of a path given as parts, every symlink on the way followed inside the root.
 * Synchronous (a few lstat calls) so that synchronous readers (pacman.conf's Include) can use it too.
 */
export function resolveParts(root: string, parts: string[], where = 'the root'): string[] {
  const todo = parts.filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop(); // clamped: `..` at the root stays at the root
      continue;
    }
    let st;
    try {
      st = lstatSync(join(root, ...done, c));
    } catch {
      st = undefined; // missing: taken as it is (an open then fails with ENOENT, as it should)
    }
    if (!st?.isSymbolicLink()) {
      done.push(c);
      continue;
    }
    if (++links > MAX_LINKS) throw new PingetError('BAD_INPUT', `${join(...done, c)}: too many levels of symbolic links in ${where}`);
    const target = readlinkSync(join(root, ...done, c));
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/').filter((t) => t !== '' && t !== '.'));
  }
  return done;
}

/** The host path of `rel` (a path inside the root, with or without a leading `/`) in `root`. */
export function resolveInRoot(root: string, rel: string): string {
  const base = resolve(root);
  return join(base, ...resolveParts(base, rel.split('/')));
}

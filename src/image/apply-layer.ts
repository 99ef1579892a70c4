/**
 * Applies one image layer (a tar stream, already decompressed) onto a root directory, as a container
 * runtime does (OCI image spec, layer.md "Applying Changesets"): entries replace what lower layers had;
 * `.wh.<name>` deletes <name>; `.wh..wh..opq` hides everything lower layers put in its directory.
 * Nothing is written outside the root: names with `..` or a leading `/` are refused, symlinks are made as
 * symlinks and resolved within the root (contained.ts), an existing entry at a path is removed before a
 * file is created there (O_EXCL | O_NOFOLLOW: never written through), and hard links point inside only.
 * Devices and fifos are skipped: pinning reads package databases, not devices. Owners are not kept.
 */
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rm, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { PingetError } from '../errors.js';
import { checkedParts, containedDir, containedPath } from './contained.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Removes whatever is at path (a file, a symlink, a directory tree), without following links. */
async function clear(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** Makes path a directory (replacing a non-directory), parents included; modes keep it writable for us. */
async function ensureDir(path: string, mode = 0o755): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st?.isDirectory()) return;
  if (st) await clear(path);
  await mkdir(path, { recursive: true, mode: (mode & 0o777) | 0o700 });
}

/** Deletes the entries of dir that this layer did not create (an opaque whiteout), recursively for those it did. */
async function hideLower(dir: string, created: Set<string>): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, name);
    if (!created.has(p)) await clear(p);
    else if ((await lstat(p)).isDirectory()) await hideLower(p, created);
  }
}

async function writeFileFrom(path: string, entry: AsyncIterable<unknown>, mode: number): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, (mode & 0o777) | 0o600);
  try {
    for await (const chunk of entry) await fh.write(chunk as Buffer);
  } finally {
    await fh.close();
  }
}

export interface ApplyStats {
  entries: number;
  skipped: number;
}

/** Applies a decompressed layer tar onto root. `what` names the layer in messages. */
export async function applyLayer(root: string, tarStream: Readable, what: string): Promise<ApplyStats> {
  const extract = tar.extract();
  const created = new Set<string>();
  const opaque: string[] = [];
  const stats: ApplyStats = { entries: 0, skipped: 0 };
  tarStream.on('error', (e) => extract.destroy(e));
  tarStream.pipe(extract);
  for await (const entry of extract) {
    const h = entry.header;
    const parts = checkedParts(h.name, what);
    stats.entries++;
    if (parts.length === 0) {
      entry.resume();
      continue;
    }
    const base = parts[parts.length - 1];
    if (base === OPAQUE) {
      entry.resume();
      opaque.push(await containedDir(root, parts.slice(0, -1)));
      continue;
    }
    if (base.startsWith(WHITEOUT)) {
      entry.resume();
      const victim = base.slice(WHITEOUT.length);
      if (victim && victim !== '.' && victim !== '..') await clear(await containedPath(root, [...parts.slice(0, -1), victim]));
      continue;
    }
    const path = await containedPath(root, parts);
    if (relative(root, path).startsWith('..')) throw new PingetError('INTERNAL', `${what}: ${h.name} resolved outside the root`);
    await ensureDir(dirname(path));
    const existing = await lstat(path).catch(() => undefined);
    switch (h.type) {
      case 'directory':
        entry.resume();
        await ensureDir(path, h.mode);
        break;
      case 'file':
      case 'contiguous-file':
        if (existing) await clear(path);
        await writeFileFrom(path, entry, h.mode ?? 0o644);
        break;
      case 'symlink':
        entry.resume();
        if (existing) await clear(path);
        await symlink(h.linkname ?? '', path);
        break;
      case 'link': {
        entry.resume();
        const target = await containedPath(root, checkedParts(h.linkname ?? '', `${what}: hard link ${h.name}`));
        const st = await lstat(target).catch(() => undefined);
        if (!st?.isFile()) throw new PingetError('BAD_INPUT', `${what}: hard link ${h.name} -> ${h.linkname}: no such regular file in the image; refusing the image`);
        if (existing) await clear(path);
        await link(target, path);
        break;
      }
      default:
        entry.resume();
        stats.skipped++;
        continue;
    }
    created.add(path);
  }
  for (const dir of opaque) if ((await lstat(dir).catch(() => undefined))?.isDirectory()) await hideLower(dir, created);
  return stats;
}

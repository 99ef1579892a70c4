/** Opening files that come from outside without trusting their type: FIFOs, devices and symlinks to them are refused. */
import { constants as fsConstants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { PingetError, reasonOf, type ErrorCode } from './errors.js';
import { hashHandle } from './verify/sha256.js';

export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return st.isFile() ? 'a regular file' : 'not a regular file';
}

/**
 * Opens a file to read it whole, refusing what is not a regular file (a FIFO, a device, a symlink to
 * /dev/zero: the target counts) with exit 2 naming it. O_NONBLOCK: opening a FIFO must not hang.
 * `directory` is the code for a directory there (a mirror without that file: NOT_FOUND). `noFollow`:
 * a symlink as the last component is refused too (ELOOP), not followed (a file in a shared cache).
 */
export async function openRegular(file: string, directory: ErrorCode = 'BAD_INPUT', opts: { noFollow?: boolean } = {}): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY | (opts.noFollow ? fsConstants.O_NOFOLLOW : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new PingetError('NOT_FOUND', `${file}: no such file`, { cause: e });
    throw new PingetError('BAD_INPUT', `${file}: cannot read: ${reasonOf(e)}`, { cause: e });
  }
  let st: Stats;
  try {
    st = await fh.stat();
  } catch (e) {
    await fh.close();
    throw new PingetError('BAD_INPUT', `${file}: cannot read: ${reasonOf(e)}`, { cause: e });
  }
  if (!st.isFile()) {
    await fh.close();
    throw new PingetError(st.isDirectory() ? directory : 'BAD_INPUT', `${file}: ${fileKind(st)}, not a regular file; refusing to read it`);
  }
  return fh;
}

/** The first `length` bytes of a file (fewer when it is shorter), to tell its format by its magic number. */
export async function readHead(file: string, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Copies src to a new file (`wx`, 0644) while hashing it: the bytes written are the bytes verified, read
 * once; src is opened without following a symlink. A hash other than `sha256` is INTEGRITY (the caller
 * removes `tmp`). Returns the new file's inode.
 */
export async function copyHashing(src: string, sha256: string, tmp: string): Promise<number> {
  const input = await openRegular(src, 'BAD_INPUT', { noFollow: true });
  try {
    const output = await open(tmp, 'wx', 0o644);
    try {
      const { sha256: got } = await hashHandle(input, async (chunk) => {
        for (let off = 0; off < chunk.length; ) off += (await output.write(chunk, off)).bytesWritten;
      });
      if (got !== sha256) throw new PingetError('INTEGRITY', `${src}: the cached file changed while it was copied (sha256 ${got}, expected ${sha256})`);
      return (await output.stat()).ino;
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/** Opening files that come from outside without trusting their type: FIFOs, devices and symlinks to them are refused. */
import { constants as fsConstants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { PingetError, reasonOf, type ErrorCode } from './errors.js';

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

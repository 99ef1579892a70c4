/** Free space where a download will be written, checked before one of known size starts. */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PingetError } from '../errors.js';

const MIB = 1024 * 1024;

/** Bytes available to this user on the filesystem holding dir (or its nearest existing parent). */
export async function freeBytes(dir: string): Promise<{ dir: string; free: number }> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const s = await statfs(d);
      return { dir: d, free: s.bavail * s.bsize };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) throw e;
    }
  }
}

/** Throws UNAVAILABLE (exit 4), saying how much is needed, when bytes do not fit under dir. */
export async function ensureFreeSpace(dir: string, bytes: number): Promise<void> {
  const { free } = await freeBytes(dir);
  if (bytes > free) {
    throw new PingetError('UNAVAILABLE', `needs ${Math.ceil(bytes / MIB)} MiB, ${Math.floor(free / MIB)} MiB free on ${dir}`);
  }
}

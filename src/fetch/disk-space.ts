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

/** A reading is reused this long, less what was promised since; a download that would not fit asks again. */
const READING_MS = 1000;
const readings = new Map<string, { free: number; at: number; promised: number }>();

/**
 * Throws UNAVAILABLE (exit 4), saying how much is needed, when bytes do not fit under dir. One statfs
 * serves the downloads of the next second: each one's size is taken off that reading.
 */
export async function ensureFreeSpace(dir: string, bytes: number): Promise<void> {
  let r = readings.get(dir);
  if (!r || Date.now() - r.at > READING_MS || bytes > r.free - r.promised) {
    r = { free: (await freeBytes(dir)).free, at: Date.now(), promised: 0 };
    readings.set(dir, r);
  }
  if (bytes > r.free - r.promised) {
    throw new PingetError('UNAVAILABLE', `needs ${Math.ceil(bytes / MIB)} MiB, ${Math.floor(Math.max(0, r.free - r.promised) / MIB)} MiB free on ${dir}`);
  }
  r.promised += bytes;
}

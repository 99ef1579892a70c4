/**
 * A stream written to a file and hashed on the way: one consumer, chunks hashed as they come and written
 * in batches of about WRITE_BATCH bytes with one writev(2) each (no copy into a bigger buffer).
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { finished, type Readable } from 'node:stream';

/** About this many bytes go to disk per writev(2) while a blob streams in. */
const WRITE_BATCH = 1 << 20;

/** writev(2) of every byte of `chunks`; a short write (near a full disk) continues where it stopped. */
async function writeAll(fh: FileHandle, chunks: Buffer[]): Promise<void> {
  let rest = chunks;
  for (;;) {
    const total = rest.reduce((n, c) => n + c.length, 0);
    const { bytesWritten } = await fh.writev(rest);
    if (bytesWritten >= total) return;
    if (bytesWritten === 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
    let skip = bytesWritten;
    const left: Buffer[] = [];
    for (const c of rest) {
      if (skip >= c.length) skip -= c.length;
      else {
        left.push(skip > 0 ? c.subarray(skip) : c);
        skip = 0;
      }
    }
    rest = left;
  }
}

/**
 * Writes every chunk of `source` to `fh` and hashes it. Flowing mode ('data' events), not for-await:
 * read() would concatenate the chunks a Readable has buffered, a copy of every byte.
 */
export function writeHashing(source: Readable, fh: FileHandle, onBytes?: (n: number) => void): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let writing: Promise<void> = Promise.resolve();
    let failed = false;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      source.off('data', onData);
      source.destroy();
      reject(e);
    };
    const flush = () => {
      const chunks = batch;
      batch = [];
      batchBytes = 0;
      writing = writing.then(() => writeAll(fh, chunks));
      return writing;
    };
    const onData = (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(chunk.length);
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes < WRITE_BATCH) return;
      // One write in flight per blob: the source waits for the disk.
      source.pause();
      flush().then(() => failed || source.resume(), fail);
    };
    source.on('data', onData);
    finished(source, { writable: false }, (err) => {
      if (err) return fail(err);
      if (failed) return;
      flush().then(() => resolve({ sha256: hash.digest('hex'), bytes }), fail);
    });
  });
}

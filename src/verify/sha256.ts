/** sha256 of streams and files, through Node's crypto (OpenSSL: SHA-NI where the CPU has it). */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Reads of this size keep the hash, not the system calls, the bottleneck. */
export const READ_CHUNK = 4 << 20;

/** Hashes an open file from its start; `each` sees every chunk (to copy it on the way) before the next read. */
export async function hashHandle(fh: FileHandle, each?: (chunk: Buffer) => Promise<void>): Promise<{ sha256: string; bytes: number }> {
  const hash: Hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  let bytes = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, bytes);
    if (bytesRead === 0) break;
    const chunk = buf.subarray(0, bytesRead);
    hash.update(chunk);
    if (each) await each(chunk);
    bytes += bytesRead;
  }
  return { sha256: hash.digest('hex'), bytes };
}

export async function sha256File(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    return (await hashHandle(fh)).sha256;
  } finally {
    await fh.close();
  }
}

export function sha256Bytes(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A pass-through stream that hashes what flows through it and counts bytes. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * The content-addressed cache: <cache>/blobs/sha256/<hex>, the OCI image-layout shape.
 * Bytes enter only after their hash matched: they are written to <cache>/tmp, hashed on the way,
 * fsynced, then renamed into place. rename(2) is atomic, so two pinget processes can share a cache:
 * the loser of a race renames identical bytes over identical bytes. The cache stores and verifies;
 * it does not fetch. A blob is re-hashed whenever it is used (verifyBlob): the disk is not trusted.
 * Crash-only: temp files are named `<hex>.pinget-tmp-<pid>-<rand>`; sweepTemp() removes those of
 * processes that are gone, and never a live process's.
 */
import { createWriteStream, constants as fsConstants } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PingetError, reasonOf } from './errors.js';
import { openRegular } from './fs-safe.js';
import { sweepTempFiles, tempName } from './fs-atomic.js';
import { HashingStream, SHA256_HEX } from './verify/sha256.js';
import { hashFileOffThread, type FileHash } from './verify/hash-pool.js';

export interface BlobInfo {
  sha256: string;
  size: number;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PINGET_CACHE) return env.PINGET_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'pinget');
}

export class Cache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  private get blobDir(): string {
    return join(this.dir, 'blobs', 'sha256');
  }

  private get tmpDir(): string {
    return join(this.dir, 'tmp');
  }

  blobPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new PingetError('INTERNAL', `not a sha256: ${sha256}`);
    return join(this.blobDir, sha256);
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.blobPath(sha256))).isFile();
    } catch {
      return false;
    }
  }

  private async tempFile(sha256: string): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.blobDir, { recursive: true });
    return join(this.tmpDir, tempName(sha256));
  }

  /** Removes the temp files of processes that are gone (a kill -9, a crash); a live process's stay. */
  sweepTemp(): Promise<number> {
    return sweepTempFiles(this.tmpDir);
  }

  /** rename(2) into blobs/, recreating blobs/ if someone removed it meanwhile. */
  private async moveIntoPlace(tmp: string, dest: string): Promise<void> {
    try {
      await rename(tmp, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (!(await stat(tmp).catch(() => undefined))) {
        throw new PingetError('UNAVAILABLE', `${tmp}: the temp file vanished before it was renamed into the cache (a concurrent cleanup?)`, { cause: e });
      }
      await mkdir(this.blobDir, { recursive: true });
      await rename(tmp, dest);
    }
  }

  /**
   * Streams into a fresh temp file, fsyncs it and hashes it on the way, then lets `decide` name the
   * blob it becomes (or throw). The temp file is removed on any failure: nothing half-written is kept.
   */
  private async store<T>(label: string, source: Readable, signal: AbortSignal | undefined, decide: (got: string, bytes: number) => Promise<{ dest: string; result: T }>): Promise<T> {
    const tmp = await this.tempFile(label);
    const hasher = new HashingStream();
    // The write stream owns its fd: on a source error pipeline() destroys it, and closing a
    // borrowed fd again would be EBADF (masking the real error) or close another file's reused fd.
    const out = createWriteStream(tmp, { flags: 'wx' });
    try {
      await pipeline(source, hasher, out, { signal });
      const { dest, result } = await decide(hasher.digest(), hasher.bytes);
      // The one fsync: the bytes are on disk before the rename makes them a blob (fsync works on a read-only fd).
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.moveIntoPlace(tmp, dest);
      return result;
    } catch (e) {
      // A stream destroyed while still opening creates its file afterwards: wait for it to close.
      if (!out.closed) await once(out, 'close').catch(() => {});
      await rm(tmp, { force: true }).catch(() => {});
      throw e;
    }
  }

  /**
   * Writes a stream into the cache under its expected hash. On a mismatch the temp file is removed
   * and an INTEGRITY error says what arrived instead; nothing enters the cache.
   */
  ingest(sha256: string, source: Readable, signal?: AbortSignal): Promise<string> {
    return this.store(sha256, source, signal, async (got, bytes) => {
      if (got !== sha256) throw new PingetError('INTEGRITY', `hash mismatch: expected sha256 ${sha256}, got ${got} (${bytes} bytes)`);
      const dest = this.blobPath(sha256);
      return { dest, result: dest };
    });
  }

  /**
   * Stores a stream under the hash it turns out to have (content addressing holds by construction).
   * For bytes that did not match their pin but that an adapter may still accept, e.g. a re-signed apk.
   */
  ingestUnpinned(source: Readable, signal?: AbortSignal): Promise<{ sha256: string; file: string; existed: boolean }> {
    return this.store('unpinned', source, signal, async (sha256) => {
      const file = this.blobPath(sha256);
      return { dest: file, result: { sha256, file, existed: await this.has(sha256) } };
    });
  }

  /** Copies a local file into the cache after checking its hash; anything but a regular file is refused (exit 2). */
  async ingestFile(sha256: string, file: string): Promise<string> {
    if (await this.has(sha256)) return this.blobPath(sha256);
    const fh = await openRegular(file);
    return this.ingest(sha256, fh.createReadStream({ highWaterMark: 1 << 20 }));
  }

  /**
   * Re-hashes the cached blob of `sha256` before it is used: 'hit' with its size when it matches,
   * 'miss' when there is none, 'corrupt' (the blob is removed) when its bytes changed.
   */
  async verifyBlob(sha256: string): Promise<{ state: 'hit'; file: string; size: number } | { state: 'miss' } | { state: 'corrupt'; got: string }> {
    const file = this.blobPath(sha256);
    // A miss needs no worker thread (a cold download misses every blob): lstat says so first.
    if (!(await lstat(file).then(() => true, (e: NodeJS.ErrnoException) => e.code !== 'ENOENT'))) return { state: 'miss' };
    let res: FileHash;
    try {
      res = await hashFileOffThread(file);
    } catch (e) {
      throw new PingetError('UNAVAILABLE', `${file}: cannot read the cached blob: ${reasonOf(e)}`, { cause: e });
    }
    if (res.kind === 'missing') return { state: 'miss' };
    if (res.kind === 'file' && res.sha256 === sha256) return { state: 'hit', file, size: res.bytes };
    await this.remove(sha256);
    return { state: 'corrupt', got: res.kind === 'file' ? res.sha256 : res.kind === 'symlink' ? 'a symbolic link' : res.what };
  }

  async list(): Promise<BlobInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.blobDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: BlobInfo[] = [];
    for (const name of names.filter((n) => SHA256_HEX.test(n)).sort()) {
      const st = await stat(join(this.blobDir, name)).catch(() => undefined);
      if (st?.isFile()) out.push({ sha256: name, size: st.size });
    }
    return out;
  }

  /** Re-hashes every blob; removes those whose bytes no longer match their name. */
  async verify(onBlob?: (sha256: string, ok: boolean) => void): Promise<{ ok: string[]; bad: string[] }> {
    const ok: string[] = [];
    const bad: string[] = [];
    for (const { sha256 } of await this.list()) {
      const res = await this.verifyBlob(sha256);
      if (res.state === 'miss') continue;
      (res.state === 'hit' ? ok : bad).push(sha256);
      onBlob?.(sha256, res.state === 'hit');
    }
    return { ok, bad };
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.blobPath(sha256), { force: true });
  }

  /**
   * Removes the blobs (all, or all that `keep` does not keep) and the temp files of processes that
   * are gone. A running download's temp file stays, so `cache clean` never breaks another pinget.
   */
  async clean(keep?: (sha256: string) => boolean): Promise<number> {
    let removed = 0;
    for (const { sha256 } of await this.list()) {
      if (keep?.(sha256)) continue;
      await rm(this.blobPath(sha256), { force: true });
      removed++;
    }
    await this.sweepTemp();
    return removed;
  }

  /** Copies a verified blob to dest through a temp name (a reflink where the file system can). */
  async materialize(sha256: string, dest: string): Promise<void> {
    const tmp = tempName(dest);
    try {
      await copyFile(this.blobPath(sha256), tmp, fsConstants.COPYFILE_FICLONE);
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw e;
    }
  }
}


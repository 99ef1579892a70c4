/**
 * The content-addressed cache: <cache>/blobs/sha256/<hex>, the OCI image-layout shape.
 * Bytes enter only after their hash matched: they are written to <cache>/tmp, hashed on the way,
 * fsynced, then renamed into place. rename(2) is atomic, so two pinget processes can share a cache:
 * the loser of a race renames identical bytes over identical bytes. The cache stores and verifies;
 * it does not fetch. A blob is re-hashed whenever it is used (verifyBlob): the disk is not trusted.
 * Crash-only: temp files are named `<hex>.pinget-tmp-<pid>-<rand>`; sweepTemp() removes those of
 * processes that are gone, and never a live process's.
 */
import { constants as fsConstants } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { finished, type Readable } from 'node:stream';
import { PingetError, reasonOf } from './errors.js';
import { openRegular } from './fs-safe.js';
import { sweepTempFiles, tempName } from './fs-atomic.js';
import { SHA256_HEX } from './verify/sha256.js';
import { hashFileOffThread, hashPoolStarted, type FileHash } from './verify/hash-pool.js';

export interface BlobInfo {
  sha256: string;
  size: number;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PINGET_CACHE) return env.PINGET_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'pinget');
}

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
function writeHashing(source: Readable, fh: FileHandle, onBytes?: (n: number) => void): Promise<{ sha256: string; bytes: number }> {
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

  /** The cache's directories, made once per Cache (moveIntoPlace makes blobs/ again if it vanished). */
  private dirsMade?: Promise<void>;

  private async tempFile(sha256: string): Promise<string> {
    this.dirsMade ??= (async () => {
      await mkdir(this.tmpDir, { recursive: true });
      await mkdir(this.blobDir, { recursive: true });
    })();
    try {
      await this.dirsMade;
    } catch (e) {
      this.dirsMade = undefined;
      throw e;
    }
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
   * Streams into a fresh temp file, hashing on the way, fsyncs it, then lets `decide` name the blob it
   * becomes (or throw). The temp file is removed on any failure: nothing half-written is kept.
   * One consumer instead of a pipeline of streams: chunks are hashed as they come and written in
   * batches of about WRITE_BATCH bytes with one writev(2) each (no copy into a bigger buffer).
   */
  private async store<T>(
    label: string,
    source: Readable,
    signal: AbortSignal | undefined,
    decide: (got: string, bytes: number) => Promise<{ dest: string; result: T }>,
    onBytes?: (n: number) => void,
  ): Promise<T> {
    signal?.throwIfAborted();
    const tmp = await this.tempFile(label);
    const onAbort = () => source.destroy(signal!.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    let fh: FileHandle | undefined;
    try {
      fh = await open(tmp, 'wx');
      const { sha256, bytes } = await writeHashing(source, fh, onBytes);
      signal?.throwIfAborted();
      const { dest, result } = await decide(sha256, bytes);
      // The one fsync: the bytes are on disk before the rename makes them a blob.
      await fh.sync();
      const closing = fh;
      fh = undefined;
      await closing.close();
      await this.moveIntoPlace(tmp, dest);
      return result;
    } catch (e) {
      await fh?.close().catch(() => {});
      await rm(tmp, { force: true }).catch(() => {});
      throw signal?.aborted ? signal.reason : e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Writes a stream into the cache under its expected hash. On a mismatch the temp file is removed
   * and an INTEGRITY error says what arrived instead; nothing enters the cache.
   */
  ingest(sha256: string, source: Readable, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<string> {
    return this.store(
      sha256,
      source,
      signal,
      async (got, bytes) => {
        if (got !== sha256) throw new PingetError('INTEGRITY', `hash mismatch: expected sha256 ${sha256}, got ${got} (${bytes} bytes)`);
        const dest = this.blobPath(sha256);
        return { dest, result: dest };
      },
      onBytes,
    );
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
    // A miss needs no worker thread (a cold download misses every blob): lstat says so first, unless the
    // workers run already (an install: mostly hits), which report a missing file themselves.
    if (!hashPoolStarted() && !(await lstat(file).then(() => true, (e: NodeJS.ErrnoException) => e.code !== 'ENOENT'))) return { state: 'miss' };
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


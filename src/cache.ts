/**
 * The content-addressed cache: <cache>/blobs/sha256/<hex>, the OCI image-layout shape.
 * Bytes enter only after their hash matched: they are written to <cache>/tmp, hashed on the way,
 * fsynced, then renamed into place. rename(2) is atomic, so two pinget processes can share a cache:
 * the loser of a race renames identical bytes over identical bytes. The cache stores and verifies;
 * it does not fetch. A blob is re-hashed whenever it is used (verifyBlob): the disk is not trusted.
 * Crash-only: temp files are named `<hex>.pinget-tmp-<pid>-<rand>`; sweepTemp() removes those of
 * processes that are gone, and never a live process's.
 */
import { constants as fsConstants, renameSync, type Stats } from 'node:fs';
import { chmod, copyFile, lstat, mkdtemp, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { PingetError, reasonOf } from './errors.js';
import { copyHashing, openRegular } from './fs-safe.js';
import { onlyWeCanChange, openCacheDirs, type CacheDirs } from './cache-trust.js';
import { sweepTempFiles, tempName } from './fs-atomic.js';
import { SHA256_HEX } from './verify/sha256.js';
import { hashFile, type FileHash } from './verify/hash-pool.js';
import { writeHashing } from './write-hashing.js';
import { GroupSync } from './group-sync.js';

export interface BlobInfo {
  sha256: string;
  size: number;
}

export { defaultCacheDir } from './cache-dir.js';

export interface CacheOptions {
  /** Accept a cache directory others can write (--trust-shared-cache); see cache-trust.ts. */
  trustShared?: boolean;
}

export class Cache {
  readonly dir: string;
  private readonly opts: CacheOptions;

  constructor(dir: string, opts: CacheOptions = {}) {
    // Absolute: its paths are handed to tools that run elsewhere (lock's apt reads relative Dir:: paths under /).
    this.dir = resolve(dir);
    this.opts = opts;
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

  private opened?: { write: boolean; dirs: Promise<CacheDirs | undefined> };

  /**
   * The cache's directories, checked (cache-trust.ts) and opened once; `write` also makes them and
   * proves a file can be written there, so an unusable cache is exit 2 before the first request.
   * Handles opened for reading stay open when a write opens them again: a descriptor in use is never
   * closed (its number could be reused for another directory under a running operation).
   */
  private open(write: boolean): Promise<CacheDirs | undefined> {
    const cur = this.opened;
    if (cur && (cur.write || !write)) return cur.dirs;
    const dirs = openCacheDirs(this.dir, { trustShared: this.opts.trustShared, create: write });
    this.opened = { write, dirs };
    return dirs;
  }

  /** Checks the cache and makes it ready for writing (exit 2 when it cannot be used); call before the first request. */
  async prepare(): Promise<{ shared: boolean }> {
    const dirs = await this.open(true);
    return { shared: !!dirs?.shared };
  }

  /** Whether a blob file may be hard-linked out: a private cache, and a file only we (or root) can change. */
  async mayLink(st: Stats): Promise<boolean> {
    const dirs = await this.open(false);
    return !!dirs && !dirs.shared && onlyWeCanChange(st);
  }

  /** The path that reaches a blob through the opened blobs/sha256 directory, or undefined without one. */
  private async blobAt(sha256: string, write = false): Promise<string | undefined> {
    this.blobPath(sha256);
    return (await this.open(write))?.blobs?.at(sha256);
  }

  async has(sha256: string): Promise<boolean> {
    const at = await this.blobAt(sha256);
    if (!at) return false;
    return lstat(at).then((st) => st.isFile(), () => false);
  }

  private async tempFile(label: string): Promise<{ path: string; dirs: CacheDirs }> {
    const dirs = (await this.open(true))!;
    return { path: dirs.tmp!.at(tempName(label)), dirs };
  }

  /** Removes the temp files of processes that are gone (a kill -9, a crash); a live process's stay. */
  async sweepTemp(): Promise<number> {
    const tmp = (await this.open(false))?.tmp;
    return tmp ? sweepTempFiles(tmp.at(''), { dirs: true }) : 0;
  }

  /**
   * rename(2) into blobs/, opening blobs/ again if someone removed it meanwhile. `byName`: the path that
   * still reaches the file after that (a temp file in the old tmp/ handle: by tmp/'s name, if it stayed).
   */
  private async moveIntoPlace(from: string, dirs: CacheDirs, sha256: string, byName = join(this.tmpDir, basename(from))): Promise<void> {
    try {
      // Synchronous: a metadata call of microseconds, where the thread pool's round trip costs more.
      renameSync(from, dirs.blobs!.at(sha256));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (!(await lstat(from).catch(() => undefined))) {
        throw new PingetError('UNAVAILABLE', `${byName}: the file of ${sha256} vanished before it was renamed into the cache (a concurrent cleanup?)`, { cause: e });
      }
      this.opened = undefined;
      const again = (await this.open(true))!;
      await rename(byName, again.blobs!.at(sha256));
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
    decide: (got: string, bytes: number) => Promise<{ name: string; result: T }>,
    onBytes?: (n: number) => void,
  ): Promise<T> {
    signal?.throwIfAborted();
    const { path: tmp, dirs } = await this.tempFile(label);
    const onAbort = () => source.destroy(signal!.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    let fh: FileHandle | undefined;
    try {
      fh = await open(tmp, 'wx', 0o644);
      // Members of a sharing group read what we store, whatever our umask.
      if (dirs.shared) await fh.chmod(0o644);
      const { sha256, bytes } = await writeHashing(source, fh, onBytes);
      signal?.throwIfAborted();
      const { name, result } = await decide(sha256, bytes);
      // The one fsync: the bytes are on disk before the rename makes them a blob.
      await fh.sync();
      const closing = fh;
      fh = undefined;
      await closing.close();
      await this.moveIntoPlace(tmp, dirs, name);
      return result;
    } catch (e) {
      await fh?.close().catch(() => {});
      await rm(tmp, { force: true }).catch(() => {});
      throw signal?.aborted ? signal.reason : (dirs.tmp?.explain(dirs.blobs?.explain(e) ?? e) ?? e);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private readonly groupSync = new GroupSync();

  /**
   * Takes a file of the caller's own (a blob a provider staged: nothing else writes it any more) into
   * the cache under its expected hash: hashed where it is (a small file on this thread, a large one off
   * it), made durable with the other files ready at the same time (one syncfs of the cache's file system,
   * group-sync.ts), then renamed into blobs/ (no copy). A mismatch removes it and is an INTEGRITY error,
   * as for ingest(); a file on another file system than the cache (EXDEV) is streamed in by ingest().
   * The file is gone afterwards. `onBytes`, as for ingest(): the bytes hashed (all at once here).
   */
  async ingestOwned(sha256: string, file: string, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<string> {
    signal?.throwIfAborted();
    this.blobPath(sha256); // refuses a sha256 of the wrong form before anything is read
    const dirs = (await this.open(true))!;
    let streamed = false;
    let placed = false;
    try {
      const res = await hashFile(file);
      if (res.kind === 'missing') throw new PingetError('UNAVAILABLE', `${file}: the staged file of ${sha256} vanished before it was hashed (a concurrent cleanup?)`);
      if (res.kind !== 'file') throw new PingetError('INTEGRITY', `expected sha256 ${sha256}, got ${res.kind === 'symlink' ? 'a symbolic link' : res.what}`);
      if (res.sha256 !== sha256) throw new PingetError('INTEGRITY', `hash mismatch: expected sha256 ${sha256}, got ${res.sha256} (${res.bytes} bytes)`);
      signal?.throwIfAborted();
      if (dirs.shared) await chmod(file, 0o644);
      // syncfs of the cache's file system: covers the file when the rename below can succeed at all.
      await this.groupSync.durable(file, dirs.tmp!.fd);
      try {
        await this.moveIntoPlace(file, dirs, sha256, file);
        placed = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
        streamed = true;
        return await this.ingest(sha256, createReadStream(file, { highWaterMark: 1 << 20 }), signal, onBytes);
      }
      onBytes?.(res.bytes);
      return this.blobPath(sha256);
    } catch (e) {
      if (streamed) throw e;
      throw signal?.aborted ? signal.reason : (dirs.tmp?.explain(dirs.blobs?.explain(e) ?? e) ?? e);
    } finally {
      if (!placed) await rm(file, { force: true }).catch(() => {});
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
        return { name: sha256, result: this.blobPath(sha256) };
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
      return { name: sha256, result: { sha256, file, existed: await this.has(sha256) } };
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
    // Through the blobs/sha256 directory opened and checked once; the worker opens with O_NOFOLLOW.
    const dirs = await this.open(false);
    const at = dirs?.blobs?.at(sha256);
    if (!at) return { state: 'miss' };
    // A miss or a small blob needs no worker thread (a cold download misses every blob): hashFile answers
    // those here unless the workers run already (an install: mostly hits).
    let res: FileHash;
    try {
      res = await hashFile(at);
    } catch (e) {
      throw new PingetError('UNAVAILABLE', `${file}: cannot read the cached blob: ${reasonOf(dirs!.blobs!.explain(e))}`, { cause: e });
    }
    if (res.kind === 'missing') return { state: 'miss' };
    if (res.kind === 'file' && res.sha256 === sha256) return { state: 'hit', file, size: res.bytes };
    await this.remove(sha256);
    return { state: 'corrupt', got: res.kind === 'file' ? res.sha256 : res.kind === 'symlink' ? 'a symbolic link' : res.what };
  }

  /**
   * The names in blobs/sha256 now, read once (undefined without a blobs directory): a name not listed is
   * a miss without a lookup of its own. A snapshot: a blob another process adds meanwhile is missed.
   */
  async names(): Promise<Set<string>> {
    const blobs = (await this.open(false))?.blobs;
    if (!blobs) return new Set();
    return new Set(await readdir(blobs.at('')).catch((e) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new PingetError('UNAVAILABLE', `${this.blobDir}: cannot list the cache: ${reasonOf(blobs.explain(e))}`, { cause: e });
    }));
  }

  async list(): Promise<BlobInfo[]> {
    const blobs = (await this.open(false))?.blobs;
    if (!blobs) return [];
    const names = await readdir(blobs.at(''));
    const out: BlobInfo[] = [];
    for (const name of names.filter((n) => SHA256_HEX.test(n)).sort()) {
      // lstat: a symlink in the cache is not a blob.
      const st = await lstat(blobs.at(name)).catch(() => undefined);
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
    const at = await this.blobAt(sha256);
    if (at) await rm(at, { force: true });
  }

  /**
   * Removes the blobs (all, or all that `keep` does not keep) and the temp files of processes that
   * are gone. A running download's temp file stays, so `cache clean` never breaks another pinget.
   */
  async clean(keep?: (sha256: string) => boolean): Promise<number> {
    let removed = 0;
    for (const { sha256 } of await this.list()) {
      if (keep?.(sha256)) continue;
      await this.remove(sha256);
      removed++;
    }
    await this.sweepTemp();
    return removed;
  }

  private privateDir?: Promise<string>;
  /** sha256 -> its private copy (paths sharing a hash share the copy). */
  private copies = new Map<string, Promise<string>>();

  /**
   * The file to hand to a package manager for a verified blob. From a private cache: the blob itself.
   * From a shared one (a group's, or --trust-shared-cache) another user could still rewrite or replace
   * the blob after it was verified: a copy in a directory of our own (mode 0700 in the OS temp dir, where
   * no one else can rename it), hashed as it is copied. dispose() removes the copies.
   */
  async forUse(sha256: string, file: string): Promise<string> {
    const dirs = await this.open(false);
    if (!dirs?.shared) return file;
    let copy = this.copies.get(sha256);
    if (!copy) {
      copy = this.copyPrivately(dirs, sha256, file);
      this.copies.set(sha256, copy);
    }
    return copy;
  }

  private async copyPrivately(dirs: CacheDirs, sha256: string, file: string): Promise<string> {
    this.privateDir ??= mkdtemp(join(tmpdir(), `pinget-private-${process.pid}-`));
    const dest = join(await this.privateDir, sha256);
    try {
      await copyHashing(dirs.blobs?.at(sha256) ?? file, sha256, dest);
    } catch (e) {
      this.copies.delete(sha256);
      await rm(dest, { force: true }).catch(() => {});
      throw dirs.blobs?.explain(e) ?? e;
    }
    return dest;
  }

  /** Removes the private copies forUse() made. */
  async dispose(): Promise<void> {
    const dir = this.privateDir;
    this.privateDir = undefined;
    this.copies.clear();
    if (dir) await rm(await dir, { recursive: true, force: true }).catch(() => {});
  }

  /** Copies a verified blob to dest through a temp name (a reflink where the file system can). */
  async materialize(sha256: string, dest: string): Promise<void> {
    const tmp = tempName(dest);
    const at = await this.blobAt(sha256);
    // Never through a symlink planted in the cache.
    if (!at || !(await lstat(at)).isFile()) throw new PingetError('NOT_FOUND', `${this.blobPath(sha256)}: no such blob in the cache`);
    try {
      await copyFile(at, tmp, fsConstants.COPYFILE_FICLONE);
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw e;
    }
  }
}


/**
 * sha256 of whole files on worker threads, so re-verifying cache hits uses every core: on the main
 * thread, hash.update() runs one file at a time however many reads are in flight. The worker opens
 * the file itself (O_NOFOLLOW | O_NONBLOCK, then fstat: a FIFO or device is reported, never read) and
 * reads it in 4 MiB chunks. The worker source is inline (eval), so the single-file bundle carries it.
 * Workers are unref'd: an idle pool never keeps the process alive.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export type FileHash = { kind: 'file'; sha256: string; bytes: number } | { kind: 'missing' } | { kind: 'symlink' } | { kind: 'other'; what: string };

/** What a path is when it is no regular file (also the worker's, by its source). */
function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const buf = Buffer.allocUnsafe(4 << 20);
const kind = ${kindOf.toString()};
parentPort.on('message', ({ file }) => {
  let fd;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    if (e.code === 'ENOENT') return parentPort.postMessage({ result: { kind: 'missing' } });
    if (e.code === 'ELOOP') return parentPort.postMessage({ result: { kind: 'symlink' } });
    return parentPort.postMessage({ error: { message: e.message, code: e.code } });
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return parentPort.postMessage({ result: { kind: 'other', what: kind(st) } });
    const hash = createHash('sha256');
    let pos = 0;
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) hash.update(buf.subarray(0, n));
    parentPort.postMessage({ result: { kind: 'file', sha256: hash.digest('hex'), bytes: pos } });
  } catch (e) {
    parentPort.postMessage({ error: { message: e.message, code: e.code } });
  } finally {
    fs.closeSync(fd);
  }
});
`;

interface Job {
  file: string;
  resolve: (r: FileHash) => void;
  reject: (e: Error) => void;
}

/**
 * Files queued on one worker at a time: it answers in order, and the next file is already waiting when it
 * finishes one, instead of a round trip through a main thread busy with other work.
 */
const DEPTH = 4;

class HashPool {
  private readonly workersUp: Worker[] = [];
  private readonly queue: Job[] = [];
  /** Each worker's files, oldest first (it hashes them in that order). */
  private readonly running = new Map<Worker, Job[]>();

  constructor(private readonly size: number) {}

  /** Starts every worker now, so their start-up overlaps other work instead of the first hash. */
  warm(): void {
    while (this.workersUp.length < this.size) this.spawn();
  }

  hash(file: string): Promise<FileHash> {
    return new Promise((resolve, reject) => {
      this.queue.push({ file, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      // Spread the files: the least busy worker first; a new one while the pool is below its size.
      let worker = this.workersUp.reduce<Worker | undefined>((best, w) => (!best || this.jobsOf(w).length < this.jobsOf(best).length ? w : best), undefined);
      if ((!worker || this.jobsOf(worker).length > 0) && this.workersUp.length < this.size) worker = this.spawn();
      if (!worker || this.jobsOf(worker).length >= DEPTH) return;
      const job = this.queue.shift()!;
      this.jobsOf(worker).push(job);
      worker.ref();
      worker.postMessage({ file: job.file });
    }
  }

  private jobsOf(worker: Worker): Job[] {
    let jobs = this.running.get(worker);
    if (!jobs) this.running.set(worker, (jobs = []));
    return jobs;
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    this.workersUp.push(worker);
    worker.on('message', (msg: { result?: FileHash; error?: { message: string; code?: string } }) => {
      const jobs = this.jobsOf(worker);
      const job = jobs.shift();
      if (jobs.length === 0) worker.unref();
      if (job) {
        if (msg.result) job.resolve(msg.result);
        else job.reject(Object.assign(new Error(`${job.file}: ${msg.error?.message}`), { code: msg.error?.code, path: job.file }));
      }
      this.pump();
    });
    worker.on('error', (e) => {
      // A worker that dies fails what it was doing; the pool starts another for the rest.
      this.workersUp.splice(this.workersUp.indexOf(worker), 1);
      const jobs = this.jobsOf(worker);
      this.running.delete(worker);
      for (const job of jobs) job.reject(e);
      this.pump();
    });
    worker.unref();
    return worker;
  }
}

let pool: HashPool | undefined;

function sharedPool(): HashPool {
  return (pool ??= new HashPool(Math.max(1, Math.min(8, availableParallelism()))));
}

/** Hashes a file on the shared pool (one worker per core, at most 8). */
export function hashFileOffThread(file: string): Promise<FileHash> {
  return sharedPool().hash(file);
}

/** Up to this size a file is hashed on the calling thread when no worker runs yet: booting one costs more. */
export const SMALL_FILE = 1 << 20;
/** Bytes hashed on the calling thread before the pool takes over (many small files: the workers pay off again). */
const HERE_BUDGET = 32 << 20;
let hashedHere = 0;
let hereBuf: Buffer | undefined;

/**
 * As hashFileOffThread, but a file of at most SMALL_FILE bytes is hashed here while the pool is not started
 * (a few small cached packages: each worker's boot is ~0.1 s of CPU, their hashes a few ms), up to HERE_BUDGET
 * bytes in all. Opened as the worker opens it (O_NOFOLLOW | O_NONBLOCK, then fstat); a larger file, or any
 * file once the budget is spent, goes to the pool.
 */
export async function hashFile(file: string): Promise<FileHash> {
  if (pool) return pool.hash(file);
  // Synchronous calls: a small file's open, fstat and reads are each microseconds (a staged blob or a cached
  // one, in the page cache), where a call through libuv's thread pool costs two thread hops more.
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'symlink' };
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'other', what: kindOf(st) };
    if (st.size > SMALL_FILE || hashedHere + st.size > HERE_BUDGET) return await sharedPool().hash(file);
    hashedHere += st.size;
    // Read to the end, not to the size fstat gave: the bytes hashed are the bytes counted.
    const hash = createHash('sha256');
    const buf = (hereBuf ??= Buffer.allocUnsafe(1 << 16));
    let pos = 0;
    for (let n; (n = readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) hash.update(buf.subarray(0, n));
    return { kind: 'file', sha256: hash.digest('hex'), bytes: pos };
  } finally {
    closeSync(fd);
  }
}

/** Whether the workers are started already (warmHashPool, or earlier hashes): asking them costs no start-up. */
export function hashPoolStarted(): boolean {
  return pool !== undefined;
}

/** Boots the pool's workers ahead of use (a command that will re-verify cached blobs); they stay unref'd. */
export function warmHashPool(): void {
  sharedPool().warm();
}

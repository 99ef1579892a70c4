/**
 * The oci:// provider: an OCI registry as a content-addressed package store. A pushed file's blob
 * digest is its sha256, which the lockfile already holds, so a blob is fetched by digest alone:
 * `oras blob fetch --output - HOST/REPO@sha256:<hex>`, streamed; the chain hashes what arrives.
 * Many at once are cheaper through the tagged manifests that hold them (prefetch, oci-batch.ts):
 * one oras process per manifest, and open() serves the staged blob.
 *
 *   oci://HOST[:PORT]/REPOSITORY        TLS
 *   oci+http://HOST[:PORT]/REPOSITORY   plain HTTP (oras --plain-http), e.g. a registry on localhost
 */
import type { ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { SHA256_HEX } from '../verify/sha256.js';
import { PingetError } from '../errors.js';
import { blobReference, ociScheme, parseOciRepo, type OciRepo } from './oci-ref.js';
import { orasRemoteFlags, streamOras } from './oras.js';
import { capBytes, DEFAULT_MAX_BYTES } from './byte-cap.js';
import { OciBatch } from './oci-batch.js';
import type { FetchBody, FetchTarget, Provider, ProviderContext, ProviderFactory } from './types.js';

export interface OciProviderOptions {
  /** Environment for oras (PINGET_ORAS, DOCKER_CONFIG, ...); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Waits for a promise unless the signal aborts first. */
function abortable<T>(p: Promise<T> | T, signal: AbortSignal): Promise<T> {
  if (!(p instanceof Promise)) return Promise.resolve(p);
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class OciProvider implements Provider {
  readonly label: string;
  private readonly children = new Set<ChildProcess>();
  private readonly batch: OciBatch;

  constructor(
    template: string,
    readonly repo: OciRepo,
    private readonly ctx: ProviderContext,
    private readonly opts: OciProviderOptions = {},
  ) {
    this.label = template;
    this.batch = new OciBatch(repo, { log: ctx.log, env: opts.env, jobs: ctx.jobs ?? 8, spoolDir: ctx.spoolDir, idleMs: ctx.timeoutMs, maxBytes: this.maxBytes, label: template });
  }

  private get maxBytes(): number {
    return this.ctx.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** Staged blobs cost a rename, a hash and a share of one sync each: this many at once keeps the syncs full. */
  readonly stagedJobs = 64;

  prefetch(targets: FetchTarget[], signal: AbortSignal): Promise<void> {
    return this.batch.run(
      targets.map((t) => t.sha256),
      signal,
    );
  }

  async open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    if (!SHA256_HEX.test(target.sha256)) throw new PingetError('INTERNAL', `not a sha256: ${target.sha256}`);
    if (this.batch.failure) throw this.batch.failure;
    const where = `${this.label} ${target.path}`;
    const staged = await abortable(this.batch.take(target.sha256), signal);
    if (staged) {
      const { file, size } = staged;
      let stream: Readable | undefined;
      // The chain moves the file into the cache (`file`); the stream is made only for a reader that wants one.
      // No --max-size cut needed: the batch took only blobs declared within it, and oras stored exactly that size.
      return {
        file,
        size,
        get stream() {
          // `end`: a read stream without one reads in buffers of highWaterMark, whatever the file's size.
          if (stream) return stream;
          stream = createReadStream(file, { highWaterMark: 1 << 20, start: 0, end: Math.max(0, size - 1), signal });
          // Read once: the chain has the bytes (or rejected them) when the stream closes.
          stream.once('close', () => void unlink(file).catch(() => {}));
          return stream;
        },
      };
    }
    const ref = blobReference(this.repo, target.sha256);
    const release = await this.slot(signal);
    this.ctx.log.verbose(`oras blob fetch ${ref} (${target.path})`);
    try {
      const { stream, child } = await streamOras(['blob', 'fetch', ...orasRemoteFlags(this.repo), '--output', '-', ref], where, {
        env: this.opts.env,
        signal,
      });
      this.children.add(child);
      child.once('close', () => {
        this.children.delete(child);
        release();
      });
      return { stream: capBytes(stream, this.maxBytes, where) };
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Per-blob oras processes running, and the opens waiting for one of them to end. */
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /** Waits until fewer than --jobs per-blob processes run (the chain runs more opens at once: stagedJobs). */
  private async slot(signal: AbortSignal): Promise<() => void> {
    while (this.running >= (this.ctx.jobs ?? 8)) {
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = () => {
          const i = this.waiting.indexOf(wake);
          if (i >= 0) this.waiting.splice(i, 1);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiting.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    signal.throwIfAborted();
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.waiting[0]?.();
    };
  }

  async close(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    this.children.clear();
    await this.batch.close();
  }
}

export function createOciProvider(template: string, ctx: ProviderContext, opts: OciProviderOptions = {}): Provider | undefined {
  if (!ociScheme(template)) return undefined;
  return new OciProvider(template, parseOciRepo(template), ctx, opts);
}

export const ociProviderFactory: ProviderFactory = (template, ctx) => createOciProvider(template, ctx);

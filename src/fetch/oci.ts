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
    this.batch = new OciBatch(repo, { log: ctx.log, env: opts.env, jobs: ctx.jobs ?? 8, idleMs: ctx.timeoutMs, maxBytes: this.maxBytes, label: template });
  }

  private get maxBytes(): number {
    return this.ctx.maxBytes ?? DEFAULT_MAX_BYTES;
  }

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
      // `end`: a read stream without one reads in buffers of highWaterMark, whatever the file's size.
      const stream = createReadStream(file, { highWaterMark: 1 << 20, start: 0, end: Math.max(0, size - 1), signal });
      // Read once: the chain has the bytes (or rejected them) when the stream closes. No --max-size cut
      // needed: the batch took only blobs declared within it, and oras stored exactly the declared size.
      stream.once('close', () => void unlink(file).catch(() => {}));
      return { stream, size };
    }
    const ref = blobReference(this.repo, target.sha256);
    this.ctx.log.verbose(`oras blob fetch ${ref} (${target.path})`);
    const { stream, child } = await streamOras(['blob', 'fetch', ...orasRemoteFlags(this.repo), '--output', '-', ref], where, {
      env: this.opts.env,
      signal,
    });
    this.children.add(child);
    child.once('close', () => this.children.delete(child));
    return { stream: capBytes(stream, this.maxBytes, where) };
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

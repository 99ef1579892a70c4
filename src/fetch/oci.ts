/**
 * The oci:// provider: an OCI registry as a content-addressed package store. A pushed file's blob
 * digest is its sha256, which the lockfile already holds, so a blob is fetched by digest alone:
 * `oras blob fetch --output - HOST/REPO@sha256:<hex>`, streamed; the chain hashes what arrives.
 *
 *   oci://HOST[:PORT]/REPOSITORY        TLS
 *   oci+http://HOST[:PORT]/REPOSITORY   plain HTTP (oras --plain-http), e.g. a registry on localhost
 */
import type { ChildProcess } from 'node:child_process';
import { SHA256_HEX } from '../verify/sha256.js';
import { PingetError } from '../errors.js';
import { blobReference, ociScheme, parseOciRepo, type OciRepo } from './oci-ref.js';
import { streamOras } from './oras.js';
import { capBytes, DEFAULT_MAX_BYTES } from './byte-cap.js';
import type { FetchBody, FetchTarget, Provider, ProviderContext, ProviderFactory } from './types.js';

export interface OciProviderOptions {
  /** Environment for oras (PINGET_ORAS, DOCKER_CONFIG, ...); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** oras flags shared by every call against this registry. */
export function orasRemoteFlags(repo: OciRepo): string[] {
  return ['--no-tty', ...(repo.plainHttp ? ['--plain-http'] : [])];
}

export class OciProvider implements Provider {
  readonly label: string;
  private readonly children = new Set<ChildProcess>();

  constructor(
    template: string,
    readonly repo: OciRepo,
    private readonly ctx: ProviderContext,
    private readonly opts: OciProviderOptions = {},
  ) {
    this.label = template;
  }

  async open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    if (!SHA256_HEX.test(target.sha256)) throw new PingetError('INTERNAL', `not a sha256: ${target.sha256}`);
    const ref = blobReference(this.repo, target.sha256);
    this.ctx.log.verbose(`oras blob fetch ${ref} (${target.path})`);
    const { stream, child } = await streamOras(['blob', 'fetch', ...orasRemoteFlags(this.repo), '--output', '-', ref], `${this.label} ${target.path}`, {
      env: this.opts.env,
      signal,
    });
    this.children.add(child);
    child.once('close', () => this.children.delete(child));
    return { stream: capBytes(stream, this.ctx.maxBytes ?? DEFAULT_MAX_BYTES, `${this.label} ${target.path}`) };
  }

  async close(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    this.children.clear();
  }
}

export function createOciProvider(template: string, ctx: ProviderContext, opts: OciProviderOptions = {}): Provider | undefined {
  if (!ociScheme(template)) return undefined;
  return new OciProvider(template, parseOciRepo(template), ctx, opts);
}

export const ociProviderFactory: ProviderFactory = (template, ctx) => createOciProvider(template, ctx);

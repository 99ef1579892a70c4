/**
 * Batch fetching for the oci:// provider: a few oras processes for a whole lockfile instead of one per
 * blob. The registry's tags are listed (`oras repo tags`), their manifests read (`oras manifest fetch`,
 * stopping once every wanted digest is found), and each manifest that holds wanted blobs is copied
 * with `oras cp --to-oci-layout` into a staging layout of its own. oras skips what a layout already
 * has, so every blob of that manifest that is not wanted gets an empty placeholder file first: only
 * the blobs the lockfile needs cross the network. The staged blobs are unverified; the provider hands
 * them to the chain, which hashes them like any other body. A copy that fails (oras stops at the first
 * blob that fails its digest check) is retried in halves for what it left. What no manifest holds is
 * fetched blob by blob, as before.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { PingetError, reasonOf } from '../errors.js';
import type { Logger } from '../ui/log.js';
import { SHA256_HEX, sha256Bytes } from '../verify/sha256.js';
import { tagReference, type OciRepo } from './oci-ref.js';
import { tempName } from '../fs-atomic.js';
import { orasRemoteFlags, RegistryAuthError, runOrasLines } from './oras.js';

/** Manifest media types whose layers are blobs (an index's are manifests: skipped). */
const IMAGE_MANIFESTS = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
const DIGEST = /^sha256:([0-9a-f]{64})$/;
/** A failed copy with at most this many blobs left is not split further: those go blob by blob. */
const BISECT_BELOW = 4;

export interface BatchOptions {
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** Parallel oras processes for manifests, and oras's own --concurrency within a copy. */
  jobs: number;
  /** oras is killed when it says nothing for this long (--timeout), milliseconds. */
  idleMs: number;
  /** Blobs declared larger are left to the per-blob path (and its --max-size cut). */
  maxBytes: number;
  /** Names the provider in messages. */
  label: string;
  /**
   * The cache's tmp dir: blobs are staged there, on the cache's file system, so the cache moves them in
   * instead of copying; a killed run's staging is swept like its temp files. Default: the OS temp dir.
   */
  spoolDir?: string;
}

interface Manifest {
  /** `sha256:<hex>` of the bytes read: the copy names this manifest, not the tag, which may move meanwhile. */
  digest: string;
  tag: string;
  /** Every blob the manifest names (config and layers), hex, with the declared size. */
  blobs: Map<string, number>;
}

/** The manifest's blobs when it is an image manifest, else undefined. The registry is not trusted: anything odd is skipped. */
export function manifestBlobs(bytes: Buffer): Map<string, number> | undefined {
  let m: unknown;
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!m || typeof m !== 'object') return undefined;
  const { mediaType, layers, config } = m as { mediaType?: unknown; layers?: unknown; config?: unknown };
  if (mediaType !== undefined && !IMAGE_MANIFESTS.has(String(mediaType))) return undefined;
  if (!Array.isArray(layers)) return undefined;
  const blobs = new Map<string, number>();
  for (const d of [config, ...layers]) {
    if (!d || typeof d !== 'object') return undefined;
    const { digest, size } = d as { digest?: unknown; size?: unknown };
    const hex = typeof digest === 'string' ? DIGEST.exec(digest)?.[1] : undefined;
    if (!hex || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
    blobs.set(hex, size);
  }
  return blobs;
}

/** Which manifest fetches which wanted blob: each blob from the first manifest (in tag order) that holds it. */
export function assignBlobs(manifests: { blobs: Map<string, number> }[], wanted: Set<string>, maxBytes: number): Set<string>[] {
  const taken = new Set<string>();
  return manifests.map((m) => {
    const mine = new Set<string>();
    for (const [hex, size] of m.blobs) {
      if (wanted.has(hex) && !taken.has(hex) && size <= maxBytes) {
        mine.add(hex);
        taken.add(hex);
      }
    }
    return mine;
  });
}

/** Rethrows what must stop the run (an abort, refused credentials, a bug); returns the rest, for open() or the log. */
function survivable(e: unknown, signal: AbortSignal): PingetError {
  if (signal.aborted || e instanceof RegistryAuthError || !(e instanceof PingetError)) throw e;
  return e;
}

export interface Staged {
  file: string;
  size: number;
}

export class OciBatch {
  /** Each wanted blob a copy was started for: its staged (unverified) file once oras stored it, undefined when it did not. */
  private readonly staged = new Map<string, Promise<Staged | undefined>>();
  private readonly stop = new AbortController();
  private copying?: Promise<unknown>;
  private work?: string;
  /** A repository-wide failure found while listing (unreachable, no such repository): every open() reports it. */
  failure?: PingetError;

  constructor(
    private readonly repo: OciRepo,
    private readonly opts: BatchOptions,
  ) {}

  /** The staged file of a blob, once oras has stored it; handed out once (the caller reads it, then removes it). */
  take(sha256: string): Promise<Staged | undefined> | undefined {
    const f = this.staged.get(sha256);
    this.staged.delete(sha256);
    return f;
  }

  /**
   * Finds the manifests that hold the wanted blobs and starts copying them; returns once the copies
   * run, so the chain verifies the first blobs while oras still fetches the rest.
   */
  async run(sha256s: string[], signal: AbortSignal): Promise<void> {
    const wanted = new Set(sha256s.filter((s) => SHA256_HEX.test(s)));
    if (wanted.size === 0) return;
    const tags = await this.tags(signal);
    if (!tags) return;
    const manifests = await this.manifests(tags, wanted, signal);
    const plan = assignBlobs(manifests, wanted, this.opts.maxBytes);
    const jobs = manifests.map((m, i) => ({ m, mine: plan[i] })).filter((j) => j.mine.size > 0);
    const found = jobs.reduce((n, j) => n + j.mine.size, 0);
    this.opts.log.verbose(`${this.opts.label}: ${found} of ${wanted.size} blobs in ${jobs.length} of ${tags.length} tagged manifests; the rest blob by blob`);
    if (jobs.length === 0) return;
    this.work ??= await this.stagingDir();
    const stop = AbortSignal.any([signal, this.stop.signal]);
    const limit = pLimit(Math.max(1, Math.min(2, this.opts.jobs)));
    const copies = jobs.map((j, i) => {
      const done = new Map<string, (file: Staged | undefined) => void>();
      for (const hex of j.mine) this.staged.set(hex, new Promise((resolve) => done.set(hex, resolve)));
      return limit(() => this.copy(j.m, done, join(this.work!, String(i)), stop)).finally(() => {
        for (const resolve of done.values()) resolve(undefined);
      });
    });
    // Failures are per blob (open() falls back to fetching it alone); nothing here may go unhandled.
    this.copying = Promise.allSettled(copies);
  }

  private async stagingDir(): Promise<string> {
    if (this.opts.spoolDir) {
      const dir = join(this.opts.spoolDir, tempName('oci'));
      try {
        await mkdir(dir, { mode: 0o700 });
        return dir;
      } catch (e) {
        this.opts.log.verbose(`${this.opts.label}: cannot stage in ${this.opts.spoolDir} (${reasonOf(e)}); staging in the OS temp dir`);
      }
    }
    return mkdtemp(join(tmpdir(), 'pinget-oci-'));
  }

  async close(): Promise<void> {
    this.stop.abort(new Error('closed'));
    await this.copying;
    this.staged.clear();
    if (this.work) await rm(this.work, { recursive: true, force: true });
    this.work = undefined;
  }

  private call(signal: AbortSignal) {
    return { env: this.opts.env, signal, idleMs: this.opts.idleMs };
  }

  private where(): string {
    return `${this.repo.registry}/${this.repo.repository}`;
  }

  private async tags(signal: AbortSignal): Promise<string[] | undefined> {
    try {
      const tags: string[] = [];
      await runOrasLines(['repo', 'tags', ...orasRemoteFlags(this.repo), this.where()], this.opts.label, (l) => tags.push(l.trim()), this.call(signal));
      return tags.filter(Boolean);
    } catch (caught) {
      const e = survivable(caught, signal);
      this.failure = e.code === 'NOT_FOUND' ? new PingetError('NOT_FOUND', `${this.opts.label}: no such repository in the registry`) : e;
      this.opts.log.verbose(`${this.opts.label}: ${e.message}`);
      return undefined;
    }
  }

  /** The tags' image manifests, in tag order, read `jobs` at a time until every wanted blob is found. */
  private async manifests(tags: string[], wanted: Set<string>, signal: AbortSignal): Promise<Manifest[]> {
    const dir = await mkdtemp(join(tmpdir(), 'pinget-oci-manifests-'));
    try {
      const out: Manifest[] = [];
      const missing = new Set(wanted);
      const step = Math.max(1, this.opts.jobs);
      for (let i = 0; i < tags.length && missing.size > 0; i += step) {
        const batch = tags.slice(i, i + step);
        const read = await Promise.all(batch.map((tag, j) => this.manifest(tag, join(dir, String(i + j)), signal)));
        for (const m of read) {
          if (!m) continue;
          out.push(m);
          for (const hex of m.blobs.keys()) missing.delete(hex);
        }
      }
      return out;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async manifest(tag: string, file: string, signal: AbortSignal): Promise<Manifest | undefined> {
    const ref = tagReference(this.repo, tag);
    try {
      // -o: the exact bytes, so the digest the copy names is the one read.
      await runOrasLines(['manifest', 'fetch', ...orasRemoteFlags(this.repo), '-o', file, ref], this.opts.label, () => {}, this.call(signal));
      const bytes = await readFile(file);
      const blobs = manifestBlobs(bytes);
      if (!blobs) this.opts.log.verbose(`${ref}: not an image manifest; skipped`);
      return blobs && { tag, digest: `sha256:${sha256Bytes(bytes)}`, blobs };
    } catch (e) {
      this.opts.log.verbose(`${ref}: ${survivable(e, signal).message}; skipped`);
      return undefined;
    }
  }

  /**
   * One `oras cp` of a manifest into its own layout, with placeholders for every blob it must not
   * fetch. Each blob is handed on as soon as oras reports it stored (`Copied <12 hex> <title>`).
   */
  private async copy(m: Manifest, pending: Map<string, (file: Staged | undefined) => void>, layout: string, signal: AbortSignal, depth = 0): Promise<void> {
    const blobDir = join(layout, 'blobs', 'sha256');
    await mkdir(blobDir, { recursive: true });
    for (const hex of m.blobs.keys()) if (!pending.has(hex)) await writeFile(join(blobDir, hex), '');
    const prefixCount = new Map<string, number>();
    for (const hex of m.blobs.keys()) prefixCount.set(hex.slice(0, 12), (prefixCount.get(hex.slice(0, 12)) ?? 0) + 1);
    const byPrefix = new Map<string, string[]>();
    for (const hex of pending.keys()) byPrefix.set(hex.slice(0, 12), [...(byPrefix.get(hex.slice(0, 12)) ?? []), hex]);
    /**
     * Hands a blob on. `reported`: oras said it stored it (it writes a blob in full, checked against its
     * digest, before saying so): no stat needed. The chain hashes it either way, and a file that is not
     * there after all fails that file alone.
     */
    const settle = async (hex: string, reported: boolean) => {
      const resolve = pending.get(hex);
      if (!resolve) return;
      const file = join(blobDir, hex);
      const size = m.blobs.get(hex)!;
      if (!reported && !(await stat(file).then((s) => s.isFile() && s.size === size, () => false))) return;
      pending.delete(hex);
      resolve({ file, size });
    };
    const source = `${this.where()}@${m.digest}`;
    this.opts.log.verbose(`oras cp ${source} (${pending.size} of ${m.blobs.size} blobs, tag ${m.tag})`);
    const args = ['cp', '--no-tty', '--concurrency', String(Math.max(1, this.opts.jobs)), ...(this.repo.plainHttp ? ['--from-plain-http'] : [])];
    const settling: Promise<void>[] = [];
    let failure: unknown;
    try {
      await runOrasLines(
        [...args, '--to-oci-layout', source, `${layout}:copy`],
        this.opts.label,
        (line) => {
          const prefix = /^Copied\s+([0-9a-f]{12})\s/.exec(line)?.[1];
          // Two blobs of the manifest sharing the 12 hex digits oras prints: which one it means is not known, so look.
          const sure = !!prefix && prefixCount.get(prefix) === 1;
          for (const hex of (prefix && byPrefix.get(prefix)) || []) settling.push(settle(hex, sure));
        },
        this.call(signal),
      );
    } catch (e) {
      failure = e;
    }
    await Promise.all(settling);
    for (const hex of [...pending.keys()]) await settle(hex, false);
    if (failure === undefined || signal.aborted || pending.size === 0) return;
    // oras stops the whole copy at the first blob that fails its digest check, without naming it: what it
    // stored is used, and the rest is copied again in halves, so one bad blob costs a few processes, not
    // one per blob left. Halves this small go blob by blob (open() does that for whatever stays pending).
    if (depth === 0) this.opts.log.warn(`${this.opts.label}: copying ${m.tag} stopped (${reasonOf(failure)}); fetching the ${pending.size} blobs left in smaller batches`);
    else this.opts.log.verbose(`${this.opts.label}: copying ${pending.size} blobs of ${m.tag} stopped (${reasonOf(failure)})`);
    if (pending.size <= BISECT_BELOW || failure instanceof RegistryAuthError) return;
    const left = [...pending.keys()];
    for (const [k, half] of [left.slice(0, left.length >> 1), left.slice(left.length >> 1)].entries()) {
      await this.copy(m, new Map(half.map((h) => [h, pending.get(h)!])), `${layout}.${k}`, signal, depth + 1);
    }
  }
}

/**
 * The fetch chain: for each target, the cache, then each provider in order, until one serves bytes
 * whose sha256 matches. Bytes are hashed while they stream into the cache (Cache.ingest), so nothing
 * unverified is ever visible under blobs/; a cache hit is re-hashed before it is used, and a blob
 * whose bytes changed is removed and fetched again. Every failure is kept for the final error.
 */
import { setMaxListeners } from 'node:events';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { Cache } from '../cache.js';
import { PingetError, reasonOf } from '../errors.js';
import type { Logger } from '../ui/log.js';
import type { FetchTarget, Provider } from './types.js';

export interface FetchResult {
  target: FetchTarget;
  /** The verified file (in the cache). */
  file: string;
  /** 'cache' or the label of the provider that served it. */
  source: string;
  bytes: number;
}

export interface ProgressEvent {
  kind: 'start' | 'bytes' | 'done' | 'fail';
  target: FetchTarget;
  /** 'bytes': bytes received since the last event; 'done': the file's size. */
  bytes?: number;
  /** 'start': the expected size, when the provider knows it. */
  total?: number;
  source?: string;
}

export interface FetchOptions {
  cache: Cache;
  providers: Provider[];
  jobs: number;
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  /**
   * Last resort for a target that every provider served with other bytes: given the bytes one served
   * (stored in the cache under their own hash), returns a note when they are acceptable all the same
   * (Alpine's re-signed packages), throws or returns undefined when not.
   */
  acceptMismatch?: (target: FetchTarget, file: string) => Promise<string | undefined>;
  /**
   * Puts a verified file where it is used (e.g. into `download -o`), inside the job that fetched it,
   * once per target (targets sharing a hash share the fetch). When the blob vanished meanwhile (a
   * concurrent `cache clean`), the chain fetches it again and retries once.
   */
  deliver?: (result: FetchResult) => Promise<void>;
}

export interface ProviderFailure {
  provider: string;
  reason: string;
  code: string;
}

/** From this many distinct targets the cache is listed once rather than looked up per target. */
const LIST_CACHE_FROM = 64;

function short(sha256: string): string {
  return sha256.slice(0, 12);
}

/** The cache's blob for a target after re-hashing it; a corrupted blob is removed and counted as a failure. */
async function fromCache(target: FetchTarget, opts: FetchOptions, failures: ProviderFailure[]): Promise<FetchResult | undefined> {
  const res = await opts.cache.verifyBlob(target.sha256);
  if (res.state === 'hit') {
    opts.onProgress?.({ kind: 'done', target, bytes: res.size, source: 'cache' });
    return { target, file: res.file, source: 'cache', bytes: res.size };
  }
  if (res.state === 'corrupt') {
    const reason = `the cached blob is corrupted (sha256 ${res.got}); removed it`;
    opts.log.warn(`${target.path}: ${reason}, fetching it again`);
    failures.push({ provider: 'cache', reason, code: 'INTEGRITY' });
  }
  return undefined;
}

/** Is this the error of a temp file or blob that vanished under us (another process cleaning the cache)? */
function vanished(e: unknown): boolean {
  return e instanceof PingetError && e.code === 'UNAVAILABLE' && / vanished /.test(e.message);
}

/** Each provider in turn until one serves matching bytes; a blob that vanished under us is fetched from that provider again, once. */
async function tryProviders(target: FetchTarget, providers: Provider[], opts: FetchOptions, signal: AbortSignal, failures: ProviderFailure[]): Promise<FetchResult | undefined> {
  for (const provider of providers) {
    signal.throwIfAborted();
    const r = await fromProvider(target, provider, opts, signal, failures).catch(async (e) => {
      if (!vanished(e) || signal.aborted) throw e;
      opts.log.verbose(`${target.path}: ${reasonOf(e)}; fetching from ${provider.label} again`);
      return fromProvider(target, provider, opts, signal, failures);
    });
    if (r) return r;
  }
  return undefined;
}

/** When no provider served the target: the adapter's say on mismatched bytes, else a failure. */
async function lastResort(target: FetchTarget, opts: FetchOptions, signal: AbortSignal, failures: ProviderFailure[]): Promise<FetchResult | undefined> {
  if (opts.acceptMismatch) {
    const accepted = await acceptMismatched(target, opts, signal, failures);
    if (accepted) return accepted;
  }
  opts.onProgress?.({ kind: 'fail', target });
  return undefined;
}

/** The whole chain for one target, one file at a time (fetching again what vanished before delivery). */
async function fetchOne(target: FetchTarget, opts: FetchOptions, signal: AbortSignal, failures: ProviderFailure[], useCache = true): Promise<FetchResult | undefined> {
  if (useCache) {
    const hit = await fromCache(target, opts, failures);
    if (hit) return hit;
  }
  return (await tryProviders(target, opts.providers, opts, signal, failures)) ?? lastResort(target, opts, signal, failures);
}

/** One provider's attempt: its bytes streamed through the hash into the cache, or a failure noted. */
async function fromProvider(target: FetchTarget, provider: Provider, opts: FetchOptions, signal: AbortSignal, failures: ProviderFailure[]): Promise<FetchResult | undefined> {
  const { cache, log, onProgress } = opts;
  let body: Readable | undefined;
  try {
    const opened = await provider.open(target, signal);
    onProgress?.({ kind: 'start', target, total: opened.size, source: provider.label });
    let file: string;
    // The bytes hashed on the way in: no stat of the stored blob needed.
    let bytes = 0;
    const counted = (n: number) => {
      bytes += n;
      onProgress?.({ kind: 'bytes', target, bytes: n });
    };
    if (opened.file) file = await cache.ingestOwned(target.sha256, opened.file, signal, counted);
    else {
      body = opened.stream;
      file = await cache.ingest(target.sha256, body, signal, counted);
    }
    onProgress?.({ kind: 'done', target, bytes, source: provider.label });
    return { target, file, source: provider.label, bytes };
  } catch (e) {
    if (body && !body.destroyed) {
      body.on('error', () => {}); // undici reports its own destroy as an error; it is expected here
      body.destroy();
    }
    if (signal.aborted) throw signal.reason;
    if (vanished(e)) throw e;
    const code = e instanceof PingetError ? e.code : 'UNAVAILABLE';
    const reason = e instanceof PingetError ? e.message : reasonOf(e);
    failures.push({ provider: provider.label, reason, code });
    if (code === 'INTEGRITY') log.warn(`${target.path}: ${provider.label} served bytes that do not match the lockfile (${reason}); trying the next provider`);
    else log.verbose(`${target.path}: ${provider.label}: ${reason}`);
    return undefined;
  }
}

/** Delivers a fetched hash to every target that names it; a blob that vanished before delivery is fetched again, once. */
async function deliverAll(group: FetchTarget[], fetched: FetchResult, opts: FetchOptions, signal: AbortSignal, failures: ProviderFailure[]): Promise<FetchResult | undefined> {
  let r = fetched;
  if (!opts.deliver) return r;
  for (let attempt = 0; ; attempt++) {
    try {
      for (const target of group) await opts.deliver({ ...r, target });
      return r;
    } catch (e) {
      const gone = await stat(r.file).then(() => false, () => true);
      if (!gone || attempt > 0 || signal.aborted) throw e;
      opts.log.verbose(`${group[0].path}: ${r.file} vanished before it was used (a concurrent cache clean?); fetching it again`);
      const again = await fetchOne(group[0], opts, signal, failures, false);
      if (!again) return undefined;
      r = again;
    }
  }
}

/**
 * The chain in stages, split before each provider that fetches in batches: the first stage is the
 * cache and the providers before the first batching one; each later stage starts with a batching
 * provider, whose prefetch gets every target the stages before it left. Without batching providers
 * there is one stage, file by file as before.
 */
function stages(providers: Provider[]): Provider[][] {
  const out: Provider[][] = [[]];
  for (const p of providers) {
    if (p.prefetch) out.push([]);
    out[out.length - 1].push(p);
  }
  return out;
}

/** Asks the adapter about the bytes of each provider that served a mismatch, in chain order. */
async function acceptMismatched(target: FetchTarget, opts: FetchOptions, signal: AbortSignal, failures: ProviderFailure[]): Promise<FetchResult | undefined> {
  const mismatched = new Set(failures.filter((f) => f.code === 'INTEGRITY').map((f) => f.provider));
  for (const provider of opts.providers.filter((p) => mismatched.has(p.label))) {
    let stored: { sha256: string; file: string; existed: boolean } | undefined;
    try {
      const opened = await provider.open(target, signal);
      stored = await opts.cache.ingestUnpinned(opened.stream, signal);
      const note = await opts.acceptMismatch!(target, stored.file);
      if (note) {
        opts.log.warn(note);
        const bytes = (await stat(stored.file)).size;
        opts.onProgress?.({ kind: 'done', target, bytes, source: provider.label });
        return { target, file: stored.file, source: `${provider.label} (accepted: ${stored.sha256})`, bytes };
      }
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      failures.push({ provider: provider.label, reason: e instanceof PingetError ? e.message : reasonOf(e), code: 'INTEGRITY' });
    }
    if (stored && !stored.existed) await opts.cache.remove(stored.sha256);
  }
  return undefined;
}

/**
 * Fetches every target into the cache; results in the order of the targets. Targets with the same
 * sha256 are fetched once. When some cannot be fetched from any provider, waits for the others, then
 * throws one error listing each failed target and what every provider said: INTEGRITY when some
 * provider served wrong bytes for a failed target, else NOT_FOUND.
 */
export async function fetchAll(targets: FetchTarget[], opts: FetchOptions): Promise<FetchResult[]> {
  // One internal signal for all jobs: each in-flight request, stream and timer listens on it, so it
  // needs more than the default 10 listeners; the caller's signal gets just one.
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const onAbort = () => controller.abort(opts.signal!.reason);
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;

  const bySha = new Map<string, FetchTarget>();
  const groups = new Map<string, FetchTarget[]>();
  for (const t of targets) {
    if (!bySha.has(t.sha256)) bySha.set(t.sha256, t);
    const g = groups.get(t.sha256);
    if (g) g.push(t);
    else groups.set(t.sha256, [t]);
  }
  // Crash-only: what killed runs left in <cache>/tmp goes now (a live process's temp files stay).
  await opts.cache.sweepTemp();
  // Many targets: one listing of the cache instead of a lookup per target (a cold download of thousands
  // misses at once). A blob another process adds meanwhile is fetched again (renamed over identical
  // bytes): harmless. A few targets in a large cache: a lookup each is cheaper than the listing.
  const listed = bySha.size >= LIST_CACHE_FROM ? await opts.cache.names() : undefined;

  const failuresOf = new Map([...bySha.keys()].map((sha): [string, ProviderFailure[]] => [sha, []]));
  const failed = new Map<string, { target: FetchTarget; failures: ProviderFailure[] }>();
  const done = new Map<string, FetchResult>();
  /** Runs one stage for `list`, `jobs` at a time; returns the targets it left for the next stage. */
  const runStage = async (list: FetchTarget[], step: (t: FetchTarget, failures: ProviderFailure[]) => Promise<FetchResult | undefined>, last: boolean, jobs: number) => {
    const limit = pLimit(Math.max(1, jobs));
    const left = new Set<FetchTarget>();
    const settled = await Promise.allSettled(
      list.map((target) =>
        limit(async () => {
          const failures = failuresOf.get(target.sha256)!;
          let r = await step(target, failures);
          if (!r && !last) return void left.add(target);
          r ??= await lastResort(target, opts, signal, failures);
          if (r) r = await deliverAll(groups.get(target.sha256)!, r, opts, signal, failures);
          if (r) done.set(target.sha256, r);
          else failed.set(target.sha256, { target, failures });
        }),
      ),
    );
    if (opts.signal?.aborted) throw opts.signal.reason;
    const crashed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (crashed) throw crashed.reason;
    // In the order of the targets, whatever order the jobs finished in.
    return list.filter((t) => left.has(t));
  };
  try {
    let pending = [...bySha.values()];
    const all = stages(opts.providers);
    for (const [i, providers] of all.entries()) {
      const last = i === all.length - 1;
      if (i > 0 && pending.length > 0) await providers[0].prefetch!(pending, signal);
      pending = await runStage(
        pending,
        async (target, failures) => (i === 0 && (!listed || listed.has(target.sha256)) ? await fromCache(target, opts, failures) : undefined) ?? tryProviders(target, providers, opts, signal, failures),
        last,
        // What a batching provider staged is local work (a rename, a hash, a sync shared by many): more at once.
        i > 0 ? Math.max(opts.jobs, providers[0].stagedJobs ?? 0) : opts.jobs,
      );
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (opts.signal?.aborted) throw opts.signal.reason;

  if (failed.size > 0) {
    const tried = opts.providers.map((p) => p.label).join(', ') || 'no providers';
    const details: string[] = [];
    let integrity = false;
    let badInput = false;
    // In the order of the targets, not of completion: the same input gives the same message.
    for (const { target, failures } of [...bySha.keys()].flatMap((sha) => failed.get(sha) ?? [])) {
      details.push(`${target.path} (sha256 ${short(target.sha256)}…):`);
      if (failures.length === 0) details.push('  - no provider to try');
      for (const f of failures) {
        if (f.code === 'INTEGRITY') integrity = true;
        if (f.code === 'BAD_INPUT') badInput = true;
        details.push(`  - ${f.provider}: ${f.reason}`);
      }
    }
    const n = failed.size;
    // A provider serving something that is not a file (a FIFO behind file://) is bad input: exit 2.
    throw new PingetError(
      integrity ? 'INTEGRITY' : badInput ? 'BAD_INPUT' : 'NOT_FOUND',
      `${n} of ${bySha.size} files could not be fetched${integrity ? ' (a provider served bytes that do not match the lockfile)' : ''}; tried: ${tried}`,
      { details },
    );
  }

  return targets.map((t) => {
    const r = done.get(t.sha256)!;
    if (r.target === t) return r;
    // Another path with the same bytes: counted as done too, so progress totals match targets.length.
    opts.onProgress?.({ kind: 'done', target: t, bytes: r.bytes, source: r.source });
    return { ...r, target: t };
  });
}

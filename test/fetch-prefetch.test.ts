/**
 * The chain's batch hook: a provider with prefetch() gets, once, every target that the cache and the
 * providers before it left; then open() per target as usual, each body verified by the chain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Cache } from '../src/cache.js';
import { PingetError } from '../src/errors.js';
import { fetchAll } from '../src/fetch/chain.js';
import type { FetchTarget, Provider } from '../src/fetch/types.js';
import { silentLogger } from '../src/ui/log.js';
import { sha256Bytes } from '../src/verify/sha256.js';

async function cacheFor(t: { after: (fn: () => Promise<void>) => void }): Promise<Cache> {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-prefetch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return new Cache(join(dir, 'cache'));
}

const files = Array.from({ length: 6 }, (_, i) => ({ path: `pool/p${i}.deb`, data: randomBytes(500 + i) }));
const targets: FetchTarget[] = files.map((f) => ({ path: f.path, sha256: sha256Bytes(f.data), headers: {} }));
const bytesOf = (t: FetchTarget) => files.find((f) => f.path === t.path)!.data;

/** Serves the files whose index passes `has`; records what it was asked. */
function provider(label: string, has: (i: number) => boolean, opts: { batch?: boolean; lie?: number; prefetchError?: PingetError } = {}) {
  const opened: string[] = [];
  const prefetched: string[][] = [];
  const p: Provider & { opened: string[]; prefetched: string[][] } = {
    label,
    opened,
    prefetched,
    async open(t) {
      opened.push(t.path);
      const i = files.findIndex((f) => f.path === t.path);
      if (!has(i)) throw new PingetError('NOT_FOUND', `${label}: no ${t.path}`);
      const data = i === opts.lie ? Buffer.from('not the bytes the lockfile pins') : bytesOf(t);
      return { stream: Readable.from([data]), size: data.length };
    },
  };
  if (opts.batch) {
    p.prefetch = async (ts) => {
      prefetched.push(ts.map((t) => t.path));
      if (opts.prefetchError) throw opts.prefetchError;
    };
  }
  return p;
}

test('prefetch gets once, in order, exactly the targets the cache and earlier providers left', async (t) => {
  const cache = await cacheFor(t);
  await cache.ingest(targets[0].sha256, Readable.from([files[0].data]));
  const mirror = provider('mirror', (i) => i % 2 === 0);
  const registry = provider('registry', () => true, { batch: true });
  const res = await fetchAll(targets, { cache, providers: [mirror, registry], jobs: 3, log: silentLogger });
  assert.deepEqual(
    res.map((r) => r.source),
    ['cache', 'registry', 'mirror', 'registry', 'mirror', 'registry'],
  );
  assert.deepEqual(registry.prefetched, [['pool/p1.deb', 'pool/p3.deb', 'pool/p5.deb']]);
  assert.deepEqual([...registry.opened].sort(), ['pool/p1.deb', 'pool/p3.deb', 'pool/p5.deb']);
  assert.deepEqual([...mirror.opened].sort(), targets.slice(1).map((x) => x.path));
});

test('a batching provider first in the chain: prefetch skips cache hits; nothing left means no prefetch call', async (t) => {
  const cache = await cacheFor(t);
  await cache.ingest(targets[2].sha256, Readable.from([files[2].data]));
  const registry = provider('registry', () => true, { batch: true });
  await fetchAll(targets, { cache, providers: [registry], jobs: 2, log: silentLogger });
  assert.deepEqual(registry.prefetched, [targets.filter((_, i) => i !== 2).map((x) => x.path)]);
  const again = provider('registry', () => true, { batch: true });
  await fetchAll(targets, { cache, providers: [again], jobs: 2, log: silentLogger });
  assert.deepEqual(again.prefetched, []);
  assert.deepEqual(again.opened, []);
});

test('wrong bytes from a batching provider fall through to the next provider for that file only', async (t) => {
  const cache = await cacheFor(t);
  const registry = provider('registry', () => true, { batch: true, lie: 4 });
  const mirror = provider('mirror', () => true);
  const res = await fetchAll(targets, { cache, providers: [registry, mirror], jobs: 4, log: silentLogger });
  assert.deepEqual(
    res.map((r) => r.source),
    ['registry', 'registry', 'registry', 'registry', 'mirror', 'registry'],
  );
  assert.deepEqual(mirror.opened, ['pool/p4.deb']);
  assert.equal(await cache.has(sha256Bytes(Buffer.from('not the bytes the lockfile pins'))), false);
});

test('a prefetch that throws stops the run with its error; later providers are not asked', async (t) => {
  const cache = await cacheFor(t);
  const refused = new PingetError('UNAVAILABLE', 'oci://registry.invalid/pkgs: the registry refused authentication');
  const registry = provider('registry', () => true, { batch: true, prefetchError: refused });
  const mirror = provider('mirror', () => true);
  await assert.rejects(fetchAll(targets, { cache, providers: [registry, mirror], jobs: 2, log: silentLogger }), (e: unknown) => e === refused);
  assert.deepEqual(registry.opened, []);
  assert.deepEqual(mirror.opened, []);
});

test('a batching provider after another batching one gets only what the first left', async (t) => {
  const cache = await cacheFor(t);
  const first = provider('first', (i) => i < 3, { batch: true });
  const second = provider('second', () => true, { batch: true });
  const res = await fetchAll(targets, { cache, providers: [first, second], jobs: 2, log: silentLogger });
  assert.deepEqual(first.prefetched, [targets.map((x) => x.path)]);
  assert.deepEqual(second.prefetched, [['pool/p3.deb', 'pool/p4.deb', 'pool/p5.deb']]);
  assert.deepEqual(
    res.map((r) => r.source),
    ['first', 'first', 'first', 'second', 'second', 'second'],
  );
});

/**
 * The Debian snapshot resolver against recorded answers served on 127.0.0.1: the dated tree first,
 * then the mr/ API, the security archive, 429 backoff, the per-host limit, and wrong bytes rejected by
 * the chain. testdata/snapshot/debian is laid out as the archive serves it (see make-fixtures.sh).
 */
import { after, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { REPO_ROOT } from './helpers/cli.js';
import { serveDirectory, type Hook } from './helpers/http-server.js';
import { Cache } from '../src/cache.js';
import { PingetError } from '../src/errors.js';
import { parseLockfile } from '../src/lockfile.js';
import { fetchAll } from '../src/fetch/chain.js';
import { createProvider } from '../src/fetch/providers.js';
import type { FetchTarget, Provider } from '../src/fetch/types.js';
import { clearJsonCache } from '../src/fetch/archives/polite.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { silentLogger } from '../src/ui/log.js';
import type { PackageRef } from '../src/distro/types.js';

const DATA = join(REPO_ROOT, 'testdata', 'snapshot');
const HELLO = 'pool/main/h/hello/hello_2.10-2_amd64.deb';
const SEC = 'pool/updates/main/h/hello/libhello1_2.0-1+deb12u1_amd64.deb';
const REFS: Record<string, PackageRef> = {
  [HELLO]: { name: 'hello', version: '2.10-2', arch: 'amd64' },
  [SEC]: { name: 'libhello1', version: '1:2.0-1+deb12u1', arch: 'amd64' },
};

const lock = parseLockfile(await readFile(join(DATA, 'SHA256SUMS-debian-amd64'), 'utf8'), 'SHA256SUMS-debian-amd64');
const binfiles = (p: string) => JSON.parse(readFileSync(join(DATA, 'debian/mr/binary', p, 'binfiles'), 'utf8'));
const HELLO_SHA1: string = binfiles('hello/2.10-2').result[0].hash;
const SEC_SHA1: string = binfiles('libhello1/1:2.0-1+deb12u1').result.find((r: { architecture: string }) => r.architecture === 'amd64').hash;

function target(path: string, headers: Record<string, string> = lock.headers): FetchTarget {
  const e = lock.entries.find((x) => x.path === path)!;
  return { path, sha256: e.sha256, ref: REFS[path], headers };
}
const noSnapshot = { distro: lock.headers.distro };

/** Server over the Debian fixtures; `urls` has every request's path and query, in order. */
const server = await serveDirectory(join(DATA, 'debian'));
const urls: string[] = [];
let hook: Hook | undefined;
server.setHook((req, res, rel) => {
  urls.push(decodeURIComponent((req.url ?? '').replace(/^\/+/, '')));
  return hook ? hook(req, res, rel) : false;
});
after(() => server.close());
beforeEach(() => {
  urls.length = 0;
  hook = undefined;
  clearJsonCache();
});

const ctx = { log: silentLogger, timeoutMs: 10_000, retries: 3 };
const provider = (): Provider => createProvider(`debian-snapshot+${server.url}/`, ctx);

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function openHash(p: Provider, t: FetchTarget): Promise<string> {
  const body = await p.open(t, new AbortController().signal);
  return sha256Bytes(await readAll(body.stream));
}

async function rejection(p: Promise<unknown>): Promise<PingetError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PingetError, `expected a PingetError, got ${e}`);
    return e;
  }
  assert.fail('expected a rejection');
}

test('with a snapshot header the dated tree is tried first, and is enough', async () => {
  const t = target(HELLO);
  assert.equal(await openHash(provider(), t), t.sha256);
  assert.deepEqual(urls, [`archive/debian/20240101T000000Z/${HELLO}`]);
});

test('a date between imports is redirected to the import before it, as the archive does', async () => {
  hook = (_req, res, rel) => {
    if (!rel.startsWith('archive/debian/20240101T060000Z/')) return false;
    res.writeHead(301, { location: `/${rel.replace('20240101T060000Z', '20240101T000000Z')}` }).end();
    return true;
  };
  const t = target(HELLO, { ...lock.headers, snapshot: '2024-01-01T06:00:00Z' });
  assert.equal(await openHash(provider(), t), t.sha256);
  assert.deepEqual(urls, [`archive/debian/20240101T060000Z/${HELLO}`, `archive/debian/20240101T000000Z/${HELLO}`]);
});

test('dated tree missing: falls back to mr/binary/<name>/<version>/binfiles and file/<sha1>, in that order', async () => {
  const t = target(HELLO, { ...lock.headers, snapshot: '2023-06-01T00:00:00Z' });
  assert.equal(await openHash(provider(), t), t.sha256);
  assert.deepEqual(urls, [
    `archive/debian/20230601T000000Z/${HELLO}`,
    'mr/binary/hello/2.10-2/binfiles?fileinfo=1',
    `file/${HELLO_SHA1}`,
  ]);
});

test('no snapshot header: straight to the API; its answer is cached for the process', async () => {
  const t = target(HELLO, noSnapshot);
  const p = provider();
  assert.equal(await openHash(p, t), t.sha256);
  assert.equal(await openHash(p, t), t.sha256);
  assert.deepEqual(urls, ['mr/binary/hello/2.10-2/binfiles?fileinfo=1', `file/${HELLO_SHA1}`, `file/${HELLO_SHA1}`]);
});

test('security archive: dated tree under debian-security', async () => {
  const t = target(SEC);
  assert.equal(await openHash(provider(), t), t.sha256);
  assert.deepEqual(urls, [`archive/debian-security/20240101T000000Z/${SEC}`]);
});

test('security archive by lookup: epoch in the version, amd64 picked over arm64, first_seen tree when file/ fails', async () => {
  hook = (_req, res, rel) => {
    if (!rel.startsWith('file/')) return false;
    res.writeHead(404).end();
    return true;
  };
  const t = target(SEC, noSnapshot);
  assert.equal(await openHash(provider(), t), t.sha256);
  assert.deepEqual(urls, [
    'mr/binary/libhello1/1:2.0-1+deb12u1/binfiles?fileinfo=1',
    `file/${SEC_SHA1}`,
    `archive/debian-security/20231215T120000Z/${SEC}`,
  ]);
});

test('429 with Retry-After: waits and asks again, then goes on in order', async () => {
  let refused = 0;
  hook = (_req, res, rel) => {
    if (!rel.startsWith('mr/') || refused >= 2) return false;
    refused++;
    res.writeHead(refused === 1 ? 429 : 503, { 'retry-after': refused === 1 ? '0' : new Date(Date.now() - 1000).toUTCString() }).end();
    return true;
  };
  const t = target(HELLO, noSnapshot);
  assert.equal(await openHash(provider(), t), t.sha256);
  assert.deepEqual(urls, [
    'mr/binary/hello/2.10-2/binfiles?fileinfo=1',
    'mr/binary/hello/2.10-2/binfiles?fileinfo=1',
    'mr/binary/hello/2.10-2/binfiles?fileinfo=1',
    `file/${HELLO_SHA1}`,
  ]);
});

test('429 past the retries: UNAVAILABLE naming the status, the failure not cached', async () => {
  hook = (_req, res) => {
    res.writeHead(429, { 'retry-after': '0' }).end();
    return true;
  };
  const p = createProvider(`debian-snapshot+${server.url}`, { ...ctx, retries: 2 });
  const err = await rejection(p.open(target(HELLO, noSnapshot), new AbortController().signal));
  assert.equal(err.code, 'UNAVAILABLE');
  assert.match(err.message, /HTTP 429 after 3 attempts/);
  assert.equal(urls.length, 3);
  hook = undefined;
  urls.length = 0;
  assert.equal(await openHash(p, target(HELLO, noSnapshot)), target(HELLO).sha256);
  assert.equal(urls[0], 'mr/binary/hello/2.10-2/binfiles?fileinfo=1', 'the 429 was not remembered as the answer');
});

test('unknown package: NOT_FOUND listing what was tried', async () => {
  const t: FetchTarget = { path: 'pool/main/n/nosuch/nosuch_1.0-1_amd64.deb', sha256: 'f'.repeat(64), headers: lock.headers };
  const err = await rejection(provider().open(t, new AbortController().signal));
  assert.equal(err.code, 'NOT_FOUND');
  assert.match(err.message, /archive\/debian\/20240101T000000Z\/pool\/main\/n\/nosuch.*HTTP 404.*mr\/binary\/nosuch\/1\.0-1\/binfiles.*HTTP 404/);
  assert.equal(err.details.length, 2);
});

test('at most 2 requests in flight to the archive host', async () => {
  let inFlight = 0;
  let peak = 0;
  // Counted from arrival until the body starts: a window inside the client's slot (held until the body is
  // read), so it cannot overlap more than the cap allows. Counting until the server's 'close' raced the
  // client's release under load.
  hook = async () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 30));
    inFlight--;
    return false;
  };
  const p = provider();
  const t = target(HELLO);
  const hashes = await Promise.all(Array.from({ length: 8 }, () => openHash(p, t)));
  assert.deepEqual(new Set(hashes), new Set([t.sha256]));
  assert.equal(urls.length, 8);
  assert.ok(peak <= 2, `peak ${peak} requests in flight`);
});

test('wrong bytes from the archive are rejected by the chain; the next provider serves the right ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-snapshot-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cache = new Cache(join(dir, 'cache'));
  const bad = await serveDirectory(join(DATA, 'debian'), (_req, res, rel) => {
    if (!rel.startsWith('file/')) return false;
    res.writeHead(200).end('not the package you pinned');
    return true;
  });
  t.after(() => bad.close());
  const badProvider = createProvider(`debian-snapshot+${bad.url}`, ctx);
  const tg = target(HELLO, noSnapshot);

  const err = await rejection(fetchAll([tg], { cache, providers: [badProvider], jobs: 1, log: silentLogger }));
  assert.equal(err.code, 'INTEGRITY');
  assert.equal(await cache.has(tg.sha256), false);

  const [ok] = await fetchAll([tg], { cache, providers: [badProvider, provider()], jobs: 1, log: silentLogger });
  assert.equal(ok.source, `debian-snapshot+${server.url}`);
  assert.equal(sha256Bytes(await readFile(ok.file)), tg.sha256);
  assert.deepEqual(bad.requests, ['mr/binary/hello/2.10-2/binfiles', `file/${HELLO_SHA1}`, `file/${HELLO_SHA1}`]);
});

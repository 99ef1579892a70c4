/**
 * Faults against real HTTP servers on 127.0.0.1: in each case the next provider serves, and nothing
 * unverified reaches the cache (no blob, no temp file).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cache } from '../src/cache.js';
import { PingetError } from '../src/errors.js';
import { fetchAll } from '../src/fetch/chain.js';
import { closeHttp, httpRequest, parseRetryAfter } from '../src/fetch/http-client.js';
import { createProvider } from '../src/fetch/providers.js';
import type { FetchTarget } from '../src/fetch/types.js';
import { silentLogger } from '../src/ui/log.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { REPO_ROOT } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';

after(() => closeHttp());

const PATH = 'pool/main/f/foo/foo_1:2.0+dfsg-1_amd64.deb';
// Bigger than the cache's write batch (1 MiB), so a body cut midway has reached the disk in part.
const DATA = randomBytes(3 * 1024 * 1024);
const SHA = sha256Bytes(DATA);
const TARGET: FetchTarget = { path: PATH, sha256: SHA, headers: {} };
const ctx = { log: silentLogger, timeoutMs: 10_000, retries: 2 };

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-faults-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const www = join(dir, 'www');
  await mkdir(dirname(join(www, 'debian', PATH)), { recursive: true });
  await writeFile(join(www, 'debian', PATH), DATA);
  const bad = await serveDirectory(www);
  const good = await serveDirectory(www);
  t.after(() => bad.close());
  t.after(() => good.close());
  const cache = new Cache(join(dir, 'cache'));
  const providers = [createProvider(`${bad.url}/debian`, ctx), createProvider(`${good.url}/debian/{{.Name}}`, ctx)];
  return { dir, www, bad, good, cache, providers };
}

const ls = (d: string) => readdir(d).catch(() => [] as string[]);

async function fetchFromSecond(s: Awaited<ReturnType<typeof setup>>): Promise<void> {
  const [r] = await fetchAll([TARGET], { cache: s.cache, providers: s.providers, jobs: 1, log: silentLogger });
  assert.equal(r.source, s.providers[1].label);
  assert.deepEqual(s.good.requests, [`debian/${PATH}`]);
  assert.deepEqual(await ls(join(s.cache.dir, 'blobs', 'sha256')), [SHA]);
  assert.equal(sha256Bytes(await import('node:fs/promises').then((m) => m.readFile(r.file))), SHA);
  assert.deepEqual(await ls(join(s.cache.dir, 'tmp')), []);
}

test('the epoch colon reaches the server encoded and decodes back to the lockfile path', async (t) => {
  const s = await setup(t);
  let rawUrl = '';
  s.good.setHook((req) => {
    rawUrl = req.url ?? '';
    return false;
  });
  const [r] = await fetchAll([TARGET], { cache: s.cache, providers: [s.providers[1]], jobs: 1, log: silentLogger });
  assert.equal(r.bytes, DATA.length);
  assert.equal(rawUrl, '/debian/pool/main/f/foo/foo_1%3a2.0+dfsg-1_amd64.deb');
});

test('a server serving corrupted bytes: skipped for the next, nothing unverified cached', async (t) => {
  const s = await setup(t);
  s.bad.setHook((_req, res) => {
    const evil = Buffer.from(DATA);
    evil[1000] ^= 0xff;
    res.writeHead(200, { 'content-length': evil.length }).end(evil);
    return true;
  });
  await fetchFromSecond(s);
  assert.equal(s.bad.requests.length, 1);
});

test('a server answering 500: retried, then skipped for the next', async (t) => {
  const s = await setup(t);
  s.bad.setHook((_req, res) => {
    res.writeHead(500).end('boom');
    return true;
  });
  await fetchFromSecond(s);
  assert.equal(s.bad.requests.length, 3, 'one attempt and two retries');
});

test('a server resetting the connection mid-body every time: retried, then skipped for the next, no partial blob', async (t) => {
  const s = await setup(t);
  s.bad.setHook((_req, res) => {
    res.writeHead(200, { 'content-length': DATA.length });
    res.write(DATA.subarray(0, 100_000), () => res.socket?.destroy());
    return true;
  });
  await fetchFromSecond(s);
  assert.equal(s.bad.requests.length, 3, 'one attempt and two retries');
});

test('a server answering 404: not retried, skipped for the next', async (t) => {
  const s = await setup(t);
  s.bad.setHook((_req, res) => {
    res.writeHead(404).end();
    return true;
  });
  await fetchFromSecond(s);
  assert.equal(s.bad.requests.length, 1);
});

test('all servers failing: NOT_FOUND (exit 4) with each server status in the details', async (t) => {
  const s = await setup(t);
  s.bad.setHook((_req, res) => (res.writeHead(404).end(), true));
  s.good.setHook((_req, res) => (res.writeHead(503).end(), true));
  const err = await fetchAll([TARGET], { cache: s.cache, providers: s.providers, jobs: 1, log: silentLogger }).catch((e: unknown) => e);
  assert.ok(err instanceof PingetError);
  assert.equal(err.exitCode, 4);
  assert.match(err.details[1], /debian: .*\/debian\/pool\/main\/f\/foo\/foo_1%3a2\.0\+dfsg-1_amd64\.deb: HTTP 404$/);
  assert.match(err.details[2], /: HTTP 503 after 3 attempts$/);
  assert.equal(s.good.requests.length, 3);
});

test('429 with Retry-After is honoured: the same server is asked again and serves', async (t) => {
  const s = await setup(t);
  const statuses: number[] = [];
  s.bad.setHook((_req, res) => {
    if (statuses.length === 0) {
      statuses.push(429);
      res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      return true;
    }
    statuses.push(200);
    return false;
  });
  const [r] = await fetchAll([TARGET], { cache: s.cache, providers: s.providers, jobs: 1, log: silentLogger });
  assert.equal(r.source, s.providers[0].label);
  assert.deepEqual(statuses, [429, 200]);
  assert.deepEqual(s.good.requests, []);
});

test('Retry-After is used instead of the backoff (a huge backoff would never finish)', async (t) => {
  const s = await setup(t);
  const answers = [503, 429, 200];
  const seen: number[] = [];
  s.bad.setHook((_req, res) => {
    const code = answers[seen.length];
    seen.push(code);
    if (code === 200) return false;
    const when = code === 503 ? new Date(Date.now() - 5000).toUTCString() : '0';
    res.writeHead(code, { 'retry-after': when }).end();
    return true;
  });
  const res = await httpRequest(`${s.bad.url}/debian/${PATH}`, { timeoutMs: 5000, retries: 3, baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 });
  assert.equal(res.status, 200);
  assert.equal(res.attempts, 3);
  await res.body.dump();
  assert.deepEqual(seen, [503, 429, 200]);
});

test('parseRetryAfter reads seconds and HTTP dates', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test('connection refused: retried, then UNAVAILABLE naming the URL', async (t) => {
  const s = await setup(t);
  const url = `${s.bad.url}/x`;
  await s.bad.close();
  await assert.rejects(httpRequest(url, { timeoutMs: 2000, retries: 1, baseDelayMs: 1 }), (e: unknown) => {
    return e instanceof PingetError && e.code === 'UNAVAILABLE' && e.message.includes(url) && e.message.includes('after 2 attempts');
  });
});

test('maxPerHost caps concurrent requests to one host until each body is done', async (t) => {
  const s = await setup(t);
  let active = 0;
  let peak = 0;
  s.bad.setHook((_req, res) => {
    active++;
    peak = Math.max(peak, active);
    res.on('close', () => active--);
    setImmediate(() => res.writeHead(200, { 'content-length': 3 }).end('abc'));
    return true;
  });
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      const r = await httpRequest(`${s.bad.url}/x`, { timeoutMs: 5000, retries: 0, maxPerHost: 2 });
      await r.body.dump();
    }),
  );
  assert.equal(s.bad.requests.length, 6);
  assert.ok(peak <= 2, `peak ${peak}`);
});

test('a download killed midway leaves no blob (a temp file may remain: ingest ignores it, cache clean removes it)', async (t) => {
  const s = await setup(t);
  let release: (() => void) | undefined;
  s.bad.setHook((_req, res) => {
    res.writeHead(200, { 'content-length': DATA.length });
    res.write(DATA.subarray(0, 2 * 1024 * 1024));
    // the rest never comes while the child lives
    release = () => res.destroy();
    return true;
  });
  t.after(() => release?.());
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'helpers', 'fetch-child.ts'), 'fetch', s.cache.dir, SHA, `${s.bad.url}/{{.Name}}`], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, sig) => resolve(sig)));
  t.after(() => child.kill('SIGKILL'));
  // wait until the child has written part of the file into the cache's tmp/
  const tmp = join(s.cache.dir, 'tmp');
  let partial: string | undefined;
  for (let i = 0; i < 600 && !partial; i++) {
    for (const f of await ls(tmp)) if ((await stat(join(tmp, f)).catch(() => undefined))?.size) partial = f;
    if (!partial) await sleep(50);
  }
  assert.ok(partial, 'the child started writing a temp file');
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  assert.deepEqual(await ls(join(s.cache.dir, 'blobs', 'sha256')), []);
  assert.equal(await s.cache.has(SHA), false);
  assert.deepEqual(await ls(tmp), [partial]);

  // The next run fetches cleanly beside the leftover; clean removes it.
  s.bad.setHook(undefined);
  const [r] = await fetchAll([TARGET], { cache: s.cache, providers: s.providers, jobs: 1, log: silentLogger });
  assert.equal(r.source, s.providers[0].label);
  assert.deepEqual(await ls(join(s.cache.dir, 'blobs', 'sha256')), [SHA]);
  await s.cache.clean((sha) => sha === SHA);
  assert.deepEqual(await ls(tmp), []);
  assert.deepEqual(await ls(join(s.cache.dir, 'blobs', 'sha256')), [SHA]);
});

test('a server that stalls mid-body hits the idle timeout and the next provider serves', async (t) => {
  const s = await setup(t);
  const stalled: import('node:http').ServerResponse[] = [];
  s.bad.setHook((_req, res) => {
    res.writeHead(200, { 'content-length': DATA.length });
    res.write(DATA.subarray(0, 1000));
    stalled.push(res); // never finished; the test server's close() destroys the socket
    return true;
  });
  const providers = [createProvider(`${s.bad.url}/debian`, { ...ctx, timeoutMs: 300 }), s.providers[1]];
  const log = { info: () => {}, warn: () => {}, verbose: (m: string) => msgs.push(m) };
  const msgs: string[] = [];
  const [r] = await fetchAll([TARGET], { cache: s.cache, providers, jobs: 1, log });
  assert.equal(r.source, providers[1].label);
  assert.equal(stalled.length, 1);
  assert.match(msgs[0], /timeout|slower than/i);
  assert.deepEqual(await ls(join(s.cache.dir, 'tmp')), []);
});

test('destroying an unread response body is safe (no uncaught error)', async (t) => {
  const s = await setup(t);
  // a short error page, already fully received: the case where undici emits 'error' on destroy()
  const res = await httpRequest(`${s.good.url}/nothing-here`, { timeoutMs: 5000, retries: 0 });
  assert.equal(res.status, 404);
  res.body.destroy();
  // give undici a turn to emit what it emits on destroy; the test runner fails on an uncaught exception
  await sleep(50);
  assert.equal(res.body.destroyed, true);
});

/**
 * `pinget download` against hostile HTTP servers on 127.0.0.1 (test/helpers/hostile-server.ts): each case
 * ends with the right exit code within a time bound, and nothing unverified lands in the cache's blobs/
 * or in -o.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT, runCli, type CliResult } from './helpers/cli.js';
import { startBlackhole, startHostileServer, type HostileMode, type HostileServer } from './helpers/hostile-server.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { parseSize } from '../src/size.js';
import { run } from '../src/exec.js';
import { capBytes } from '../src/fetch/byte-cap.js';
import { closeHttp } from '../src/fetch/http-client.js';
import { httpDownload } from '../src/fetch/http-download.js';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface Fixture {
  dir: string;
  lock: string;
  files: Record<string, Buffer>;
  cache: string;
  out: string;
}

async function fixture(t: { after: (fn: () => Promise<void>) => void }, count: number, size: number): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-hostile-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < count; i++) files[`pool/main/h/hostile/hostile${i}_1.0_amd64.deb`] = randomBytes(size);
  const lines = Object.entries(files).map(([p, b]) => `${sha256Bytes(b)}  ${p}`);
  const lock = join(dir, 'SHA256SUMS');
  await writeFile(lock, `# pinget lockfile v1\n${lines.sort((a, b) => a.slice(66).localeCompare(b.slice(66))).join('\n')}\n`);
  return { dir, lock, files, cache: join(dir, 'cache'), out: join(dir, 'out') };
}

async function hostile(t: { after: (fn: () => Promise<void>) => void }, f: Fixture, mode: HostileMode): Promise<HostileServer> {
  const s = await startHostileServer(f.files, mode);
  t.after(() => s.close());
  return s;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

/** Every byte in blobs/ and -o is verified: each blob's name is its hash and a pinned one, each -o file matches its pin. */
async function assertNothingUnverified(f: Fixture): Promise<void> {
  const pinned = new Map(Object.entries(f.files).map(([p, b]) => [p, sha256Bytes(b)]));
  const hashes = new Set(pinned.values());
  for (const blob of await walk(join(f.cache, 'blobs'))) {
    const got = sha256Bytes(await readFile(blob));
    assert.equal(got, blob.split('/').pop(), `${blob} holds other bytes than its name`);
    assert.ok(hashes.has(got), `${blob} is not pinned`);
  }
  for (const file of await walk(f.out)) {
    const rel = relative(f.out, file);
    assert.equal(sha256Bytes(await readFile(file)), pinned.get(rel), `-o holds an unverified ${rel}`);
  }
  assert.deepEqual(await walk(join(f.cache, 'tmp')), [], 'no temp file left in the cache');
}

async function download(f: Fixture, providers: string[], extra: string[], boundMs: number): Promise<CliResult & { ms: number }> {
  const args = ['download', f.lock, '-o', f.out, '--cache', f.cache, ...providers.flatMap((p) => ['--provider', `${p}/{{.Name}}`]), ...extra];
  const start = Date.now();
  const res = await runCli(args, { timeoutMs: boundMs });
  const ms = Date.now() - start;
  assert.notEqual(res.code, -1, `killed after ${boundMs} ms: a hang (${res.stderr})`);
  assert.doesNotMatch(res.stderr, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace');
  return { ...res, ms };
}

test('connections closed under backpressure: 4 runs of 12 files of 8 MiB through 4 jobs, never a crash, all verified', async (t) => {
  // undici 7.30 died here with an uncatchable `assert(!this.paused)` (nodejs/undici#5360) in 3 of 4 tries.
  const f = await fixture(t, 12, 8 << 20);
  const s = await hostile(t, f, 'close-under-backpressure');
  for (let run = 0; run < 4; run++) {
    await rm(f.cache, { recursive: true, force: true });
    await rm(f.out, { recursive: true, force: true });
    const res = await download(f, [s.url], ['--jobs', '4'], 60_000);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await walk(f.out)).length, 12);
    await assertNothingUnverified(f);
  }
});

test('an endless body is cut at --max-size: exit 3 for that provider, the next one serves', async (t) => {
  const f = await fixture(t, 1, 100_000);
  const bad = await hostile(t, f, 'endless');
  const res = await download(f, [bad.url], ['--max-size', '1M'], 30_000);
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /served more than --max-size \(1048576 bytes\)/);
  await assertNothingUnverified(f);
  const good = await hostile(t, f, 'good');
  const chain = await download(f, [bad.url, good.url], ['--max-size', '1M'], 30_000);
  assert.equal(chain.code, 0, chain.stderr);
  assert.equal((await walk(f.out)).length, 1);
  await assertNothingUnverified(f);
});

test('an endless chunked body is cut at --max-size: exit 3', async (t) => {
  const f = await fixture(t, 1, 100_000);
  const bad = await hostile(t, f, 'endless-chunked');
  const res = await download(f, [bad.url], ['--max-size', '2MiB'], 30_000);
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /served more than --max-size \(2097152 bytes\)/);
  await assertNothingUnverified(f);
});

test('Content-Length: 10^13 is refused before the body is read: exit 3, at once', async (t) => {
  const f = await fixture(t, 1, 100_000);
  const bad = await hostile(t, f, 'huge-length');
  const res = await download(f, [bad.url], [], 30_000);
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /Content-Length 10000000000000 bytes is more than --max-size \(4294967296 bytes\); not downloaded/);
  await assertNothingUnverified(f);
});

test('a Content-Length beyond the free disk space: exit 4 saying how much is needed and free', async (t) => {
  const f = await fixture(t, 1, 100_000);
  const bad = await hostile(t, f, 'huge-length');
  const res = await download(f, [bad.url], ['--max-size', '20T'], 30_000);
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /needs 9536744 MiB, \d+ MiB free on .*cache\/tmp/);
  await assertNothingUnverified(f);
});

test('a body longer than its Content-Length: only Content-Length bytes are read; they verify', async (t) => {
  const f = await fixture(t, 2, 100_000);
  const bad = await hostile(t, f, 'longer-than-length');
  const res = await download(f, [bad.url], [], 30_000);
  assert.equal(res.code, 0, res.stderr);
  assert.equal((await walk(f.out)).length, 2);
  await assertNothingUnverified(f);
});

test('a slowloris (1 byte/s) is abandoned after about --timeout seconds: exit 4', async (t) => {
  const f = await fixture(t, 1, 100_000);
  const bad = await hostile(t, f, 'slowloris');
  const res = await download(f, [bad.url], ['--timeout', '2'], 30_000);
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /slower than 1024 bytes\/s over the last 2 s/);
  assert.ok(res.ms < 15_000, `took ${res.ms} ms`);
  assert.equal(bad.requests.length, 1, 'a timeout is not retried');
  await assertNothingUnverified(f);
});

test('a mirror hanging after the headers is given up after two timeouts, not asked for the other files', async (t) => {
  const f = await fixture(t, 6, 100_000);
  const bad = await hostile(t, f, 'hang-after-headers');
  const good = await hostile(t, f, 'good');
  const res = await download(f, [bad.url, good.url], ['--timeout', '2', '--jobs', '1', '--verbose'], 40_000);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(bad.requests.length, 2, `asked ${bad.requests.length} times`);
  assert.match(res.stderr, /127\.0\.0\.1:\d+ is not answering \(2 requests in a row timed out\); not asked again in this run/);
  assert.equal((await walk(f.out)).length, 6);
  await assertNothingUnverified(f);
});

test('a mirror hanging before the headers: no retries of timeouts, down after two, exit 4', async (t) => {
  const f = await fixture(t, 4, 1000);
  const bad = await hostile(t, f, 'hang-before-headers');
  const res = await download(f, [bad.url], ['--timeout', '2', '--jobs', '1', '--retries', '3'], 40_000);
  assert.equal(res.code, 4, res.stderr);
  assert.equal(bad.requests.length, 2, `asked ${bad.requests.length} times`);
  assert.ok(res.ms < 20_000, `took ${res.ms} ms`);
  await assertNothingUnverified(f);
});

test('a host that never completes the handshake hits --connect-timeout, apart from --timeout; down after two', async (t) => {
  const f = await fixture(t, 3, 1000);
  const hole = await startBlackhole();
  t.after(() => hole.close());
  const res = await download(f, [hole.url], ['--connect-timeout', '1', '--timeout', '30', '--jobs', '1'], 20_000);
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /connect timeout/i);
  assert.match(res.stderr, /is not answering \(2 requests in a row timed out\)/);
  assert.ok(res.ms < 15_000, `took ${res.ms} ms`);
  await assertNothingUnverified(f);
});

test('503 with Retry-After: 100000 gives up on that provider at once, saying why', async (t) => {
  const f = await fixture(t, 1, 1000);
  const bad = await hostile(t, f, 'retry-after');
  const res = await download(f, [bad.url], ['--timeout', '2'], 20_000);
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /HTTP 503 asks to retry after 100000 s, longer than the timeout \(2 s\); giving up on it/);
  assert.equal(bad.requests.length, 1);
  await assertNothingUnverified(f);
});

test('a reset mid-body is retried from where it stopped, with Range', async (t) => {
  const f = await fixture(t, 3, 1 << 20);
  const bad = await hostile(t, f, 'reset-then-good');
  const res = await download(f, [bad.url], ['--jobs', '2'], 30_000);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(bad.requests.length, 6);
  const ranged = bad.requests.filter((r) => r.range);
  assert.equal(ranged.length, 3, 'each file asked again with a Range');
  for (const r of ranged) assert.match(r.range!, /^bytes=[1-9]\d*-$/);
  assert.equal((await walk(f.out)).length, 3);
  await assertNothingUnverified(f);
});

test('a reset mid-body from a server without ranges is retried from the start', async (t) => {
  const f = await fixture(t, 2, 1 << 20);
  const bad = await hostile(t, f, 'reset-then-good-no-range');
  const res = await download(f, [bad.url], [], 30_000);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(bad.requests.length, 4);
  assert.ok(bad.requests.every((r) => !r.range));
  await assertNothingUnverified(f);
});

test('a DNS failure is not retried: exit 4 at once', async (t) => {
  const f = await fixture(t, 2, 1000);
  const res = await download(f, ['http://nonexistent.invalid'], ['--retries', '5'], 30_000);
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /nonexistent\.invalid.*DNS failure, not retried/);
  assert.doesNotMatch(res.stderr, /after \d+ attempts/);
  await assertNothingUnverified(f);
});

test('--max-size reads K/M/G/T and KiB/MiB/GiB/TiB; a bad size is exit 2', async (t) => {
  assert.equal(parseSize('4G'), 4 * 1024 ** 3);
  assert.equal(parseSize('512MiB'), 512 * 1024 ** 2);
  assert.equal(parseSize('100k'), 102_400);
  assert.equal(parseSize('1T'), 1024 ** 4);
  assert.equal(parseSize('1048576'), 1048576);
  assert.equal(parseSize('1.5K'), 1536);
  assert.equal(parseSize('4 parsecs'), undefined);
  assert.equal(parseSize('-1'), undefined);
  const f = await fixture(t, 1, 10);
  const res = await runCli(['download', f.lock, '--max-size', 'lots', '--provider', 'http://127.0.0.1:9/{{.Name}}']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--max-size expects a size/);
});

test('undici is loaded by the first request, not at start-up (pinget --help does not load it)', async (t) => {
  // Logs each resolution of "undici" (module.registerHooks, Node >= 22.15), beside tsx's loader.
  const hook = 'data:text/javascript,import{registerHooks}from"node:module";registerHooks({resolve(s,c,n){if(/^undici(\\/|$)/.test(s))process.stderr.write("LOADED undici\\n");return n(s,c)}});';
  const node = (args: string[]) => run(process.execPath, ['--import', import.meta.resolve('tsx'), '--import', hook, join(REPO_ROOT, 'src', 'cli.ts'), ...args], { cwd: REPO_ROOT });
  const help = await node(['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.doesNotMatch(help.stderr, /LOADED undici/);
  const f = await fixture(t, 1, 1000);
  const s = await hostile(t, f, 'good');
  const dl = await node(['download', f.lock, '-o', f.out, '--cache', f.cache, '--provider', `${s.url}/{{.Name}}`]);
  assert.equal(dl.code, 0, dl.stderr);
  assert.match(dl.stderr, /LOADED undici/, 'the hook sees undici when it is loaded');
});

test('capBytes (the cap for non-HTTP sources such as oras) cuts an endless stream at the cap', async () => {
  let made = 0;
  const endless = new Readable({
    read() {
      made += 65536;
      this.push(Buffer.alloc(65536));
    },
  });
  let passed = 0;
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      passed += c.length;
      cb();
    },
  });
  await assert.rejects(pipeline(capBytes(endless, 1_000_000, 'oci://x/y pool/a.deb'), sink), /oci:\/\/x\/y pool\/a\.deb: served more than --max-size \(1000000 bytes\); cut/);
  assert.ok(passed <= 1_000_000, `${passed} bytes passed`);
  assert.ok(made < 10_000_000, `the source was asked for ${made} bytes`);
});

test('a consumer slower than --speed-limit is not the server being slow: connections closed under backpressure, all bytes right', async (t) => {
  // Files larger than what the socket and the client buffer, read at 4 MB/s while the limit asks 40 MB/s of
  // the server: only the time the server is waited for counts.
  const f = await fixture(t, 2, 16 << 20);
  const s = await hostile(t, f, 'close-under-backpressure');
  t.after(() => closeHttp());
  const rate = 4e6;
  await Promise.all(
    Object.entries(f.files).map(async ([path, data]) => {
      const { stream } = await httpDownload(`${s.url}/${path}`, { timeoutMs: 5000, retries: 0, speedLimit: { bytesPerSecond: 40e6, seconds: 1 } });
      const start = Date.now();
      let got = 0;
      const hash = createHash('sha256');
      const slow = new Writable({
        highWaterMark: 64 * 1024,
        write(c: Buffer, _e, cb) {
          hash.update(c);
          got += c.length;
          setTimeout(cb, Math.max(0, (got / rate) * 1000 - (Date.now() - start)));
        },
      });
      await pipeline(stream, slow);
      assert.equal(hash.digest('hex'), sha256Bytes(data), path);
    }),
  );
});

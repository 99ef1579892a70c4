import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Cache } from '../src/cache.js';
import { PingetError } from '../src/errors.js';
import { fetchAll, type ProgressEvent } from '../src/fetch/chain.js';
import { createProvider } from '../src/fetch/providers.js';
import type { FetchTarget, Provider } from '../src/fetch/types.js';
import { createProgress } from '../src/ui/progress.js';
import { silentLogger, type Logger } from '../src/ui/log.js';
import { sha256Bytes } from '../src/verify/sha256.js';

const ctx = { log: silentLogger, timeoutMs: 10_000, retries: 0 };

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-chain-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return { dir, cache: new Cache(join(dir, 'cache')) };
}

function target(path: string, data: Buffer): FetchTarget {
  return { path, sha256: sha256Bytes(data), headers: {} };
}

async function put(root: string, path: string, data: Buffer): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), data);
}

/** A provider from a function, counting the paths it was asked for. */
function fake(label: string, serve: (t: FetchTarget) => Buffer | PingetError): Provider & { asked: string[] } {
  const asked: string[] = [];
  return {
    label,
    asked,
    async open(t) {
      asked.push(t.path);
      const r = serve(t);
      if (r instanceof PingetError) throw r;
      return { stream: Readable.from([r]), size: r.length };
    },
  };
}

function capture(): Logger & { warns: string[]; verboses: string[] } {
  const warns: string[] = [];
  const verboses: string[] = [];
  return { warns, verboses, info: () => {}, warn: (m) => warns.push(m), verbose: (m) => verboses.push(m) };
}

test('results come in the order of the targets; each from the first provider that has it; file:// works', async (t) => {
  const { dir, cache } = await setup(t);
  const files = Array.from({ length: 12 }, (_, i) => ({ path: `pool/main/p/p${i}/p${i}_1.0_all.deb`, data: randomBytes(1000 + i * 97) }));
  const second = join(dir, 'second');
  // the first mirror only has the even files; the second has all
  for (const [i, f] of files.entries()) {
    if (i % 2 === 0) await put(join(dir, 'first'), f.path, f.data);
    await put(second, f.path, f.data);
  }
  const providers = [createProvider(pathToFileURL(join(dir, 'first')).href, ctx), createProvider(`${pathToFileURL(second).href}/{{.Name}}`, ctx)];
  const targets = files.map((f) => target(f.path, f.data)).reverse();
  const results = await fetchAll(targets, { cache, providers, jobs: 4, log: silentLogger });
  assert.deepEqual(results.map((r) => r.target), targets);
  for (const r of results) {
    const i = Number(/p(\d+)_/.exec(r.target.path)![1]);
    assert.equal(r.source, providers[i % 2 === 0 ? 0 : 1].label);
    assert.deepEqual(await readFile(r.file), files[i].data);
    assert.equal(r.bytes, files[i].data.length);
  }
  // Second run: everything from the cache, no provider asked.
  const counting = fake('never', () => new PingetError('NOT_FOUND', 'x'));
  const again = await fetchAll(targets, { cache, providers: [counting], jobs: 4, log: silentLogger });
  assert.ok(again.every((r) => r.source === 'cache'));
  assert.deepEqual(counting.asked, []);
});

test('targets with the same sha256 under two paths are fetched once', async (t) => {
  const { cache } = await setup(t);
  const data = randomBytes(5000);
  const p = fake('mirror', () => data);
  const targets = [target('pool/a/x_1_all.deb', data), target('pool/b/x_1_all.deb', data)];
  const events: ProgressEvent[] = [];
  const results = await fetchAll(targets, { cache, providers: [p], jobs: 2, log: silentLogger, onProgress: (e) => events.push(e) });
  assert.equal(p.asked.length, 1);
  assert.deepEqual(results.map((r) => r.target.path), ['pool/a/x_1_all.deb', 'pool/b/x_1_all.deb']);
  assert.equal(results[0].file, results[1].file);
  assert.equal(events.filter((e) => e.kind === 'done').length, 2);
  assert.equal(events.filter((e) => e.kind === 'bytes').reduce((n, e) => n + (e.bytes ?? 0), 0), data.length);
  assert.equal(events.find((e) => e.kind === 'start')?.total, data.length);
});

test('wrong bytes from one provider: a warning, the next provider serves, nothing bad is cached', async (t) => {
  const { dir, cache } = await setup(t);
  const data = randomBytes(4000);
  const log = capture();
  const evil = fake('evil', () => Buffer.from('tampered'));
  const good = fake('good', () => data);
  const [r] = await fetchAll([target('pool/x.deb', data)], { cache, providers: [evil, good], jobs: 1, log });
  assert.equal(r.source, 'good');
  assert.equal(log.warns.length, 1);
  assert.match(log.warns[0], /pool\/x\.deb: evil served bytes that do not match/);
  assert.deepEqual(await readdir(join(cache.dir, 'blobs', 'sha256')), [sha256Bytes(data)]);
  assert.deepEqual(await readdir(join(cache.dir, 'tmp')), []);
  void dir;
});

test('files no provider has: one NOT_FOUND error (exit 4) after the others finish, listing every provider and reason', async (t) => {
  const { cache } = await setup(t);
  const ok = randomBytes(100);
  const missing1 = randomBytes(100);
  const missing2 = randomBytes(100);
  const log = capture();
  const a = fake('mirror-a', (tg) => (tg.path === 'pool/ok.deb' ? ok : new PingetError('NOT_FOUND', `a: HTTP 404 for ${tg.path}`)));
  const b = fake('mirror-b', () => new PingetError('UNAVAILABLE', 'b: HTTP 503 after 4 attempts'));
  const targets = [target('pool/m1.deb', missing1), target('pool/ok.deb', ok), target('pool/m2.deb', missing2)];
  const err = await fetchAll(targets, { cache, providers: [a, b], jobs: 3, log }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e as PingetError,
  );
  assert.ok(err instanceof PingetError);
  assert.equal(err.code, 'NOT_FOUND');
  assert.equal(err.exitCode, 4);
  assert.equal(err.message, '2 of 3 files could not be fetched; tried: mirror-a, mirror-b');
  assert.deepEqual(err.details, [
    `pool/m1.deb (sha256 ${sha256Bytes(missing1).slice(0, 12)}…):`,
    '  - mirror-a: a: HTTP 404 for pool/m1.deb',
    '  - mirror-b: b: HTTP 503 after 4 attempts',
    `pool/m2.deb (sha256 ${sha256Bytes(missing2).slice(0, 12)}…):`,
    '  - mirror-a: a: HTTP 404 for pool/m2.deb',
    '  - mirror-b: b: HTTP 503 after 4 attempts',
  ]);
  // the file that could be fetched was fetched
  assert.equal(await cache.has(sha256Bytes(ok)), true);
  assert.equal(log.verboses.length, 4);
  assert.equal(log.warns.length, 0);
});

test('when a provider served wrong bytes for a file that then failed everywhere: INTEGRITY (exit 3)', async (t) => {
  const { cache } = await setup(t);
  const data = randomBytes(100);
  const evil = fake('evil', () => Buffer.from('not it'));
  const none = fake('none', () => new PingetError('NOT_FOUND', 'HTTP 404'));
  const err = await fetchAll([target('pool/x.deb', data)], { cache, providers: [evil, none], jobs: 1, log: silentLogger }).catch((e: unknown) => e);
  assert.ok(err instanceof PingetError);
  assert.equal(err.code, 'INTEGRITY');
  assert.equal(err.exitCode, 3);
  assert.match(err.details[1], /^ {2}- evil: hash mismatch: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64} \(6 bytes\)$/);
  assert.deepEqual(await readdir(join(cache.dir, 'blobs', 'sha256')), []);
});

test('no providers at all: NOT_FOUND saying so', async (t) => {
  const { cache } = await setup(t);
  const err = await fetchAll([target('pool/x.deb', Buffer.from('x'))], { cache, providers: [], jobs: 1, log: silentLogger }).catch((e: unknown) => e);
  assert.ok(err instanceof PingetError);
  assert.equal(err.code, 'NOT_FOUND');
  assert.deepEqual(err.details.slice(1), ['  - no provider to try']);
});

test('aborting (Ctrl-C) mid-download rejects with the reason and leaves no blob and no temp file', async (t) => {
  const { cache } = await setup(t);
  const controller = new AbortController();
  const stream = new PassThrough();
  const slow: Provider = {
    label: 'slow',
    async open() {
      stream.write(Buffer.alloc(64 * 1024, 7));
      return { stream };
    },
  };
  const reason = new PingetError('UNAVAILABLE', 'interrupted');
  const p = fetchAll([target('pool/big.deb', randomBytes(10))], {
    cache,
    providers: [slow],
    jobs: 1,
    log: silentLogger,
    signal: controller.signal,
    onProgress: (e) => {
      if (e.kind === 'bytes') controller.abort(reason);
    },
  });
  await assert.rejects(p, (e) => e === reason);
  assert.deepEqual(await readdir(join(cache.dir, 'blobs', 'sha256')), []);
  assert.deepEqual(await readdir(join(cache.dir, 'tmp')), []);
  assert.equal(stream.destroyed, true);
});

test('the progress display is a no-op when disabled and draws files/bytes on a TTY', async () => {
  const off = createProgress({ enabled: false, total: 3 });
  off.onProgress({ kind: 'done', target: target('a', Buffer.from('a')) });
  off.stop();
  const out = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  Object.assign(out, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const bar = createProgress({ enabled: true, total: 2, stream: out });
  const tg = target('pool/a.deb', Buffer.from('a'));
  bar.onProgress({ kind: 'start', target: tg, total: 2048 });
  bar.onProgress({ kind: 'bytes', target: tg, bytes: 2048 });
  bar.onProgress({ kind: 'done', target: tg, bytes: 2048 });
  bar.stop();
  assert.match(text, /1\/2 files \| 2\.0 KiB/);
});

test('providers by scheme: bad templates are USAGE errors when the chain is built; file:// directories are NOT_FOUND', async (t) => {
  const { dir } = await setup(t);
  assert.throws(() => createProvider('ftp://mirror/debian', ctx), (e: unknown) => e instanceof PingetError && e.code === 'USAGE');
  assert.throws(() => createProvider('https://m/{{.Version}}', ctx), (e: unknown) => e instanceof PingetError && e.code === 'USAGE');
  assert.throws(() => createProvider('file:///srv/{{.Foo}}', ctx), (e: unknown) => e instanceof PingetError && e.code === 'USAGE');
  await mkdir(join(dir, 'pool', 'x.deb'), { recursive: true });
  const p = createProvider(pathToFileURL(dir).href, ctx);
  await assert.rejects(p.open(target('pool/x.deb', Buffer.from('x')), new AbortController().signal), (e: unknown) => {
    return e instanceof PingetError && e.code === 'NOT_FOUND' && e.message.includes('not a regular file');
  });
  await assert.rejects(p.open(target('pool/none.deb', Buffer.from('x')), new AbortController().signal), (e: unknown) => {
    return e instanceof PingetError && e.code === 'NOT_FOUND';
  });
  assert.equal(createProvider('https://user:secret@m/debian', ctx).label, 'https://user:***@m/debian');
});

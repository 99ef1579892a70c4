import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Cache } from '../src/cache.js';
import { PingetError } from '../src/errors.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { REPO_ROOT } from './helpers/cli.js';

async function tempCache(t: { after: (fn: () => Promise<void>) => void }): Promise<{ dir: string; cache: Cache }> {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-cache-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return { dir, cache: new Cache(join(dir, 'cache')) };
}

const listing = (dir: string) => readdir(dir).catch(() => [] as string[]);

test('ingest stores verified bytes under blobs/sha256/<hex> and leaves no temp file', async (t) => {
  const { cache } = await tempCache(t);
  const data = randomBytes(300_000);
  const sha = sha256Bytes(data);
  const file = await cache.ingest(sha, Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
  assert.equal(file, join(cache.dir, 'blobs', 'sha256', sha));
  assert.deepEqual(await readFile(file), data);
  assert.equal(await cache.has(sha), true);
  assert.deepEqual(await listing(join(cache.dir, 'tmp')), []);
  assert.deepEqual(await cache.list(), [{ sha256: sha, size: data.length }]);
});

test('a hash mismatch is INTEGRITY and leaves nothing: no blob, no temp file', async (t) => {
  const { cache } = await tempCache(t);
  const data = randomBytes(10_000);
  const wrong = sha256Bytes('something else');
  await assert.rejects(cache.ingest(wrong, Readable.from([data])), (e: unknown) => {
    return e instanceof PingetError && e.code === 'INTEGRITY' && e.message.includes(wrong) && e.message.includes(sha256Bytes(data));
  });
  assert.equal(await cache.has(wrong), false);
  assert.deepEqual(await listing(join(cache.dir, 'blobs', 'sha256')), []);
  assert.deepEqual(await listing(join(cache.dir, 'tmp')), []);
});

test('a source that fails midway leaves no blob and no temp file', async (t) => {
  const { cache } = await tempCache(t);
  async function* broken() {
    yield Buffer.alloc(1000, 1);
    throw new Error('connection reset');
  }
  await assert.rejects(cache.ingest(sha256Bytes('x'), Readable.from(broken())), /connection reset/);
  assert.deepEqual(await listing(join(cache.dir, 'blobs', 'sha256')), []);
  assert.deepEqual(await listing(join(cache.dir, 'tmp')), []);
});

function child(args: string[]) {
  const p = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'helpers', 'fetch-child.ts'), ...args], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  p.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const ready = new Promise<void>((resolve, reject) => {
    p.stdout.on('data', () => out.includes('ready') && resolve());
    p.on('exit', () => reject(new Error(`child exited before ready: ${err}`)));
  });
  const exited = new Promise<{ code: number | null; out: string; err: string }>((resolve) => p.on('close', (code) => resolve({ code, out, err })));
  return { p, ready, exited };
}

test('two processes ingesting the same blob into one cache at the same time both succeed', async (t) => {
  const { dir, cache } = await tempCache(t);
  const data = randomBytes(2 * 1024 * 1024);
  const sha = sha256Bytes(data);
  const src = join(dir, 'src.bin');
  await writeFile(src, data);
  const a = child(['ingest', cache.dir, sha, src]);
  const b = child(['ingest', cache.dir, sha, src]);
  t.after(() => {
    a.p.kill('SIGKILL');
    b.p.kill('SIGKILL');
  });
  await Promise.all([a.ready, b.ready]);
  // Both start streaming together (they write 64 KiB chunks with pauses, so the writes interleave).
  a.p.stdin.write('go\n');
  b.p.stdin.write('go\n');
  const [ra, rb] = await Promise.all([a.exited, b.exited]);
  assert.equal(ra.code, 0, ra.err);
  assert.equal(rb.code, 0, rb.err);
  assert.match(ra.out, /ok/);
  assert.match(rb.out, /ok/);
  assert.deepEqual(await readFile(cache.blobPath(sha)), data);
  assert.deepEqual(await listing(join(cache.dir, 'blobs', 'sha256')), [sha]);
  assert.deepEqual(await listing(join(cache.dir, 'tmp')), []);
});

test('verify keeps good blobs and removes a corrupted one', async (t) => {
  const { cache } = await tempCache(t);
  const good = Buffer.from('good bytes');
  const bad = Buffer.from('bytes that will rot');
  const goodSha = sha256Bytes(good);
  const badSha = sha256Bytes(bad);
  await cache.ingest(goodSha, Readable.from([good]));
  await cache.ingest(badSha, Readable.from([bad]));
  await writeFile(cache.blobPath(badSha), 'bit rot');
  const seen: [string, boolean][] = [];
  const res = await cache.verify((sha, ok) => seen.push([sha, ok]));
  assert.deepEqual(res, { ok: [goodSha], bad: [badSha] });
  assert.equal(seen.length, 2);
  assert.equal(await cache.has(badSha), false);
  assert.equal(await cache.has(goodSha), true);
});

test('clean removes blobs (all, or all but kept) and leftover temp files', async (t) => {
  const { cache } = await tempCache(t);
  const shas: string[] = [];
  for (const s of ['one', 'two', 'three']) {
    const sha = sha256Bytes(s);
    shas.push(sha);
    await cache.ingest(sha, Readable.from([Buffer.from(s)]));
  }
  // A temp file as a killed download leaves it: clean must remove it.
  await writeFile(join(cache.dir, 'tmp', `${shas[0]}.12345.abcdef`), 'partial');
  assert.equal(await cache.clean((sha) => sha === shas[1]), 2);
  assert.deepEqual((await cache.list()).map((b) => b.sha256), [shas[1]]);
  assert.deepEqual(await listing(join(cache.dir, 'tmp')), []);
  assert.equal(await cache.clean(), 1);
  assert.deepEqual(await cache.list(), []);
});

test('materialize copies a blob to a destination, atomically and byte for byte', async (t) => {
  const { dir, cache } = await tempCache(t);
  const data = randomBytes(50_000);
  const sha = sha256Bytes(data);
  await cache.ingest(sha, Readable.from([data]));
  const dest = join(dir, 'out.deb');
  await writeFile(dest, 'old content');
  await cache.materialize(sha, dest);
  assert.deepEqual(await readFile(dest), data);
  assert.deepEqual((await readdir(dir)).sort(), ['cache', 'out.deb']);
  // The copy is independent of the blob.
  await writeFile(dest, 'changed');
  assert.deepEqual(await readFile(cache.blobPath(sha)), data);
  await assert.rejects(cache.materialize(sha256Bytes('absent'), join(dir, 'x')), { code: 'ENOENT' });
  assert.deepEqual((await readdir(dir)).sort(), ['cache', 'out.deb']);
});

test('ingestFile checks the hash of a local file', async (t) => {
  const { dir, cache } = await tempCache(t);
  const f = join(dir, 'f');
  await writeFile(f, 'local');
  await assert.rejects(cache.ingestFile(sha256Bytes('other'), f), (e: unknown) => e instanceof PingetError && e.code === 'INTEGRITY');
  assert.equal(await cache.ingestFile(sha256Bytes('local'), f), cache.blobPath(sha256Bytes('local')));
});

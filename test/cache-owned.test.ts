import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cache } from '../src/cache.js';
import { PingetError } from '../src/errors.js';
import { GroupSync, Syncfs } from '../src/group-sync.js';
import { sha256Bytes } from '../src/verify/sha256.js';

async function tempCache(t: { after: (fn: () => Promise<void>) => void }): Promise<{ dir: string; cache: Cache; staged: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-owned-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cache = new Cache(join(dir, 'cache'));
  await cache.prepare();
  // Staged where the OCI provider stages: inside the cache's tmp/, on its file system.
  const staged = join(dir, 'cache', 'tmp', `oci.pinget-tmp-${process.pid}-0123456789ab`);
  await mkdir(staged);
  return { dir, cache, staged };
}

const listing = (dir: string) => readdir(dir).catch(() => [] as string[]);

test('ingestOwned moves a staged file into the cache (same inode, no copy), once its hash matched', async (t) => {
  const { cache, staged } = await tempCache(t);
  const data = randomBytes(100_000);
  const sha = sha256Bytes(data);
  const file = join(staged, sha);
  await writeFile(file, data);
  const ino = (await stat(file)).ino;
  const blob = await cache.ingestOwned(sha, file);
  assert.equal(blob, join(cache.dir, 'blobs', 'sha256', sha));
  assert.equal((await stat(blob)).ino, ino, 'moved, not copied');
  assert.deepEqual(await readFile(blob), data);
  assert.equal(existsSync(file), false, 'the staged file is gone');
  assert.deepEqual((await listing(join(cache.dir, 'tmp'))).filter((n) => !n.startsWith('oci.')), []);
});

test('ingestOwned of bytes that do not match: INTEGRITY, nothing enters the cache, the file is gone', async (t) => {
  const { cache, staged } = await tempCache(t);
  const data = randomBytes(5000);
  const wrong = sha256Bytes('other bytes');
  const file = join(staged, wrong);
  await writeFile(file, data);
  await assert.rejects(cache.ingestOwned(wrong, file), (e: unknown) => e instanceof PingetError && e.code === 'INTEGRITY' && e.message.includes(sha256Bytes(data)));
  assert.equal(await cache.has(wrong), false);
  assert.deepEqual(await cache.list(), []);
  assert.equal(existsSync(file), false);
  assert.deepEqual((await listing(join(cache.dir, 'tmp'))).filter((n) => !n.startsWith('oci.')), []);
});

test('ingestOwned of a symlink is refused as not a file (INTEGRITY), never followed', async (t) => {
  const { dir, cache, staged } = await tempCache(t);
  const data = randomBytes(1000);
  const sha = sha256Bytes(data);
  await writeFile(join(dir, 'target'), data);
  const file = join(staged, sha);
  await import('node:fs/promises').then((fs) => fs.symlink(join(dir, 'target'), file));
  await assert.rejects(cache.ingestOwned(sha, file), (e: unknown) => e instanceof PingetError && e.code === 'INTEGRITY' && /symbolic link/.test(e.message));
  assert.equal(await cache.has(sha), false);
});

test('many owned files at once share their syncs and all arrive verified; one bad one fails alone', async (t) => {
  const { cache, staged } = await tempCache(t);
  const blobs = Array.from({ length: 60 }, () => randomBytes(4096 + Math.floor(Math.random() * 4096)));
  const bad = 17;
  const names = blobs.map((b, i) => (i === bad ? sha256Bytes('not these bytes') : sha256Bytes(b)));
  await Promise.all(blobs.map((b, i) => writeFile(join(staged, names[i]), b)));
  const results = await Promise.allSettled(names.map((sha) => cache.ingestOwned(sha, join(staged, sha))));
  for (const [i, r] of results.entries()) {
    if (i === bad) assert.equal(r.status, 'rejected');
    else {
      assert.equal(r.status, 'fulfilled');
      assert.deepEqual(await readFile((r as PromiseFulfilledResult<string>).value), blobs[i]);
    }
  }
  assert.equal((await cache.list()).length, blobs.length - 1);
  assert.deepEqual(await listing(staged), []);
});

test('ingestOwned from another file system streams the bytes in (EXDEV) and removes the file', { skip: !existsSync('/dev/shm') && 'no /dev/shm' }, async (t) => {
  const { cache } = await tempCache(t);
  const other = await mkdtemp('/dev/shm/pinget-owned-');
  t.after(() => rm(other, { recursive: true, force: true }));
  if ((await stat(other)).dev === (await stat(cache.dir)).dev) return t.skip('/dev/shm is on the cache file system here');
  const data = randomBytes(70_000);
  const sha = sha256Bytes(data);
  const file = join(other, sha);
  await writeFile(file, data);
  const blob = await cache.ingestOwned(sha, file);
  assert.deepEqual(await readFile(blob), data);
  assert.equal(existsSync(file), false);
});

/** Eight small files in a fresh directory, removed after the test. */
async function eightFiles(t: TestContext): Promise<{ dir: string; files: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-gsync-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const f = join(dir, `f${i}`);
      await writeFile(f, randomBytes(1000));
      return f;
    }),
  );
  return { dir, files };
}

test('GroupSync: files wait for a sync and resolve; without sync -f (or with a dead descriptor) each is fsynced; a missing file rejects', async (t) => {
  const { dir, files } = await eightFiles(t);
  const fh = await open(dir, 'r');
  try {
    await Promise.all(files.map((f) => new GroupSync().durable(f, fh.fd)));
    const shared = new GroupSync();
    await Promise.all(files.map((f) => shared.durable(f, fh.fd)));
    await Promise.all(files.map((f) => new GroupSync(false).durable(f, fh.fd)));
    // A descriptor that is not open: `sync -f` fails, the group falls back to fsyncing each file.
    const dead = new GroupSync();
    await Promise.all(files.map((f) => dead.durable(f, 987654)));
    await assert.rejects(Promise.all([dead.durable(files[0], 987654), dead.durable(join(dir, 'missing'), 987654)]), { code: 'ENOENT' });
  } finally {
    await fh.close();
  }
});

test('GroupSync: files arriving one by one after a group started wait for the next one together (one sync, not one each)', async (t) => {
  const { dir, files } = await eightFiles(t);
  const fh = await open(dir, 'r');
  try {
    // A gap far longer than the arrivals take, so the count does not depend on the machine's speed.
    const sync = new GroupSync(true, 1500);
    await sync.durable(files[0], fh.fd);
    // Each arrives after the one before could have been synced alone (as they were without the gap).
    const rest: Promise<void>[] = [];
    for (const f of files.slice(1)) {
      rest.push(sync.durable(f, fh.fd));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(rest);
    assert.equal(sync.groups, 2);
  } finally {
    await fh.close();
  }
});

test('Syncfs: one long-lived sh answers each sync of a file system (true), a dead descriptor is false, and it keeps nothing alive', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-syncfs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fh = await open(dir, 'r');
  try {
    const s = new Syncfs();
    assert.deepEqual(await Promise.all([s.sync(fh.fd), s.sync(fh.fd), s.sync(fh.fd)]), [true, true, true]);
    assert.equal(await s.sync(fh.fd), true);
    assert.equal(await s.sync(987654), false);
  } finally {
    await fh.close();
  }
  // The test process ending at all shows the idle sh does not hold the event loop.
});

test("sweepTemp removes a dead process's staging directory in tmp/ and keeps a live one's", async (t) => {
  const { cache, staged } = await tempCache(t);
  const child = spawn(process.execPath, ['-e', '0']);
  const deadPid = await new Promise<number>((resolve) => child.once('exit', () => resolve(child.pid!)));
  const dead = join(cache.dir, 'tmp', `oci.pinget-tmp-${deadPid}-00aa11bb22cc`);
  await mkdir(join(dead, '0', 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dead, '0', 'blobs', 'sha256', 'x'), 'left over');
  await writeFile(join(staged, 'y'), 'in use');
  await cache.sweepTemp();
  assert.equal(existsSync(dead), false);
  assert.equal(existsSync(join(staged, 'y')), true);
});

/**
 * `download -o DIR`: files hard-linked from the cache (or copied with --copy), kept when already right,
 * and never written outside DIR: a symlinked folder, a directory or a symlink at a destination, a file
 * where a directory is needed are refused with exit 2 naming the path. Leftover temp files of dead
 * processes are swept, in -o and in the cache; a live process's stay, `cache clean` included.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { run } from '../src/exec.js';
import { PingetError } from '../src/errors.js';
import { OutputDir } from '../src/output-dir.js';
import { writeRandomPool } from './helpers/random-pool.js';

let tmp: string;
let server: TestServer;
let lockfile: string;
const entries: { path: string; sha256: string; data: Buffer }[] = [];

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-output-dir-'));
  const www = join(tmp, 'www');
  lockfile = join(tmp, 'SHA256SUMS');
  entries.push(...(await writeRandomPool(www, lockfile, 3, 100_000)));
  server = await serveDirectory(www);
});

after(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

const download = (out: string, cache: string, ...extra: string[]) =>
  runCli(['download', lockfile, '-o', out, '--provider', `${server.url}/{{.Name}}`, '--cache', cache, '--retries', '0', ...extra]);
const blob = (cache: string, sha: string) => join(cache, 'blobs', 'sha256', sha);
const sha256sumC = (dir: string) => run('sha256sum', ['-c', '--strict', lockfile], { cwd: dir });

/** A pid no process has: one that just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('download -o hard-links cached files (same inode as the blob); --copy gives independent files; both pass sha256sum -c', async () => {
  const cache = join(tmp, 'c-link');
  const linked = join(tmp, 'out-link');
  const first = await download(linked, cache);
  assert.equal(first.code, 0, first.stderr);
  const second = join(tmp, 'out-link2');
  const cached = await download(second, cache);
  assert.equal(cached.code, 0, cached.stderr);
  for (const dir of [linked, second]) {
    assert.equal((await sha256sumC(dir)).code, 0);
    for (const e of entries) assert.equal((await stat(join(dir, e.path))).ino, (await stat(blob(cache, e.sha256))).ino, `${dir}/${e.path} is the blob`);
  }

  const copied = join(tmp, 'out-copy');
  const res = await download(copied, cache, '--copy');
  assert.equal(res.code, 0, res.stderr);
  assert.equal((await sha256sumC(copied)).code, 0);
  for (const e of entries) assert.notEqual((await stat(join(copied, e.path))).ino, (await stat(blob(cache, e.sha256))).ino);
  // Independent: changing the copy changes neither the cache nor a later run's output.
  await writeFile(join(copied, entries[0].path), 'changed');
  assert.deepEqual(await readFile(blob(cache, entries[0].sha256)), entries[0].data);
  // --copy over a hard-linked -o replaces the links with copies.
  const relinked = await download(linked, cache, '--copy');
  assert.equal(relinked.code, 0, relinked.stderr);
  assert.notEqual((await stat(join(linked, entries[0].path))).ino, (await stat(blob(cache, entries[0].sha256))).ino);
  assert.equal((await sha256sumC(linked)).code, 0);
});

test('a cache on another file system (/dev/shm) is copied out, hashing on the way', { skip: !existsSync('/dev/shm') }, async (t) => {
  const cache = await mkdtemp(join('/dev/shm', 'pinget-output-dir-cache-'));
  t.after(() => rm(cache, { recursive: true, force: true }));
  const out = join(tmp, 'out-xdev');
  const res = await download(out, cache);
  assert.equal(res.code, 0, res.stderr);
  assert.equal((await sha256sumC(out)).code, 0);
  assert.notEqual((await stat(join(out, entries[0].path))).dev, (await stat(blob(cache, entries[0].sha256))).dev);
});

test('the copy hashes what it copies: a source whose bytes changed since verification is INTEGRITY and leaves no temp file', { skip: !existsSync('/dev/shm') }, async (t) => {
  // From another file system neither a hard link nor a reflink can serve: this is the copy.
  const shm = await mkdtemp(join('/dev/shm', 'pinget-output-dir-src-'));
  t.after(() => rm(shm, { recursive: true, force: true }));
  const src = join(shm, 'changed-blob');
  await writeFile(src, 'not what was verified');
  const out = join(tmp, 'out-unit');
  const dir = await OutputDir.open(out);
  await assert.rejects(dir.place(src, entries[0].sha256, 'pool/x.deb'), (e: unknown) => e instanceof PingetError && e.code === 'INTEGRITY');
  assert.deepEqual(await readdir(join(out, 'pool')), []);
  await writeFile(src, entries[0].data);
  assert.equal(await dir.place(src, entries[0].sha256, 'pool/x.deb'), 'copied');
  assert.deepEqual(await readFile(join(out, 'pool/x.deb')), entries[0].data);
});

test('in a directory the run made, the same path placed twice (two lockfiles naming it) is linked once, then kept: no temp file left', async (t) => {
  const src = join(tmp, 'src-twice');
  await mkdir(src, { recursive: true });
  const file = join(src, 'blob');
  await writeFile(file, entries[0].data);
  const out = join(tmp, 'out-twice');
  t.after(() => rm(out, { recursive: true, force: true }));
  const dir = await OutputDir.open(out, { mayLink: () => true });
  assert.equal(await dir.place(file, entries[0].sha256, 'pool/new/x.deb'), 'linked');
  assert.equal(await dir.place(file, entries[0].sha256, 'pool/new/x.deb'), 'kept');
  // A name in a directory this run made is not looked at first: a symlink planted there meanwhile is
  // replaced by the rename (never followed), and what it pointed to is unchanged.
  const target = join(src, 'target');
  await writeFile(target, 'outside');
  await symlink(target, join(out, 'pool/new/y.deb'));
  assert.equal(await dir.place(file, entries[0].sha256, 'pool/new/y.deb'), 'linked');
  await dir.finish();
  assert.equal(await readFile(target, 'utf8'), 'outside');
  assert.deepEqual((await readdir(join(out, 'pool/new'))).sort(), ['x.deb', 'y.deb']);
  for (const name of ['x.deb', 'y.deb']) assert.equal((await lstat(join(out, 'pool/new', name))).ino, (await stat(file)).ino, name);
});

test('a destination that already holds the right bytes is left alone; wrong bytes are replaced', async () => {
  const cache = join(tmp, 'c-keep');
  const out = join(tmp, 'out-keep');
  const right = join(out, entries[0].path);
  const wrong = join(out, entries[1].path);
  await mkdir(join(right, '..'), { recursive: true });
  await mkdir(join(wrong, '..'), { recursive: true });
  await writeFile(right, entries[0].data);
  await writeFile(wrong, Buffer.alloc(entries[1].data.length));
  const inode = (await stat(right)).ino;
  const res = await download(out, cache);
  assert.equal(res.code, 0, res.stderr);
  assert.equal((await stat(right)).ino, inode, 'same hash: kept as it is');
  assert.equal((await sha256sumC(out)).code, 0);
});

test('a symlinked folder inside -o is refused (exit 2 naming it) and the file outside is unchanged', async () => {
  const cache = join(tmp, 'c-sym');
  const out = join(tmp, 'out-sym');
  const elsewhere = join(tmp, 'elsewhere');
  await mkdir(elsewhere);
  const victim = join(elsewhere, 'test1_1_all.deb');
  await writeFile(victim, 'precious');
  await mkdir(join(out, 'pool/main/t'), { recursive: true });
  await symlink(elsewhere, join(out, 'pool/main/t/test1'));
  const res = await download(out, cache);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /out-sym\/pool\/main\/t\/test1: a symbolic link inside the output directory/);
  assert.equal(await readFile(victim, 'utf8'), 'precious');
  assert.deepEqual(await readdir(elsewhere), ['test1_1_all.deb']);

  // A symlink as the file itself is refused too, and left pointing where it did.
  const out2 = join(tmp, 'out-sym2');
  await mkdir(join(out2, 'pool/main/t/test2'), { recursive: true });
  await symlink(victim, join(out2, entries[2].path));
  const res2 = await download(out2, cache);
  assert.equal(res2.code, 2, res2.stderr);
  assert.match(res2.stderr, /test2_1_all\.deb: a symbolic link is in the way/);
  assert.equal(await readFile(victim, 'utf8'), 'precious');
});

test('a directory at a destination, or a file where a directory is needed, is exit 2 naming the path (not a crash)', async () => {
  const cache = join(tmp, 'c-dir');
  const out = join(tmp, 'out-dir');
  await mkdir(join(out, entries[0].path), { recursive: true });
  const res = await download(out, cache);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /test0_1_all\.deb: a directory is in the way/);

  const out2 = join(tmp, 'out-file');
  await mkdir(join(out2, 'pool/main'), { recursive: true });
  await writeFile(join(out2, 'pool/main/t'), 'a file');
  const res2 = await download(out2, cache);
  assert.equal(res2.code, 2, res2.stderr);
  assert.match(res2.stderr, /out-file\/pool\/main\/t: a regular file where a directory is needed/);
  assert.equal(await readFile(join(out2, 'pool/main/t'), 'utf8'), 'a file');
});

test('temp files of dead processes are swept from -o and the cache; a live process\'s stay, also through cache clean', async () => {
  const cache = join(tmp, 'c-sweep');
  const out = join(tmp, 'out-sweep');
  const dir = join(out, 'pool/main/t/test0');
  await mkdir(dir, { recursive: true });
  await mkdir(join(cache, 'tmp'), { recursive: true });
  const dead = deadPid();
  const sha = entries[0].sha256;
  const deadNames = [`${sha}.pinget-tmp-${dead}-0a1b2c`, 'test0_1_all.deb.pinget-tmp-1a2b3c4d'];
  const liveName = `${sha}.pinget-tmp-${process.pid}-0d0e0f`;
  for (const d of [dir, join(cache, 'tmp')]) {
    for (const n of [...deadNames, liveName]) await writeFile(join(d, n), 'partial');
  }
  await writeFile(join(cache, 'tmp', `${sha}.${dead}.abcdef`), 'partial, named as older versions did');
  const res = await download(out, cache);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual((await readdir(dir)).sort(), ['test0_1_all.deb', liveName].sort());
  assert.deepEqual(await readdir(join(cache, 'tmp')), [liveName]);

  await writeFile(join(cache, 'tmp', deadNames[0]), 'partial');
  const clean = await runCli(['cache', 'clean', '--cache', cache]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.deepEqual(await readdir(join(cache, 'tmp')), [liveName], 'a running download keeps its temp file');
  assert.deepEqual(await readdir(join(cache, 'blobs', 'sha256')), []);
});

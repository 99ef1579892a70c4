/**
 * src/verify/hash-pool.ts hashes files on worker threads, several queued per worker: each answer must
 * reach the file it was asked for, whatever mix of sizes, kinds and failures is in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile, hashFileOffThread, hashPoolStarted, SMALL_FILE, warmHashPool, type FileHash } from '../src/verify/hash-pool.js';

// First in this file: the pool is not started yet.
test('hashFile: small files on the calling thread, no worker booted; the same answers as the workers; a large file starts the pool', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-hash-here-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const small = randomBytes(200_000);
  const empty = Buffer.alloc(0);
  await writeFile(join(dir, 'small'), small);
  await writeFile(join(dir, 'empty'), empty);
  await symlink(join(dir, 'small'), join(dir, 'link'));
  await mkdir(join(dir, 'dir'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  assert.deepEqual(await hashFile(join(dir, 'small')), { kind: 'file', sha256: sha(small), bytes: small.length });
  assert.deepEqual(await hashFile(join(dir, 'empty')), { kind: 'file', sha256: sha(empty), bytes: 0 });
  assert.deepEqual(await hashFile(join(dir, 'missing')), { kind: 'missing' });
  assert.deepEqual(await hashFile(join(dir, 'link')), { kind: 'symlink' });
  assert.deepEqual(await hashFile(join(dir, 'dir')), { kind: 'other', what: 'a directory' });
  // Opened with O_NONBLOCK: a FIFO with no writer is reported, never waited on.
  assert.deepEqual(await hashFile(join(dir, 'fifo')), { kind: 'other', what: 'a FIFO' });
  assert.equal(hashPoolStarted(), false);
  const large = randomBytes(SMALL_FILE + 1);
  await writeFile(join(dir, 'large'), large);
  assert.deepEqual(await hashFile(join(dir, 'large')), { kind: 'file', sha256: sha(large), bytes: large.length });
  assert.equal(hashPoolStarted(), true);
  assert.deepEqual(await hashFile(join(dir, 'small')), await hashFileOffThread(join(dir, 'small')));
});

test('many files at once: every answer belongs to its own file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-hash-pool-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  warmHashPool();
  const want = new Map<string, FileHash>();
  for (let i = 0; i < 60; i++) {
    const file = join(dir, `f${i}`);
    // Sizes from empty to 9 MiB (more than one 4 MiB read), so answers come back out of step.
    const data = randomBytes(i % 7 === 0 ? 9 * 1024 * 1024 : (i * 7919) % 200_000);
    await writeFile(file, data);
    want.set(file, { kind: 'file', sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length });
    if (i % 10 === 3) {
      want.set(join(dir, `missing${i}`), { kind: 'missing' });
      await symlink(file, join(dir, `link${i}`));
      want.set(join(dir, `link${i}`), { kind: 'symlink' });
      await mkdir(join(dir, `dir${i}`));
      want.set(join(dir, `dir${i}`), { kind: 'other', what: 'a directory' });
    }
  }
  const files = [...want.keys()];
  const got = await Promise.all(files.map((f) => hashFileOffThread(f)));
  files.forEach((f, i) => assert.deepEqual(got[i], want.get(f), f));
  // And again, asked in the reverse order while the first answers of a new round arrive.
  const again = await Promise.all([...files].reverse().map((f) => hashFileOffThread(f)));
  [...files].reverse().forEach((f, i) => assert.deepEqual(again[i], want.get(f), f));
});

/**
 * Lists in messages are one line: a count and the first few names, all of them with --verbose (issue 28:
 * one line per cause). cache verify with many corrupted blobs, on a real cache made here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { Cache } from '../src/cache.js';
import { sha256Bytes } from '../src/verify/sha256.js';

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-one-line-'));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('cache verify with 7 corrupted blobs: one line naming 5 and "2 more", all 7 with --verbose', async () => {
  const dir = join(tmp, 'cache');
  const cache = new Cache(dir);
  const shas: string[] = [];
  for (let i = 0; i < 9; i++) {
    const data = randomBytes(100 + i);
    const sha = sha256Bytes(data);
    const file = join(tmp, `f${i}`);
    await writeFile(file, data);
    await cache.ingestFile(sha, file);
    shas.push(sha);
  }
  const corrupt = async () => {
    for (const sha of shas.slice(0, 7)) {
      await chmod(cache.blobPath(sha), 0o644);
      await writeFile(cache.blobPath(sha), 'not the bytes');
    }
  };
  await corrupt();
  const res = await runCli(['cache', 'verify', '--cache', dir]);
  assert.equal(res.code, 3, res.stderr);
  const line = res.stderr.split('\n').find((l) => l.includes('corrupted and removed'));
  assert.ok(line, res.stderr);
  assert.match(line, /^2 blobs verified, 7 corrupted and removed: ([0-9a-f]{64}, ){5}and 2 more$/);
  assert.equal(shas.slice(0, 7).filter((s) => line.includes(s)).length, 5);

  // again, corrupted again: --verbose names every one
  for (let i = 0; i < 7; i++) await cache.ingestFile(shas[i], join(tmp, `f${i}`));
  await corrupt();
  const verbose = await runCli(['cache', 'verify', '--cache', dir, '--verbose']);
  assert.equal(verbose.code, 3, verbose.stderr);
  for (const sha of shas.slice(0, 7)) assert.ok(verbose.stderr.split('\n').some((l) => l.startsWith('  removed:') && l.includes(sha)), sha);
});

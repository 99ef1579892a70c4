/** apk v3 (ADB) package info, read from packages the real apk 3 made; cut, garbage and lying files are errors, never a crash. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { isAdb, readAdbPackageInfo } from '../distros/alpine/adb-package.js';
import { makeSigningKey } from './helpers/apk-repo.js';
import { buildApk3Repo, type Apk3Repo } from './helpers/apk3-repo.js';

let tmp: string;
let repo: Apk3Repo;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-adb-'));
  repo = await buildApk3Repo(join(tmp, 'repo'), {
    arch: 'aarch64',
    packages: [
      { name: 'py3-foo', version: '1.2.3_rc1-r4', depends: ['python3'], files: { 'usr/lib/foo.py': 'x = 1\n'.repeat(5000) } },
      { name: 'foo-doc', version: '1.2.3_rc1-r4', arch: 'noarch' },
    ],
  }, makeSigningKey('adb-test.rsa.pub'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('name, version and arch of packages apk mkpkg made', () => {
  assert.deepEqual(readAdbPackageInfo(repo.packages[0].bytes), { name: 'py3-foo', version: '1.2.3_rc1-r4', arch: 'aarch64' });
  assert.deepEqual(readAdbPackageInfo(repo.packages[1].bytes), { name: 'foo-doc', version: '1.2.3_rc1-r4', arch: 'noarch' });
  assert.equal(isAdb(Buffer.from([0x1f, 0x8b, 8, 0])), false, 'a v2 package is gzip');
});

test('an index, a cut file, garbage and a lying object are errors saying what is wrong', async () => {
  const pkg = repo.packages[0].bytes;
  const index = await readFile(repo.index);
  assert.throws(() => readAdbPackageInfo(index), /not a package/);
  for (const n of [4, 8, 40, 120]) assert.throws(() => readAdbPackageInfo(pkg.subarray(0, n)), Error, `cut at ${n}`);
  assert.throws(() => readAdbPackageInfo(Buffer.concat([Buffer.from('ADBd'), Buffer.from('garbage garbage garbage')])), Error);
  assert.throws(() => readAdbPackageInfo(Buffer.from('ADBx1234')), /compression mark/);
  // uncompressed: ADB. pckg, an ADB block whose root object claims a million slots at an offset past the end
  const payload = Buffer.alloc(16);
  payload.writeUInt32LE(0xe0000008, 4);
  payload.writeUInt32LE(1_000_000, 8);
  const block = Buffer.alloc(4);
  block.writeUInt32LE(4 + payload.length, 0);
  const lying = Buffer.concat([Buffer.from('ADB.pckg', 'latin1'), block, payload]);
  assert.throws(() => readAdbPackageInfo(lying), /slots|outside/);
  assert.throws(() => readAdbPackageInfo(Buffer.concat([Buffer.from('ADBd'), deflateRawSync(lying)])), /slots|outside/);
});

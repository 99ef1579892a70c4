/** The `manual` header's pure parts: naming, formatting, restricting to a lockfile's packages; apk's world. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatManual, markName, parseManual, restrictManual } from '../src/manual-marks.js';
import { applyToWorld, applyWorldMarks, worldHeader, worldName } from '../distros/alpine/manual-marks.js';
import { debianAdapter } from '../distros/debian/index.js';

test('manual header: sorted, unique, :arch only for a foreign architecture, - for none', () => {
  assert.equal(markName({ name: 'libc6', arch: 'i386' }, 'amd64'), 'libc6:i386');
  assert.equal(markName({ name: 'tzdata', arch: 'all' }, 'amd64'), 'tzdata');
  assert.equal(markName({ name: 'hello', arch: 'amd64' }, 'amd64'), 'hello');
  assert.equal(formatManual(['b', 'a', 'b']), 'a b');
  assert.equal(formatManual([]), '-');
  assert.deepEqual(parseManual({ manual: '-' }), new Set());
  assert.deepEqual(parseManual({ manual: 'a  b' }), new Set(['a', 'b']));
  assert.equal(parseManual({}), undefined);
});

test('restrictManual keeps the names of the packages still in the lockfile (after --dedupe)', () => {
  const entries = [{ sha256: 'a'.repeat(64), path: 'pool/main/h/hello/hello_2.10-3_amd64.deb' }];
  const out = restrictManual({ manual: 'bash hello libc6:i386' }, entries, (p) => debianAdapter.inspect(p));
  assert.equal(out.manual, 'hello');
  assert.deepEqual(restrictManual({ distro: 'x' }, entries, () => undefined), { distro: 'x' });
});

test("apk world: names of world lines; install puts the manual packages in and takes the others out", async () => {
  assert.equal(worldName('busybox=1.36.1-r2'), 'busybox');
  assert.equal(worldName('py3-foo@testing'), 'py3-foo');
  assert.equal(worldName('!conflict'), undefined);
  assert.equal(applyToWorld('alpine-base\nhello=2.12-r0\nlibintl\n', ['hello', 'libintl', 'curl'], new Set(['hello', 'curl'])), 'alpine-base\ncurl\nhello=2.12-r0\n');
  // apk add of local files pins each by identity (name><Q1...); pinget's install leaves apk add's plain names
  assert.equal(applyToWorld('alpine-base\ncurl><Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nother><Q1BBBB\n', ['curl'], undefined), 'alpine-base\ncurl\nother><Q1BBBB\n');
  assert.equal(applyToWorld('curl><Q1A\nlibcurl><Q1B\n', ['curl', 'libcurl'], new Set(['curl'])), 'curl\n');
  const root = await mkdtemp(join(tmpdir(), 'pinget-world-'));
  try {
    await mkdir(join(root, 'etc/apk'), { recursive: true });
    await writeFile(join(root, 'etc/apk/world'), 'alpine-base\ncurl\n');
    assert.deepEqual(await worldHeader(root, ['alpine-base', 'curl', 'libcurl']), { manual: 'alpine-base curl' });
    assert.deepEqual(await worldHeader(root, ['curl']), {}, 'every package in the world: no header needed');
    const fresh = join(root, 'fresh');
    await applyWorldMarks(fresh, ['curl', 'libcurl'], { manual: 'curl' });
    assert.equal(await readFile(join(fresh, 'etc/apk/world'), 'utf8'), 'curl\n');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

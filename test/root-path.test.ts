/** Paths inside a root resolved as a chroot would (src/root-path.ts), on real symlinks. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot } from '../src/root-path.js';
import { readOsRelease } from '../src/distro/os-release.js';
import { isPingetError } from '../src/errors.js';
import { generateKeyPairSync } from 'node:crypto';
import { loadApkKeys } from '../distros/alpine/signature.js';

const root = await mkdtemp(join(tmpdir(), 'pinget-root-path-'));
after(() => rm(root, { recursive: true, force: true }));

test('absolute symlinks point into the root, .. stops at the root, loops are exit 2', async () => {
  await mkdir(join(root, 'usr/lib'), { recursive: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'usr/lib/os-release'), 'ID=pinget-test\n');
  await symlink('/usr/lib/os-release', join(root, 'etc/os-release'));
  await symlink('/usr/lib', join(root, 'lib'));
  await symlink('../../../../../../etc', join(root, 'usr/up'));
  await symlink('loop-b', join(root, 'loop-a'));
  await symlink('/loop-a', join(root, 'loop-b'));

  assert.equal(resolveInRoot(root, 'etc/os-release'), join(root, 'usr/lib/os-release'));
  assert.equal(resolveInRoot(root, '/lib/os-release'), join(root, 'usr/lib/os-release'));
  assert.equal(resolveInRoot(root, 'usr/up/os-release'), join(root, 'usr/lib/os-release'), '.. clamped at the root, then etc/os-release followed');
  assert.equal(resolveInRoot(root, '../../etc/passwd'), join(root, 'etc/passwd'));
  assert.equal(resolveInRoot(root, 'missing/../etc/x'), join(root, 'etc/x'));
  assert.throws(() => resolveInRoot(root, 'loop-a/x'), (e: Error) => isPingetError(e) && e.exitCode === 2 && /too many levels of symbolic links/.test(e.message));
  // the host's own /usr/lib/os-release (Debian here) is not what the root says
  assert.equal((await readOsRelease(root))?.ID, 'pinget-test');
});

test("apk keys that are links into /usr/share/apk/keys (as alpine-keys and wolfi-keys install them) are the root's", async () => {
  const r = join(root, 'apk-keys');
  await mkdir(join(r, 'usr/share/apk/keys/x86_64'), { recursive: true });
  await mkdir(join(r, 'etc/apk/keys'), { recursive: true });
  const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' });
  await writeFile(join(r, 'usr/share/apk/keys/x86_64/test.rsa.pub'), pem);
  await symlink('/usr/share/apk/keys/x86_64/test.rsa.pub', join(r, 'etc/apk/keys/test.rsa.pub'));
  assert.deepEqual([...(await loadApkKeys(r)).keys()], ['test.rsa.pub']);
});

/** Paths inside a root resolved as a chroot would (src/root-path.ts), on real symlinks. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot } from '../src/root-path.js';
import { readOsRelease } from '../src/distro/os-release.js';
import { isPingetError } from '../src/errors.js';

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

/**
 * What `pinget install` tells an unprivileged user is what the package managers really need: checked by
 * running pacman and rpm as nobody (setpriv) on a root nobody owns. pacman refuses (so pinget refuses first,
 * "run as root"); rpm installs into it (so pinget lets it, and its hint offers "--root DIR you own").
 * dpkg's case runs end to end in cli-strict.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/exec.js';
import { PingetError } from '../src/errors.js';
import { checkPackageDbWritable, installPrivilegeHint } from '../src/commands/preflight.js';
import { buildRpms } from './helpers/rpm-repo.js';

const NOBODY = 65534;
const canSwitch = process.getuid?.() === 0;
const asNobody = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'];
let tmp: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-privilege-'));
  await chmod(tmp, 0o755);
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function ownedRoot(name: string, db: string): Promise<string> {
  const root = join(tmp, name);
  await mkdir(join(root, db), { recursive: true });
  await run('chown', ['-R', `${NOBODY}:${NOBODY}`, root]);
  return root;
}

test('pacman refuses an unprivileged user even in a root they own; pinget says "run as root" before fetching', async (t) => {
  if (!canSwitch) return t.skip('needs root to switch to nobody');
  const root = await ownedRoot('arch', 'var/lib/pacman');
  const pacman = await run(asNobody[0], [...asNobody.slice(1), 'pacman', '--root', root, '--dbpath', join(root, 'var/lib/pacman'), '-U', '--noconfirm', join(tmp, 'none.pkg.tar.zst')], {
    env: { ...process.env, HOME: tmp },
  });
  assert.notEqual(pacman.code, 0);
  assert.match(pacman.stderr, /unless you are root/);
  await assert.rejects(checkPackageDbWritable('arch', root, NOBODY), (e: unknown) => {
    assert.ok(e instanceof PingetError && e.code === 'USAGE');
    assert.equal(e.message, `pacman installs packages only as root (you are uid ${NOBODY}): run as root`);
    return true;
  });
  await checkPackageDbWritable('arch', root, 0);
});

test('rpm installs into a root an unprivileged user owns, as the fedora hint says', async (t) => {
  if (!canSwitch) return t.skip('needs root to switch to nobody');
  const [rpm] = await buildRpms(join(tmp, 'build'), [{ name: 'pgt-owned', version: '1', release: '1', arch: 'noarch' }]);
  await run('chmod', ['-R', 'a+rX', join(tmp, 'build')]);
  const root = await ownedRoot('fedora', 'var/lib/rpm');
  const res = await run(asNobody[0], [...asNobody.slice(1), 'rpm', '--root', root, '--dbpath', '/var/lib/rpm', '-U', '--nodeps', '--nosignature', rpm], {
    env: { ...process.env, HOME: tmp },
  });
  assert.equal(res.code, 0, res.stderr);
  const q = await run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-q', 'pgt-owned']);
  assert.match(q.stdout, /^pgt-owned-1-1\.noarch/);
  // so the rpm family is not refused for not being root; its hint for an unwritable database names both ways
  await checkPackageDbWritable('fedora', root, NOBODY);
  assert.equal(installPrivilegeHint('fedora'), 'run as root, or with --root DIR you own');
  assert.equal(installPrivilegeHint('debian'), 'run as root');
});

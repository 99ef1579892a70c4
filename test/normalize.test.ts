/**
 * `install --normalize` leaves alone what is not the root's own (issue 15): read-only bind mounts inside the
 * root (a directory and a single file, as BuildKit and podman bind /etc/hosts and RUN --mount sources) are
 * neither clamped nor emptied, the command exits 0 and counts them, and a second run changes nothing.
 * The test runs as root; the mounts are made under a temp dir and unmounted in `finally`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, lstat, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAptRepo, makeAptRoot, type AptRepo, type AptRoot } from './helpers/apt-repo.js';
import { runCli } from './helpers/cli.js';
import { run } from '../src/exec.js';
import { mountPointsBelow, unescapeMountField } from '../src/normalize.js';

let repo: AptRepo;
let source: AptRoot;
let tmp: string;
const EPOCH = 1700000000;

before(async () => {
  repo = await buildAptRepo();
  source = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-app'] });
  tmp = await mkdtemp(join(tmpdir(), 'pinget-normalize-'));
});

after(async () => {
  await source?.close();
  await repo?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('mountinfo: mount points strictly below the root, octal escapes undone', () => {
  const info = [
    '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
    '30 22 8:1 /x /r/etc/hosts ro,relatime - ext4 /dev/sda1 rw',
    '31 22 0:5 / /r/with\\040space rw - tmpfs tmpfs rw',
    '32 22 0:6 / /rr rw - tmpfs tmpfs rw',
    '33 22 0:7 / /r rw - tmpfs tmpfs rw',
    '',
  ].join('\n');
  assert.deepEqual([...mountPointsBelow(info, '/r')].sort(), ['/r/etc/hosts', '/r/with space']);
  assert.deepEqual([...mountPointsBelow(info, '/')].sort(), ['/r', '/r/etc/hosts', '/r/with space', '/rr']);
  assert.equal(unescapeMountField('a\\011b\\134c'), 'a\tb\\c');
});

async function must(cmd: string, args: string[]): Promise<void> {
  const res = await run(cmd, args);
  assert.equal(res.code, 0, `${cmd} ${args.join(' ')}: ${res.stderr}`);
}

test('install --normalize into a root with read-only bind mounts: exit 0, mounts untouched, idempotent', async () => {
  const lockfile = join(tmp, 'SHA256SUMS');
  const gen = await runCli(['hash', 'generate', '--root', source.root, '-o', lockfile], { env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
  assert.equal(gen.code, 0, gen.stderr);

  const root = join(tmp, 'root');
  await mkdir(join(root, 'etc'), { recursive: true });
  await copyFile(join(source.root, 'etc/os-release'), join(root, 'etc/os-release'));
  // Outside the root: a tree and a file, newer than the epoch, bound read-only into it.
  const outsideDir = join(tmp, 'outside');
  await mkdir(join(outsideDir, 'sub'), { recursive: true });
  await writeFile(join(outsideDir, 'sub/data'), 'not the root\'s\n');
  const outsideFile = join(tmp, 'hosts');
  await writeFile(outsideFile, '127.0.0.1 localhost\n');
  const mountDir = join(root, 'usr/local/lib/pinget');
  const mountFile = join(root, 'etc/hosts');
  // Inside a volatile directory too: normalize must not try to empty a mount.
  const mountLogs = join(root, 'var/log/apt');
  await mkdir(mountDir, { recursive: true });
  await mkdir(mountLogs, { recursive: true });
  await writeFile(mountFile, '');
  const mounted: string[] = [];
  try {
    for (const [src, dst] of [[outsideDir, mountDir], [outsideFile, mountFile], [outsideDir, mountLogs]]) {
      await must('mount', ['--bind', src, dst]);
      mounted.push(dst);
      await must('mount', ['-o', 'remount,bind,ro', dst]);
    }
    const before = await Promise.all([join(outsideDir, 'sub/data'), join(outsideDir, 'sub'), outsideFile].map(async (p) => (await lstat(p)).mtimeMs));
    assert.ok(before.every((m) => m / 1000 > EPOCH));

    const args = ['install', lockfile, '--root', root, '--normalize', '--json', '--provider', `${repo.url}/{{.Name}}`, '--cache', join(tmp, 'cache')];
    const first = await runCli(args, { env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
    assert.equal(first.code, 0, first.stderr);
    const n1 = JSON.parse(first.stdout).normalized;
    assert.deepEqual(n1.untouched, ['etc/hosts', 'usr/local/lib/pinget', 'var/log/apt']);
    assert.ok(n1.clamped > 5, `clamped ${n1.clamped}`);
    const afterMtimes = await Promise.all([join(outsideDir, 'sub/data'), join(outsideDir, 'sub'), outsideFile].map(async (p) => (await lstat(p)).mtimeMs));
    assert.deepEqual(afterMtimes, before, 'the mounted files keep their mtimes');
    assert.ok((await lstat(join(outsideDir, 'sub/data'))).isFile(), 'the mounted volatile directory is not emptied');
    assert.equal(Math.floor((await lstat(join(root, 'usr/share/pinget-test/pinget-app/README'))).mtimeMs / 1000), EPOCH);

    const second = await runCli(args, { env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
    assert.equal(second.code, 0, second.stderr);
    const n2 = JSON.parse(second.stdout).normalized;
    assert.equal(n2.clamped, 0, 'a second run clamps nothing');
    assert.deepEqual(n2.removed, [], 'a second run removes nothing');
    assert.deepEqual(n2.untouched, n1.untouched);
  } finally {
    for (const m of mounted.reverse()) await run('umount', ['-l', m]);
  }
});

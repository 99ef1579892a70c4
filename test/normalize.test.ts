/**
 * `install --normalize` leaves alone what is not the root's own (issue 15): read-only bind mounts inside the
 * root (a directory and a single file, as BuildKit and podman bind /etc/hosts and RUN --mount sources) are
 * neither clamped nor emptied, the command exits 0 and counts them, and a second run changes nothing.
 * The test runs as root; the mounts are made under a temp dir and unmounted in `finally`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildAptRepo, makeAptRoot, type AptRepo, type AptRoot } from './helpers/apt-repo.js';
import { runCli } from './helpers/cli.js';
import { run } from '../src/exec.js';
import { mountPointsBelow, normalizeRoot, snapshotBeforeInstall, unescapeMountField } from '../src/normalize.js';
import type { Normalization } from '../src/distro/types.js';
import { createLogger } from '../src/ui/log.js';

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

/** Each path under dir as `path size:mtime-seconds`, and the whiteouts (character devices) among them. */
async function listTree(top: string): Promise<{ lines: string; whiteouts: string[] }> {
  const lines: string[] = [];
  const whiteouts: string[] = [];
  const walk = async (dir: string) => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      const st = await lstat(p);
      lines.push(`${relative(top, p)} ${st.size}:${Math.floor(st.mtimeMs / 1000)}`);
      if (e.isCharacterDevice()) whiteouts.push(relative(top, p));
      else if (e.isDirectory()) await walk(p);
    }
  };
  await walk(top);
  return { lines: lines.join('\n'), whiteouts };
}

test('--normalize on an overlay (an image build step): the install\'s own logs go, the base\'s are emptied in place, no whiteout', async (t) => {
  const haveOverlay = (await readFile('/proc/filesystems', 'utf8')).includes('\toverlay\n');
  if (!haveOverlay) return t.skip('no overlayfs in this kernel');
  const distro: Normalization = { volatile: ['var/log/dpkg.log', 'var/log/apt/*', 'var/lib/dpkg/status-old', 'var/cache/apt/pkgcache.bin', 'var/cache/apt/archives/*'] };
  const log = createLogger({ quiet: true });
  const headers = { snapshot: new Date(EPOCH * 1000).toISOString() };
  const results: Record<string, { whiteouts: string[]; merged: string }> = {};
  for (const withSnapshot of [true, false]) {
    const dir = await mkdtemp(join(tmp, 'overlay-'));
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((n) => join(dir, n));
    // The base image: a log with lines, a backup, a cache, an archive directory with one stale file.
    for (const d of ['var/log/apt', 'var/lib/dpkg', 'var/cache/apt/archives/partial']) await mkdir(join(lower, d), { recursive: true });
    await writeFile(join(lower, 'var/log/dpkg.log'), 'base install lines\n');
    await writeFile(join(lower, 'var/log/apt/history.log'), 'base history\n');
    await mkdir(join(lower, 'var/log/apt/old'));
    await writeFile(join(lower, 'var/log/apt/old/term.log'), 'old\n');
    await writeFile(join(lower, 'var/lib/dpkg/status-old'), 'Package: base\n');
    await writeFile(join(lower, 'var/cache/apt/pkgcache.bin'), 'cache of the base');
    await writeFile(join(lower, 'var/cache/apt/archives/base_1_all.deb'), 'a deb the base kept');
    await utimes(join(lower, 'var/lib/dpkg/status-old'), EPOCH - 10, EPOCH - 10);
    for (const d of [upper, work, merged]) await mkdir(d);
    await must('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
    try {
      const before = withSnapshot ? await snapshotBeforeInstall(merged, distro) : undefined;
      // The install: appends to the base's log, rewrites its cache, writes logs and an archive of its own.
      await appendFile(join(merged, 'var/log/dpkg.log'), 'install lines\n');
      await writeFile(join(merged, 'var/cache/apt/pkgcache.bin'), 'cache after the install');
      await writeFile(join(merged, 'var/log/apt/term.log'), 'new log\n');
      await mkdir(join(merged, 'var/log/apt/sub'));
      await writeFile(join(merged, 'var/log/apt/sub/x'), 'x');
      // in a directory the base had: one file appended to, one new
      await appendFile(join(merged, 'var/log/apt/old/term.log'), 'more\n');
      await writeFile(join(merged, 'var/log/apt/old/new.log'), 'new\n');
      await writeFile(join(merged, 'var/cache/apt/archives/new_1_all.deb'), 'fetched by the install');
      const n = await normalizeRoot(merged, distro, headers, log, before);
      if (withSnapshot) {
        assert.deepEqual(n.removed, ['var/log/apt/old/new.log', 'var/log/apt/sub', 'var/log/apt/term.log', 'var/cache/apt/archives/new_1_all.deb']);
        assert.deepEqual(n.emptied, ['var/log/dpkg.log', 'var/log/apt/old/term.log', 'var/cache/apt/pkgcache.bin']);
      }
      results[String(withSnapshot)] = { whiteouts: (await listTree(upper)).whiteouts, merged: (await listTree(merged)).lines };
    } finally {
      await run('umount', [merged]);
    }
  }
  assert.deepEqual(results.true.whiteouts, [], 'with the snapshot taken before the install: no whiteout');
  const m = results.true.merged;
  assert.match(m, /^var\/log\/dpkg\.log 0:/m, "the base's log is kept, emptied");
  assert.match(m, new RegExp(`^var/log/apt/history\\.log 13:\\d+$`, 'm'), "the base's untouched log is left as it was");
  assert.match(m, new RegExp(`^var/lib/dpkg/status-old 14:${EPOCH - 10}$`, 'm'), 'an untouched backup keeps its bytes and mtime');
  assert.match(m, /^var\/cache\/apt\/archives\/base_1_all\.deb 19:/m);
  assert.match(m, /^var\/log\/apt\/old\/term\.log 0:/m, 'a file of a base directory, appended to: emptied in place');
  assert.doesNotMatch(m, /new_1_all|^var\/log\/apt\/term\.log|var\/log\/apt\/sub|new\.log/m, "the install's own files are gone");
  // What the old rule (remove every volatile path) did, and why it is gone: whiteouts for the base's files.
  assert.ok(results.false.whiteouts.includes('var/log/dpkg.log'), `without a snapshot: ${results.false.whiteouts.join(', ')}`);
});

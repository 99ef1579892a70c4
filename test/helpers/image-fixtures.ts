/**
 * What the image build tests (image-build, docker-build) make on a minbase root (helpers/minbase.ts): the
 * lockfiles as a user makes them, `hash generate --root` of the base, then `apt-get install hello` in a copy of
 * it and `hash generate --root --dedupe base`; and the bundle in the build context.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from './cli.js';
import { run, type RunResult } from '../../src/exec.js';
import { parseLockfile, type Lockfile } from '../../src/lockfile.js';
import { ociArch } from '../../src/commands/dockerfile.js';

export async function must(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  assert.equal(res.code, 0, `${cmd} ${args.join(' ')} failed (${res.code}):\n${res.stderr.slice(-3000)}`);
  return res;
}

export async function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const res = await runCli(args, opts);
  assert.equal(res.code, 0, `pinget ${args.join(' ')}:\n${res.stderr}`);
  return res;
}

export interface HelloLockfiles {
  /** The lockfile's name in ctx: SHA256SUMS-<arch>. */
  lockName: string;
  lockfile: string;
  lock: Lockfile;
  /** SOURCE_DATE_EPOCH of the lockfile's snapshot header. */
  epoch: string;
  /** The copy of the base with hello installed by apt (its apt cache holds the .debs). */
  app: string;
}

/** base.SHA256SUMS and SHA256SUMS-<arch> (hello, deduped against the base) in ctx, made from the unpacked rootfs. */
export async function helloLockfiles(rootfs: string, ctx: string, app: string): Promise<HelloLockfiles> {
  const baseLock = join(ctx, 'base.SHA256SUMS');
  await cli(['hash', 'generate', '--root', rootfs, '-o', baseLock]);
  await must('cp', ['-a', rootfs, app]);
  await copyFile('/etc/resolv.conf', join(app, 'etc/resolv.conf'));
  await must('chroot', [app, 'apt-get', 'install', '-y', '-q', '--no-install-recommends', 'hello'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const lockName = `SHA256SUMS-${ociArch()}`;
  const lockfile = join(ctx, lockName);
  await cli(['hash', 'generate', '--root', app, '--dedupe', baseLock, '-o', lockfile]);
  const lock = parseLockfile(await readFile(lockfile, 'utf8'));
  assert.ok(lock.entries.some((e) => /\/hello_[^/]+\.deb$/.test(e.path)), 'hello is pinned');
  assert.equal(lock.headers.manual, 'hello');
  assert.ok(lock.headers.snapshot, 'the lockfile has a snapshot header');
  return { lockName, lockfile, lock, epoch: String(Math.floor(Date.parse(lock.headers.snapshot) / 1000)), app };
}

/** The single-file pinget beside the Dockerfile in the build context. */
export async function bundleInto(ctx: string): Promise<void> {
  await must('npm', ['run', '--silent', 'bundle'], { cwd: REPO_ROOT });
  await copyFile(join(REPO_ROOT, 'dist/pinget.mjs'), join(ctx, 'pinget.mjs'));
}

export interface PrivatePodman {
  /** podman's global options for this storage: --root, --runroot, --runtime=runc, --cgroup-manager=cgroupfs. */
  args: string[];
  podman: (args: string[], opts?: { cwd?: string }) => Promise<RunResult>;
  /** Removes every image of this storage, unmounts what it left mounted, and removes its directories. */
  close: () => Promise<void>;
}

/**
 * podman in a storage of its own under `dir` (made here), so a test removes exactly what it made; podman 4.3
 * runs only with --runtime=runc --cgroup-manager=cgroupfs here.
 */
export async function privatePodman(dir: string): Promise<PrivatePodman> {
  // podman refuses a runroot longer than 50 characters: a short one under the system's temp directory.
  const runroot = await mkdtemp(join(tmpdir(), 'pgt-run-'));
  const args = ['--root', join(dir, 'root'), '--runroot', runroot, '--runtime=runc', '--cgroup-manager=cgroupfs'];
  return {
    args,
    podman: (a, opts = {}) => must('podman', [...args, ...a], opts),
    close: async () => {
      await run('podman', [...args, 'rmi', '-a', '-f']).catch(() => undefined);
      const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${dir}/`) || m.startsWith(`${runroot}/`));
      for (const m of mounts.sort().reverse()) await run('umount', ['-l', m]);
      await rm(dir, { recursive: true, force: true });
      await rm(runroot, { recursive: true, force: true });
    },
  };
}

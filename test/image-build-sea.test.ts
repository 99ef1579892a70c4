/**
 * The Dockerfile `dockerfile generate --executable` writes, built for real with podman: the single executable
 * (`npm run sea`, test/helpers/sea.ts) in the build context and no Node image anywhere. The base is a minbase
 * root of the machine's release (test/helpers/minbase.ts) imported into a private podman storage and named by
 * digest; the hello lockfiles are made as a user makes them and their packages served on 127.0.0.1 for the
 * fetch stage (test/helpers/image-fixtures.ts). One build (the twice-built, one-image-id check of the bundle's
 * Dockerfile is test/image-build.test.ts and test/docker-build.test.ts): hello runs offline in the image and
 * nothing of pinget stays. podman 4.3 here: --runtime=runc --cgroup-manager=cgroupfs, the file generated with
 * --no-network-none and --no-cache-mount. Everything made is removed with the private storage. Skipped only when
 * podman is absent and CI is not set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { cli, helloLockfiles, must, privatePodman } from './helpers/image-fixtures.js';
import { hostCodename, minbaseTarball } from './helpers/minbase.js';
import { seaExecutable } from './helpers/sea.js';
import { run } from '../src/exec.js';
import { ociArch } from '../src/commands/dockerfile.js';

const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const havePodman = (await run('podman', ['--version']).catch(() => undefined))?.code === 0;
// runc here may not raise RLIMIT_NOFILE/NPROC to podman's defaults for `podman run`; builds are not affected.
const RUN_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

test(
  'dockerfile generate --executable: builds with podman from the base alone (no Node image); hello runs offline; nothing of pinget is left',
  { skip: !havePodman && !inCI ? 'podman is not installed (.ci/apt-packages/image.txt; under CI=true this fails)' : false, timeout: 10 * 60_000 },
  async (t) => {
    await mkdir(join(REPO_ROOT, 'tmp'), { recursive: true });
    const work = await mkdtemp(join(REPO_ROOT, 'tmp', 'image-build-sea-'));
    const storage = await privatePodman(join(work, 'podman'));
    const { podman } = storage;
    let server: TestServer | undefined;
    try {
      const rootfs = join(work, 'base');
      const ctx = join(work, 'ctx');
      for (const d of [rootfs, ctx]) await mkdir(d, { recursive: true });
      const [tarball, exe] = await Promise.all([minbaseTarball(await hostCodename()), seaExecutable()]);
      await must('tar', ['-C', rootfs, '-xf', tarball]);
      const { lockName, lockfile, lock, epoch, app } = await helloLockfiles(rootfs, ctx, join(work, 'app'));
      const mirror = join(work, 'mirror');
      await cli(['download', lockfile, '-o', mirror, '--cache', join(work, 'host-cache'), '--provider', `file://${app}/var/cache/apt/archives/{{.Basename}}`]);
      server = await serveDirectory(mirror);

      await must('sh', ['-c', `tar -C "$1" --exclude=./var/lib/apt/lists/* -c . | podman ${storage.args.join(' ')} import - localhost/pinget-sea-base:1`, 'sh', rootfs]);
      const digest = (await podman(['image', 'inspect', '--format', '{{.Digest}}', 'localhost/pinget-sea-base:1'])).stdout.trim();
      const baseRef = `localhost/pinget-sea-base@${digest}`;
      const exeName = `pinget-linux-${ociArch()}`;
      await copyFile(exe, join(ctx, exeName));

      const gen = ['dockerfile', 'generate', lockName, '--base', baseRef, '--executable', exeName, '--no-network-none', '--no-cache-mount', '--fetch-provider', `${server.url}/{{.Name}}`];
      const dockerfile = (await cli(gen, { cwd: ctx })).stdout;
      await writeFile(join(ctx, 'Dockerfile'), dockerfile);
      t.diagnostic(`Dockerfile:\n${dockerfile}`);
      assert.deepEqual(dockerfile.match(/^FROM .*$/gm), [`FROM ${baseRef} AS pinget-fetch`, `FROM ${baseRef}`], 'no Node image');
      assert.match(dockerfile, new RegExp(`^# {3}${exeName}: the single executable; \`npm run sea\``, 'm'));

      const image = 'localhost/pinget-sea-app:1';
      await podman(['build', '--no-cache', '--network=host', '--timestamp', epoch, '-t', image, ctx]);
      assert.equal(server.requests.length, lock.entries.length, 'the fetch stage fetched each pinned file once');
      const hello = await podman(['run', '--rm', ...RUN_LIMITS, '--network=none', image, 'hello']);
      assert.equal(hello.stdout.trim(), 'Hello, world!');
      const probe = await podman([
        'run', '--rm', ...RUN_LIMITS, '--network=none', image, 'sh', '-c',
        'for p in /pinget /var/cache/pinget /tmp/pinget-cache /usr/local/bin/node /usr/local/bin/pinget; do [ -e "$p" ] && echo "left: $p"; done; apt-mark showmanual hello; true',
      ]);
      assert.equal(probe.stdout.trim(), 'hello', `leftovers in the image:\n${probe.stdout}`);
    } finally {
      await server?.close();
      await storage.close();
      await rm(work, { recursive: true, force: true });
    }
  },
);

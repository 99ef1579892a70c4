/**
 * hash generate --image: a real Debian root (apt + dpkg, as debian-cli.test.ts builds it) made into an image
 * by podman (import, then save as an OCI layout and as a docker archive) gives the same lockfile as --root
 * on the tree itself; layers are applied with whiteouts and opaque directories; hostile layers (`..`,
 * absolute names, symlinks out of the root, hard links out) are refused or stay inside the temporary root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import { buildAptRepo, makeAptRoot, type AptRepo, type AptRoot } from './helpers/apt-repo.js';
import { makeLayout } from './helpers/oci-layout.js';
import { runCli } from './helpers/cli.js';
import { run } from '../src/exec.js';
import { PingetError } from '../src/errors.js';
import { withImageRoot } from '../src/image/index.js';
import { silentLogger } from '../src/ui/log.js';

const EPOCH = '1700000000';
let repo: AptRepo;
let source: AptRoot;
let tmp: string;
let reference: string;

async function must(cmd: string, args: string[]): Promise<string> {
  const res = await run(cmd, args);
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

/** podman with its own storage under tmp, so the test neither sees nor leaves images in the host's. */
const podman = (args: string[]) => must('podman', ['--root', join(tmp, 'storage'), '--runroot', join(tmp, 'run'), '--storage-driver', 'vfs', ...args]);

before(async () => {
  repo = await buildAptRepo();
  source = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-app'] });
  tmp = await mkdtemp(join(tmpdir(), 'pinget-image-test-'));
  const gen = await runCli(['hash', 'generate', '--root', source.root], { env: { SOURCE_DATE_EPOCH: EPOCH } });
  assert.equal(gen.code, 0, gen.stderr);
  reference = gen.stdout;
  assert.match(reference, /pinget-app_3\.1-2/);
});

after(async () => {
  if (tmp) {
    await podman(['rmi', '-a', '-f']).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
  await source?.close();
  await repo?.close();
});

test('--image on podman save (OCI layout and docker archive) gives the lockfile of --root on the tree', async () => {
  const rootfs = join(tmp, 'rootfs.tar');
  await must('tar', ['-C', source.root, '-cf', rootfs, '.']);
  await podman(['import', rootfs, 'localhost/pinget-image-test:1']);
  await podman(['save', '--format', 'oci-dir', '-o', join(tmp, 'oci'), 'localhost/pinget-image-test:1']);
  await podman(['save', '--format', 'docker-archive', '-o', join(tmp, 'docker.tar'), 'localhost/pinget-image-test:1']);
  const scratch = join(tmp, 'scratch');
  await mkdir(scratch);
  for (const image of [join(tmp, 'oci'), join(tmp, 'docker.tar')]) {
    const res = await runCli(['hash', 'generate', '--image', image], { env: { SOURCE_DATE_EPOCH: EPOCH, TMPDIR: scratch } });
    assert.equal(res.code, 0, `${image}: ${res.stderr}`);
    assert.equal(res.stdout, reference, image);
    assert.match(res.stderr, /applying 1 layer\(s\)/);
  }
  assert.deepEqual((await readdir(scratch)).filter((n) => n.startsWith('pinget-')), [], 'the temporary roots are removed');
});

interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  data?: string;
}

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.type === 'directory' ? 0o755 : 0o644 }, e.data ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const gz = (t: Buffer) => ({ blob: gzipSync(t), tar: t, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
const zst = (t: Buffer) => ({ blob: zstdCompressSync(t), tar: t, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' });
const plain = (t: Buffer) => ({ blob: t, tar: t, mediaType: 'application/vnd.oci.image.layer.v1.tar' });

test('layers in order: gzip then zstd then plain, whiteouts and an opaque directory; the tree pins as --root', async () => {
  const dir = join(tmp, 'layers');
  const base = await readFile(join(tmp, 'rootfs.tar')).catch(async () => {
    await must('tar', ['-C', source.root, '-cf', join(tmp, 'rootfs.tar'), '.']);
    return readFile(join(tmp, 'rootfs.tar'));
  });
  const extra = await tarOf([
    { name: 'etc/junk', data: 'gone in the next layer' },
    { name: 'opt/x/', type: 'directory' },
    { name: 'opt/x/lower', data: 'hidden by the opaque marker' },
    { name: 'opt/lib', type: 'symlink', linkname: '/opt/x' },
    { name: 'etc/replaced', data: 'first' },
  ]);
  const upper = await tarOf([
    { name: 'etc/.wh.junk' },
    { name: 'opt/x/upper', data: 'kept' },
    { name: 'opt/x/.wh..wh..opq' },
    { name: 'opt/lib/through-link', data: 'written where the link points, inside the root' },
    { name: 'etc/replaced', data: 'second' },
    { name: 'etc/replaced-link', type: 'link', linkname: 'etc/replaced' },
  ]);
  await makeLayout(dir, [gz(base), zst(extra), plain(upper)]);
  await withImageRoot(dir, silentLogger, async (root) => {
    assert.equal(existsSync(join(root, 'etc/junk')), false);
    assert.deepEqual((await readdir(join(root, 'opt/x'))).sort(), ['through-link', 'upper']);
    assert.equal(await readlink(join(root, 'opt/lib')), '/opt/x');
    assert.equal(await readFile(join(root, 'etc/replaced'), 'utf8'), 'second');
    assert.equal(await readFile(join(root, 'etc/replaced-link'), 'utf8'), 'second');
  });
  const res = await runCli(['hash', 'generate', '--image', dir], { env: { SOURCE_DATE_EPOCH: EPOCH } });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, reference);
});

test('a layer blob that does not match its digest: exit 3', async () => {
  const dir = join(tmp, 'corrupt');
  await makeLayout(dir, [plain(await tarOf([{ name: 'etc/x', data: 'x' }]))]);
  const manifest = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).manifests[0].digest.slice(7);
  const layer = JSON.parse(await readFile(join(dir, 'blobs/sha256', manifest), 'utf8')).layers[0].digest.slice(7);
  await writeFile(join(dir, 'blobs/sha256', layer), await tarOf([{ name: 'etc/x', data: 'y' }]));
  const res = await runCli(['hash', 'generate', '--image', dir]);
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /layer 1: blob is sha256:\w+, its manifest says sha256:/);
});

async function rejects(entries: Entry[], pattern: RegExp): Promise<string> {
  const dir = await mkdtemp(join(tmp, 'hostile-'));
  await makeLayout(dir, [plain(await tarOf(entries))]);
  await assert.rejects(
    withImageRoot(dir, silentLogger, async () => assert.fail('a hostile layer was applied')),
    (e: unknown) => e instanceof PingetError && e.code === 'BAD_INPUT' && pattern.test(e.message),
  );
  return dir;
}

test('hostile layers: "..", absolute names and hard links out are refused; symlinks out stay inside the root', async () => {
  const outside = await mkdtemp(join(tmpdir(), 'pinget-outside-'));
  try {
    const escape = await rejects([{ name: '../escape', data: 'x' }], /"\.\.\/escape" has a "\.\." part/);
    await rejects([{ name: 'a/../../escape', data: 'x' }], /has a "\.\." part/);
    await rejects([{ name: `${outside}/abs`, data: 'x' }], /has an absolute path/);
    await rejects([{ name: 'etc/passwd-link', type: 'link', linkname: '../../etc/passwd' }], /has a "\.\." part/);
    await rejects([{ name: 'etc/shadow-link', type: 'link', linkname: 'etc/nothing' }], /no such regular file in the image/);
    assert.equal(existsSync(join(tmp, 'escape')), false);
    assert.equal(existsSync(join(tmpdir(), 'escape')), false);

    const dir = join(tmp, 'links');
    await makeLayout(dir, [
      plain(
        await tarOf([
          { name: 'out', type: 'symlink', linkname: outside },
          { name: 'out/pwned', data: 'x' },
          { name: 'up', type: 'symlink', linkname: '../../../../..' },
          { name: 'up/pwned2', data: 'x' },
          { name: 'hl', type: 'link', linkname: 'out/pwned' },
        ]),
      ),
    ]);
    await withImageRoot(dir, silentLogger, async (root) => {
      assert.equal(await readFile(join(root, outside, 'pwned'), 'utf8'), 'x', 'through the symlink, inside the root');
      assert.equal(await readFile(join(root, 'pwned2'), 'utf8'), 'x', '".." stops at the root');
      assert.equal(await readFile(join(root, 'hl'), 'utf8'), 'x');
    });
    assert.deepEqual(await readdir(outside), [], 'nothing written outside');
    const cli = await runCli(['hash', 'generate', '--image', escape]);
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, /layer 1: entry "\.\.\/escape" has a "\.\." part; refusing the image/);
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

test('--image with --root, or an --image that is not there: usage errors (exit 2)', async () => {
  const both = await runCli(['hash', 'generate', '--image', join(tmp, 'oci'), '--root', tmp]);
  assert.equal(both.code, 2, both.stderr);
  assert.match(both.stderr, /--image and --root name two systems/);
  const none = await runCli(['hash', 'generate', '--image', join(tmp, 'no-such-image')]);
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /no-such-image: no such file or directory/);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, REPO_ROOT } from './helpers/cli.js';
import { defaultBase, defaultNodeImage, generateDockerfile, NODE_LTS } from '../src/dockerfile.js';
import { ociArch } from '../src/commands/dockerfile.js';
import { sha256File } from '../src/verify/sha256.js';

const LOCK = join('testdata', 'diff', 'debian-new.SHA256SUMS');
const BASE = `debian:bookworm@sha256:${'a'.repeat(64)}`;
const NODE = `node:${NODE_LTS}-bookworm-slim@sha256:${'b'.repeat(64)}`;
const PINNED = ['--base', BASE, '--node-image', NODE];
let tmp: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-dockerfile-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('dockerfile generate: pinned FROMs, fetch stage then an offline install, SOURCE_DATE_EPOCH and build commands from the snapshot', async () => {
  const a = await runCli(['dockerfile', 'generate', LOCK, ...PINNED]);
  const b = await runCli(['dockerfile', 'generate', LOCK, ...PINNED]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  const text = a.stdout;
  // 2026-11-20T00:00:00Z
  assert.match(text, /^ARG SOURCE_DATE_EPOCH=1795132800$/m);
  assert.match(text, /^# +Docker \(BuildKit\), containerd or classic image store: +docker buildx build --provenance=false --build-arg SOURCE_DATE_EPOCH=1795132800 --load -t IMAGE \.$/m);
  assert.match(text, /^# +podman\/buildah: +podman build --timestamp 1795132800 -t IMAGE \./m);
  // BuildKit refuses rewrite-timestamp with the containerd store's unpacking (moby/buildkit#4230): never printed.
  assert.doesNotMatch(text, /rewrite-timestamp/);
  assert.deepEqual(text.match(/^FROM .*$/gm), [`FROM ${NODE} AS pinget-fetch`, `FROM ${BASE}`]);
  assert.doesNotMatch(text, /^# syntax=/m, 'no floating frontend image');
  const [fetch, install] = text.split(/^FROM .*$/m).slice(1);
  assert.match(fetch, /^COPY testdata\/diff\/debian-new\.SHA256SUMS \/pinget\/debian-new\.SHA256SUMS$/m);
  assert.match(fetch, /^COPY pinget\.mjs \/pinget\/pinget\.mjs$/m);
  assert.match(fetch, /--mount=type=cache,target=\/var\/cache\/pinget,sharing=locked/);
  assert.match(fetch, /pinget\.mjs download \/pinget\/debian-new\.SHA256SUMS --cache \/var\/cache\/pinget -o \/pinget\/files$/m);
  assert.doesNotMatch(fetch, /--network=none/);
  assert.match(install, /^RUN --network=none /m);
  assert.match(install, /--mount=type=bind,from=pinget-fetch,source=\/pinget,target=\/pinget \\$/m);
  assert.match(install, /^ +\/pinget\/node \/pinget\/pinget\.mjs install \/pinget\/debian-new\.SHA256SUMS --normalize --cache \/tmp\/pinget-cache --provider 'file:\/\/\/pinget\/files\/\{\{\.Name\}\}'$/m);
  assert.match(install, /--mount=type=tmpfs,target=\/tmp/);
  assert.doesNotMatch(text, /apt-get update/, 'no apt lists are fetched into the image');

  const offline = await runCli(['dockerfile', 'generate', LOCK, ...PINNED, '--no-network-none', '--fetch-provider', 'http://127.0.0.1:1/{{.Name}}']);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stdout, /^RUN --mount=type=bind,from=pinget-fetch/m);
  assert.match(offline.stdout, /download \S+ --cache \/var\/cache\/pinget -o \/pinget\/files --provider 'http:\/\/127\.0\.0\.1:1\/\{\{\.Name\}\}'$/m);
});

test('a base or node image named by tag alone is refused (exit 2) unless --allow-tag, which warns', async () => {
  const noBase = await runCli(['dockerfile', 'generate', LOCK, '--node-image', NODE]);
  assert.equal(noBase.code, 2);
  assert.match(noBase.stderr, /no --base given \(the base image would be debian:bookworm\): a tag moves.*debian:bookworm@sha256:<digest>.*--allow-tag/);
  const tagBase = await runCli(['dockerfile', 'generate', LOCK, '--base', 'debian:bookworm', '--node-image', NODE]);
  assert.equal(tagBase.code, 2);
  assert.match(tagBase.stderr, /--base debian:bookworm is a tag/);
  const noNode = await runCli(['dockerfile', 'generate', LOCK, '--base', BASE]);
  assert.equal(noNode.code, 2);
  assert.match(noNode.stderr, new RegExp(`no --node-image given \\(the Node image would be node:${NODE_LTS}-bookworm-slim\\)`));
  assert.equal(noNode.stdout, '');
  const allowed = await runCli(['dockerfile', 'generate', LOCK, '--allow-tag']);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stdout, /^FROM debian:bookworm$/m);
  assert.match(allowed.stdout, new RegExp(`^FROM node:${NODE_LTS}-bookworm-slim AS pinget-fetch$`, 'm'));
  assert.equal(allowed.stderr.match(/warning: .* is named by tag alone/g)?.length, 2);
});

test('base and node images follow the distro header; no header and no --base is a usage error', async () => {
  assert.equal(defaultBase({ distro: 'ubuntu 24.04 (noble) amd64' }), 'ubuntu:noble');
  assert.equal(defaultBase({ distro: 'fedora 40 x86_64' }), 'fedora:40');
  assert.equal(defaultBase({ distro: 'alpine 3.20.3 x86_64' }), 'alpine:3.20.3');
  assert.equal(defaultBase({ distro: 'arch rolling x86_64' }), 'archlinux:base');
  assert.equal(defaultNodeImage({ distro: 'alpine 3.20.3 x86_64' }, undefined), `node:${NODE_LTS}-alpine`);
  assert.equal(defaultNodeImage({ distro: 'debian 13 (trixie) amd64' }, undefined), `node:${NODE_LTS}-trixie-slim`);
  assert.equal(defaultNodeImage({ distro: 'fedora 40 x86_64' }, undefined), `node:${NODE_LTS}-slim`);
  const alpine = generateDockerfile({ lockfile: 'S', headers: { distro: 'alpine 3.20.3 x86_64' }, bundle: 'pinget.mjs', cacheMount: false, allowTag: true });
  assert.match(alpine.text, new RegExp(`^FROM node:${NODE_LTS}-alpine AS pinget-fetch$`, 'm'));
  assert.match(alpine.text, /^ARG SOURCE_DATE_EPOCH$/m);
  assert.deepEqual(alpine.tags, ['alpine:3.20.3', `node:${NODE_LTS}-alpine`]);
  const none = await runCli(['dockerfile', 'generate', join(REPO_ROOT, 'testdata', 'lockfiles', 'no-headers.SHA256SUMS'), '--node-image', NODE]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no distro header to choose a base image from; pass --base IMAGE@sha256:/);
});

test('--base-lockfile checks the dedupe-base header: the digest of the base lockfile it was deduped against', async () => {
  const baseLock = join(tmp, 'base.SHA256SUMS');
  await writeFile(baseLock, '# pinget lockfile v1\n');
  const digest = `sha256:${await sha256File(baseLock)}`;
  const app = join(tmp, 'app.SHA256SUMS');
  const body = (await readFile(join(REPO_ROOT, LOCK), 'utf8')).replace('# pinget lockfile v1\n', '');
  await writeFile(app, `# pinget lockfile v1\n# dedupe-base: ${digest}\n${body}`);
  const ok = await runCli(['dockerfile', 'generate', app, ...PINNED, '--base-lockfile', baseLock], { cwd: tmp });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`deduped against the base lockfile ${digest}`));
  const other = join(tmp, 'other.SHA256SUMS');
  await writeFile(other, '# pinget lockfile v1\n# distro: debian 12 (bookworm) amd64\n');
  const bad = await runCli(['dockerfile', 'generate', app, ...PINNED, '--base-lockfile', other], { cwd: tmp });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /was deduped against sha256:[0-9a-f]{64}, not against .*other\.SHA256SUMS/);
  const noHeader = await runCli(['dockerfile', 'generate', LOCK, ...PINNED, '--base-lockfile', baseLock]);
  assert.equal(noHeader.code, 2);
  assert.match(noHeader.stderr, /no dedupe-base header/);
});

test("repro-get's form: dockerfile generate DIR BASEIMAGE [PACKAGES...] writes DIR/Dockerfile (and Dockerfile.generate-hash)", async () => {
  const dir = join(tmp, 'ctx');
  await mkdir(dir);
  const lockName = `SHA256SUMS-${ociArch()}`;
  await copyFile(join(REPO_ROOT, LOCK), join(dir, lockName));
  const res = await runCli(['dockerfile', 'generate', dir, BASE, '--node-image', NODE]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, '');
  const text = await readFile(join(dir, 'Dockerfile'), 'utf8');
  assert.match(text, new RegExp(`^FROM ${BASE.replace(/[.]/g, '\\.')}$`, 'm'));
  assert.match(text, new RegExp(`^COPY ${lockName} /pinget/${lockName}$`, 'm'));
  const withPkgs = await runCli(['dockerfile', 'generate', dir, BASE, 'hello', 'gcc', '--node-image', NODE]);
  assert.equal(withPkgs.code, 0, withPkgs.stderr);
  const hash = await readFile(join(dir, 'Dockerfile.generate-hash'), 'utf8');
  assert.match(hash, /apt-get install -y --no-install-recommends hello gcc;/);
  assert.match(hash, new RegExp(`hash generate --dedupe /pinget-out/base\\.${lockName} -o /pinget-out/${lockName}$`, 'm'));
  const twice = await runCli(['dockerfile', 'generate', dir, BASE, '--base', BASE, '--node-image', NODE]);
  assert.equal(twice.code, 2);
  const notDir = await runCli(['dockerfile', 'generate', LOCK, BASE, 'hello', '--node-image', NODE]);
  assert.equal(notDir.code, 2);
  assert.match(notDir.stderr, /PACKAGES need the repro-get form/);
});

test('every unusable image is named in one error (exit 2), not one per run; the header names how to make each file it copies', async () => {
  const none = await runCli(['dockerfile', 'generate', LOCK]);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^pinget: 2 images cannot be used as given:\n {2}no --base given \(the base image would be debian:bookworm\).*\n {2}no --node-image given \(the Node image would be node:\d+-bookworm-slim\)/);
  const pinned = await runCli(['dockerfile', 'generate', LOCK, ...PINNED]);
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.match(pinned.stdout, /^# Every FROM is pinned by digest\.$/m);
  assert.match(pinned.stdout, /^# {3}testdata\/diff\/debian-new\.SHA256SUMS: the lockfile; `pinget hash generate` or `pinget lock` makes it$/m);
  assert.match(pinned.stdout, /^# {3}pinget\.mjs: .*`npm run bundle` in a pinget clone makes it \(dist\/pinget\.mjs\)$/m);
  const own = await runCli(['dockerfile', 'generate', LOCK, ...PINNED, '--bundle', 'tools/pinget.mjs']);
  assert.match(own.stdout, /^# {3}tools\/pinget\.mjs: .*`npm run bundle`/m);
  assert.match(own.stdout, /^COPY tools\/pinget\.mjs \/pinget\/pinget\.mjs$/m);
});

test('--allow-tag: the header says which FROM is a tag and claims no pin', async () => {
  const res = await runCli(['dockerfile', 'generate', LOCK, '--allow-tag', '--node-image', NODE]);
  assert.equal(res.code, 0, res.stderr);
  assert.doesNotMatch(res.stdout, /pinned by digest/);
  assert.match(res.stdout, /^# NOT reproducible: debian:bookworm is named by tag alone \(--allow-tag\)/m);
  const both = await runCli(['dockerfile', 'generate', LOCK, '--allow-tag']);
  assert.match(both.stdout, new RegExp(`^# NOT reproducible: debian:bookworm and node:${NODE_LTS}-bookworm-slim are named by tag alone`, 'm'));
});

test('--executable: the single executable in both stages, no Node image; refused with Node options, outside the context or on a musl base', async () => {
  const res = await runCli(['dockerfile', 'generate', LOCK, '--base', BASE, '--executable', 'bin/pinget-linux-amd64']);
  assert.equal(res.code, 0, res.stderr);
  const text = res.stdout;
  assert.deepEqual(text.match(/^FROM .*$/gm), [`FROM ${BASE} AS pinget-fetch`, `FROM ${BASE}`]);
  assert.doesNotMatch(text, /node/i, 'nothing of Node in the Dockerfile');
  assert.match(text, /^# {3}bin\/pinget-linux-amd64: the single executable; `npm run sea` in a pinget clone makes it/m);
  assert.match(text, /^COPY bin\/pinget-linux-amd64 \/pinget\/pinget\nCOPY testdata\/diff\/debian-new\.SHA256SUMS /m);
  assert.match(text, /^ +\/pinget\/pinget download \/pinget\/debian-new\.SHA256SUMS --cache \/var\/cache\/pinget -o \/pinget\/files$/m);
  assert.match(text, /^ +\/pinget\/pinget install \/pinget\/debian-new\.SHA256SUMS --normalize /m);
  assert.match(text, /^# Every FROM is pinned by digest\.$/m);

  const withNode = await runCli(['dockerfile', 'generate', LOCK, ...PINNED, '--executable', 'pinget', '--bundle', 'p.mjs']);
  assert.equal(withNode.code, 2);
  assert.match(withNode.stderr, /^pinget: --executable runs without Node: drop --bundle and --node-image$/m);
  const outside = await runCli(['dockerfile', 'generate', LOCK, '--base', BASE, '--executable', '../pinget']);
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /--executable \.\.\/pinget is outside the build context/);
  const alpine = join(tmp, 'alpine.SHA256SUMS');
  await writeFile(alpine, (await readFile(join(REPO_ROOT, LOCK), 'utf8')).replace(/^# distro: .*$/m, '# distro: alpine 3.20.3 x86_64'));
  const musl = await runCli(['dockerfile', 'generate', alpine, '--allow-tag', '--executable', 'pinget'], { cwd: tmp });
  assert.equal(musl.code, 2);
  assert.match(musl.stderr, /--executable: alpine:3\.20\.3 is a musl \(Alpine\) base and the single executable needs glibc; use the bundle/);
  assert.equal(musl.stdout, '');
});

test("repro-get's form with --executable: Dockerfile.generate-hash binds the executable, no Node stage", async () => {
  const dir = join(tmp, 'ctx-exe');
  await mkdir(dir);
  await copyFile(join(REPO_ROOT, LOCK), join(dir, `SHA256SUMS-${ociArch()}`));
  const res = await runCli(['dockerfile', 'generate', dir, BASE, 'hello', '--executable', 'pinget-linux-amd64']);
  assert.equal(res.code, 0, res.stderr);
  const hash = await readFile(join(dir, 'Dockerfile.generate-hash'), 'utf8');
  assert.deepEqual(hash.match(/^FROM .*$/gm), [`FROM ${BASE} AS pinget-hash`, 'FROM scratch']);
  assert.match(hash, /^RUN --mount=type=bind,source=pinget-linux-amd64,target=\/pinget\/pinget \\$/m);
  assert.match(hash, /^ +\/pinget\/pinget hash generate -o \/pinget-out\/base\.SHA256SUMS-\w+; \\$/m);
  assert.match(hash, /^# {3}pinget-linux-amd64: the single executable; `npm run sea`/m);
  assert.doesNotMatch(hash, /node/i);
  const main = await readFile(join(dir, 'Dockerfile'), 'utf8');
  assert.match(main, /^COPY pinget-linux-amd64 \/pinget\/pinget$/m);
});

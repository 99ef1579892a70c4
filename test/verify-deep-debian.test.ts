/**
 * `hash verify --deep` on a root populated by real apt + dpkg: a changed file of an installed package is
 * exit 1 naming the file (dpkg --verify against info/*.md5sums), and a lockfile line whose hash names
 * another build of the installed version is caught against that .deb's data member when the cache holds it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAptRepo, makeAptRoot, type AptRepo, type AptRoot } from './helpers/apt-repo.js';
import { runCli } from './helpers/cli.js';
import { run } from '../src/exec.js';
import { sha256File } from '../src/verify/sha256.js';
import { parseDpkgVerify } from '../distros/debian/deep.js';

let repo: AptRepo;
let source: AptRoot;
let tmp: string;

before(async () => {
  repo = await buildAptRepo();
  source = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-app'] });
  tmp = await mkdtemp(join(tmpdir(), 'pinget-deep-deb-'));
});

after(async () => {
  await source?.close();
  await repo?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function copyRoot(name: string): Promise<string> {
  const dir = join(tmp, name);
  await cp(source.root, dir, { recursive: true });
  return dir;
}

async function cacheWith(name: string, files: string[]): Promise<string> {
  const cache = join(tmp, name);
  await mkdir(join(cache, 'blobs/sha256'), { recursive: true });
  for (const f of files) await copyFile(f, join(cache, 'blobs/sha256', await sha256File(f)));
  return cache;
}

test('dpkg --verify lines: attributes, missing, conffiles', () => {
  assert.deepEqual(parseDpkgVerify('??5??????   /usr/bin/x\nmissing     /usr/lib/y\n??5?????? c /etc/z.conf\nnoise\n'), [
    { attrs: '??5??????', conffile: false, path: '/usr/bin/x' },
    { attrs: 'missing', conffile: false, path: '/usr/lib/y' },
    { attrs: '??5??????', conffile: true, path: '/etc/z.conf' },
  ]);
});

test('hash verify --deep: unchanged root passes; a changed file of an installed package is exit 1 naming it', async () => {
  const root = await copyRoot('changed');
  const gen = await runCli(['hash', 'generate', '--root', root]);
  assert.equal(gen.code, 0, gen.stderr);
  const lockfile = join(tmp, 'SHA256SUMS-changed');
  await writeFile(lockfile, gen.stdout);
  const cache = await cacheWith('cache-empty', []);

  const ok = await runCli(['hash', 'verify', lockfile, '--root', root, '--deep', '--cache', cache]);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);

  await writeFile(join(root, 'usr/share/pinget-test/pinget-data/README'), 'tampered\n');
  // the version check alone sees nothing
  const shallow = await runCli(['hash', 'verify', lockfile, '--root', root, '--cache', cache]);
  assert.equal(shallow.code, 0, shallow.stderr + shallow.stdout);
  const deep = await runCli(['hash', 'verify', lockfile, '--root', root, '--deep', '--cache', cache]);
  assert.equal(deep.code, 1, deep.stderr + deep.stdout);
  assert.match(deep.stdout, /^file +pinget-data:all +\/usr\/share\/pinget-test\/pinget-data\/README: content differs from dpkg's md5sums/m);
  assert.match(deep.stderr, /\/usr\/share\/pinget-test\/pinget-data\/README/);
  const json = await runCli(['hash', 'verify', lockfile, '--root', root, '--deep', '--cache', cache, '--json']);
  assert.equal(json.code, 1);
  const doc = JSON.parse(json.stdout) as { ok: boolean; files: { package: string; path: string }[] };
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.files.map((f) => f.path), ['/usr/share/pinget-test/pinget-data/README']);
});

test('hash verify --deep: a lockfile hash naming another build of the installed version is caught with the cached .deb', async () => {
  const root = await copyRoot('otherbuild');
  // pinget-data 1.0-1 rebuilt with other contents: same name, version and arch, other bytes
  const tree = join(tmp, 'rebuild');
  await mkdir(join(tree, 'DEBIAN'), { recursive: true });
  await mkdir(join(tree, 'usr/share/pinget-test/pinget-data'), { recursive: true });
  await writeFile(join(tree, 'usr/share/pinget-test/pinget-data/README'), 'a different build\n');
  await writeFile(
    join(tree, 'DEBIAN/control'),
    'Package: pinget-data\nVersion: 1.0-1\nArchitecture: all\nMaintainer: pinget tests <tests@example.invalid>\nDescription: rebuilt\n',
  );
  const other = join(tmp, 'pinget-data_1.0-1_all.deb');
  const built = await run('dpkg-deb', ['--root-owner-group', '--build', tree, other]);
  assert.equal(built.code, 0, built.stderr);
  const data = repo.packages.find((p) => p.name === 'pinget-data')!;
  const lines = repo.packages
    .filter((p) => ['pinget-app', 'pinget-lib'].includes(p.name))
    .map((p) => `${p.sha256}  ${p.path}`)
    .concat(`${await sha256File(other)}  ${data.path}`);
  const lockfile = join(tmp, 'SHA256SUMS-otherbuild');
  await writeFile(lockfile, `# distro: debian 12 (bookworm)\n${lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1)).join('\n')}\n`);
  const cache = await cacheWith('cache-other', [other, ...repo.packages.map((p) => p.file)]);

  const shallow = await runCli(['hash', 'verify', lockfile, '--root', root, '--cache', cache]);
  assert.equal(shallow.code, 0, shallow.stderr + shallow.stdout);
  const deep = await runCli(['hash', 'verify', lockfile, '--root', root, '--deep', '--cache', cache]);
  assert.equal(deep.code, 1, deep.stderr + deep.stdout);
  assert.match(deep.stdout, /pinget-data:all +\/usr\/share\/pinget-test\/pinget-data\/README: content differs from the pinned package \(pool\/main\/p\/pinget-data\//);
  assert.doesNotMatch(deep.stdout, /pinget-app|pinget-lib/);
});

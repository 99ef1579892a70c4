/**
 * rpm roots with the real rpm: `hash verify --deep` reports a changed file of an installed package (rpm -V,
 * exit 1 naming it), and `hash verify` reports a package whose installed header is not the pinned file's
 * (SHA256HEADER), another build of the same NEVRA that only the cached pinned file can reveal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked } from '../src/exec.js';
import { sha256File } from '../src/verify/sha256.js';
import { parseRpmVerify, rpmDriftReason } from '../distros/fedora/deep.js';
import { buildRpms, rpmToolsEnv } from './helpers/rpm-repo.js';
import { runCli } from './helpers/cli.js';

let work: string;
let root: string;
let first: string;
let rebuilt: string;
const PATH = 'pinget-deep/1.0/1/noarch/pinget-deep-1.0-1.noarch.rpm';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinget-deep-rpm-'));
  [first] = await buildRpms(join(work, 'build1'), [{ name: 'pinget-deep', version: '1.0', release: '1', arch: 'noarch' }]);
  // the same NEVRA built again with another header
  [rebuilt] = await buildRpms(join(work, 'build2'), [{ name: 'pinget-deep', version: '1.0', release: '1', arch: 'noarch', requires: ['/bin/sh'] }]);
  const { env } = await rpmToolsEnv(join(work, 'tools'));
  root = join(work, 'root');
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc/os-release'), 'ID=fedora\nVERSION_ID=40\n');
  await runChecked('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '--initdb'], 'INTERNAL', { env });
  await runChecked('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-i', '--nosignature', '--nodeps', first], 'INTERNAL', { env });
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function lockfileFor(name: string, rpm: string): Promise<string> {
  const file = join(work, name);
  await writeFile(file, `# distro: fedora 40 noarch\n${await sha256File(rpm)}  ${PATH}\n`);
  return file;
}

async function cacheWith(name: string, rpm: string): Promise<string> {
  const cache = join(work, name);
  await mkdir(join(cache, 'blobs/sha256'), { recursive: true });
  await copyFile(rpm, join(cache, 'blobs/sha256', await sha256File(rpm)));
  return cache;
}

test('rpm -V lines: attributes, config files, mtime only', () => {
  const lines = parseRpmVerify('S.5....T.    /usr/share/x\n.......T.  c /etc/x.conf\nmissing     /usr/bin/y\n.......T.    /usr/lib/z\n');
  assert.deepEqual(lines.map((l) => [l.attrs, l.type, l.path]), [
    ['S.5....T.', '', '/usr/share/x'],
    ['.......T.', 'c', '/etc/x.conf'],
    ['missing', '', '/usr/bin/y'],
    ['.......T.', '', '/usr/lib/z'],
  ]);
  assert.deepEqual(lines.map(rpmDriftReason), ['size, digest differ from the rpm database (rpm -V S.5....T.)', undefined, 'missing (rpm -V)', undefined]);
});

test('hash verify: another build of the installed NEVRA in the cache is exit 1 (rebuilt); the installed build passes', async () => {
  const good = await runCli(['hash', 'verify', await lockfileFor('SHA256SUMS-good', first), '--root', root, '--cache', await cacheWith('cache-good', first)]);
  assert.equal(good.code, 0, good.stderr + good.stdout);
  const other = await runCli(['hash', 'verify', await lockfileFor('SHA256SUMS-other', rebuilt), '--root', root, '--cache', await cacheWith('cache-other', rebuilt)]);
  assert.equal(other.code, 1, other.stderr + other.stdout);
  assert.match(other.stdout, /^rebuilt +pinget-deep:noarch +1\.0-1 installed, but not the pinned build: the installed header's SHA256HEADER is [0-9a-f]{64}/m);
});

test('hash verify --deep: a changed file of an installed package is exit 1 naming it', async () => {
  const lockfile = await lockfileFor('SHA256SUMS-deep', first);
  const cache = await cacheWith('cache-deep', first);
  const ok = await runCli(['hash', 'verify', lockfile, '--root', root, '--deep', '--cache', cache]);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  await writeFile(join(root, 'usr/share/pinget-deep/data'), 'tampered\n');
  const bad = await runCli(['hash', 'verify', lockfile, '--root', root, '--deep', '--cache', cache]);
  assert.equal(bad.code, 1, bad.stderr + bad.stdout);
  assert.match(bad.stdout, /^file +pinget-deep-1\.0-1\.noarch +\/usr\/share\/pinget-deep\/data: size, digest differ from the rpm database/m);
});

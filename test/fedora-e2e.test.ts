/**
 * End to end with the real tools: rpms built with rpmbuild and signed, a createrepo_c repository with a
 * signed repomd.xml served on 127.0.0.1, a root populated by dnf --installroot, then the CLI's
 * `hash generate` on it and `install` into fresh roots.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { RpmMdProvider } from '../distros/fedora/mirror-provider.js';
import { runChecked } from '../src/exec.js';
import { silentLogger } from '../src/ui/log.js';
import { parseLockfile } from '../src/lockfile.js';
import { runCli } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { buildRpms, makeGpgKey, makeKojiTree, makeRepo, populateRoot, rpmToolsEnv, type GpgKey } from './helpers/rpm-repo.js';

let work: string;
let env: NodeJS.ProcessEnv;
let key: GpgKey;
let otherKey: GpgKey;
let repoServer: TestServer;
let kojiServer: TestServer;
let root1: string;
let lockfile: string;

const DB = ['--dbpath', '/var/lib/rpm'];

async function rpmQa(root: string): Promise<string[]> {
  const res = await runChecked('rpm', ['--root', root, ...DB, '-qa', '--qf', '%{NAME}-%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\\n'], 'INTERNAL', { env });
  return res.stdout.split('\n').filter((l) => l && !l.startsWith('gpg-pubkey-')).sort();
}

async function freshRoot(name: string, trusted: GpgKey | undefined): Promise<string> {
  const root = join(work, name);
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc', 'os-release'), 'ID=fedora\nVERSION_ID=40\n');
  if (trusted) await runChecked('rpmkeys', ['--root', root, ...DB, '--import', trusted.publicKey], 'INTERNAL', { env });
  return root;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinget-fedora-e2e-'));
  key = await makeGpgKey(join(work, 'key'), 'Pinget Test <pinget-test@example.invalid>');
  otherKey = await makeGpgKey(join(work, 'other-key'), 'Someone Else <other@example.invalid>');
  env = (await rpmToolsEnv(join(work, 'tools'))).env;
  const rpms = await buildRpms(
    join(work, 'build'),
    [
      { name: 'pinget-liba', version: '1.0', release: '1' },
      { name: 'pinget-libc', version: '0.5', release: '2.fc40', arch: 'noarch' },
      { name: 'pinget-app', version: '2.0', release: '3', arch: 'noarch', requires: ['pinget-liba >= 1.0', 'pinget-libc'] },
      { name: 'pinget-unused', version: '9', release: '1', arch: 'noarch' },
    ],
    key,
  );
  await makeRepo(join(work, 'repo'), rpms, key);
  await makeKojiTree(join(work, 'koji'), rpms, env);
  repoServer = await serveDirectory(join(work, 'repo'));
  kojiServer = await serveDirectory(join(work, 'koji'));
  root1 = join(work, 'root1');
  await populateRoot(work, root1, repoServer.url, key, ['pinget-app'], env);
  lockfile = join(work, 'SHA256SUMS');
});

after(async () => {
  await repoServer?.close();
  await kojiServer?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('fedora end to end', () => {
  test('hash generate --root pins what dnf installed, in Koji paths, from the signed repodata', async () => {
    const res = await runCli(['hash', 'generate', '--root', root1], { env: { SOURCE_DATE_EPOCH: '' } });
    assert.equal(res.code, 0, res.stderr);
    const lock = parseLockfile(res.stdout);
    const arch = (await rpmQa(root1)).find((l) => l.startsWith('pinget-liba-'))!.split('.').pop();
    assert.deepEqual(
      lock.entries.map((e) => e.path),
      [
        'pinget-app/2.0/3/noarch/pinget-app-2.0-3.noarch.rpm',
        `pinget-liba/1.0/1/${arch}/pinget-liba-1.0-1.${arch}.rpm`,
        'pinget-libc/0.5/2.fc40/noarch/pinget-libc-0.5-2.fc40.noarch.rpm',
      ],
    );
    for (const e of lock.entries) {
      const bytes = await readFile(join(work, 'koji', e.path));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), e.sha256, e.path);
    }
    assert.equal(lock.headers.distro, `fedora 40 ${arch}`);
    assert.match(lock.headers.snapshot ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const again = await runCli(['hash', 'generate', '--root', root1], { env: { SOURCE_DATE_EPOCH: '' } });
    assert.equal(again.stdout, res.stdout, 'generate is deterministic');
    await writeFile(lockfile, res.stdout);
  });

  test('install --root into a fresh root gives the same rpm database; a second install skips', async () => {
    assert.ok((await readFile(lockfile, 'utf8')).length > 0, 'needs the lockfile of the previous test');
    const root2 = await freshRoot('root2', key);
    const cache = join(work, 'cache2');
    const res = await runCli(['install', lockfile, '--root', root2, '--provider', `${kojiServer.url}/{{.Name}}`, '--cache', cache]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(await rpmQa(root2), await rpmQa(root1));
    assert.equal(await readFile(join(root2, 'usr/share/pinget-app/data'), 'utf8'), 'pinget-app-2.0\n');
    const before = kojiServer.requests.length;
    const again = await runCli(['install', lockfile, '--root', root2, '--provider', `${kojiServer.url}/{{.Name}}`, '--cache', cache]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(kojiServer.requests.length, before, 'served from the cache');
    assert.deepEqual(await rpmQa(root2), await rpmQa(root1));
  });

  test('the rpm-md mirror provider finds files by sha256 in the repo\'s own metadata', async () => {
    const lock = parseLockfile(await readFile(lockfile, 'utf8'));
    const provider = new RpmMdProvider(`rpm-md+${repoServer.url}/`, { log: silentLogger, timeoutMs: 10_000, retries: 0 });
    for (const e of lock.entries) {
      const body = await provider.open({ path: e.path, sha256: e.sha256, headers: {} }, new AbortController().signal);
      const hash = createHash('sha256');
      for await (const c of body.stream) hash.update(c as Buffer);
      assert.equal(hash.digest('hex'), e.sha256, e.path);
    }
    assert.ok(repoServer.requests.includes('repodata/repomd.xml'));
    assert.ok(repoServer.requests.some((r) => r.startsWith('Packages/pinget-app-2.0-3.noarch.rpm')));
  });

  test('install refuses rpms signed by a key the root does not trust (exit 3)', async () => {
    const root3 = await freshRoot('root3', otherKey);
    const res = await runCli(['install', lockfile, '--root', root3, '--provider', `${kojiServer.url}/{{.Name}}`, '--cache', join(work, 'cache3')]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /signature/);
    assert.deepEqual(await rpmQa(root3), []);
  });

  test('a tampered primary.xml in the dnf cache is an integrity failure (exit 3)', async () => {
    const root4 = join(work, 'root4');
    await cp(root1, root4, { recursive: true, verbatimSymlinks: true });
    const cacheDir = join(root4, 'var/cache/dnf');
    const repoDir = (await readdir(cacheDir)).find((n) => n.startsWith('pinget-test-'))!;
    const repodata = join(cacheDir, repoDir, 'repodata');
    const primary = (await readdir(repodata)).find((n) => n.endsWith('-primary.xml.gz'))!;
    const { gunzipSync } = await import('node:zlib');
    const xml = gunzipSync(await readFile(join(repodata, primary))).toString('utf8');
    const forged = xml.replace(/<checksum type="sha256" pkgid="YES">[0-9a-f]{64}/, `<checksum type="sha256" pkgid="YES">${'0'.repeat(64)}`);
    assert.notEqual(forged, xml);
    await writeFile(join(repodata, primary), gzipSync(forged));
    const res = await runCli(['hash', 'generate', '--root', root4]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /primary\.xml\.gz: checksum does not match/);
  });

  test('a repomd.xml that does not match its signature is an integrity failure (exit 3)', async () => {
    const root5 = join(work, 'root5');
    await cp(root1, root5, { recursive: true, verbatimSymlinks: true });
    const cacheDir = join(root5, 'var/cache/dnf');
    const repoDir = (await readdir(cacheDir)).find((n) => n.startsWith('pinget-test-'))!;
    const repomd = join(cacheDir, repoDir, 'repodata', 'repomd.xml');
    await writeFile(repomd, (await readFile(repomd, 'utf8')).replace('<revision>', '<revision>1'));
    const res = await runCli(['hash', 'generate', '--root', root5]);
    assert.equal(res.code, 3, res.stderr);
    const unsigned = await runCli(['hash', 'generate', '--root', root5, '--allow-unsigned']);
    assert.equal(unsigned.code, 0, unsigned.stderr);
  });

  test('without cached metadata, generate exits 2 naming the packages and dnf makecache', async () => {
    const root6 = join(work, 'root6');
    await cp(root1, root6, { recursive: true, verbatimSymlinks: true });
    await rm(join(root6, 'var/cache/dnf'), { recursive: true, force: true });
    const res = await runCli(['hash', 'generate', '--root', root6, '--offline']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /pinget-app-2\.0-3\.noarch/);
    assert.match(res.stderr, /dnf makecache/);
  });
});

/**
 * `pinget lock --distro arch:rolling --mirror URL`: an empty Arch system as the base, against a real signed
 * pacman mirror served on 127.0.0.1 (Arch's stock repositories core and extra, packages built and signed here,
 * databases made by repo-add and signed with the test's key). The oracle is pacman's own `-S` into an empty root
 * with the same repositories: lock names exactly what it installs, and `pinget install` of the lockfile into
 * another empty root gives the same installed set. The keys: the databases' signatures are required and checked
 * with `--keyring FILE`; a key that did not sign them is exit 3; no keyring, no mirror, a release are exit 2;
 * unsigned databases only with --allow-unsigned.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { runCli } from './helpers/cli.js';
import { assertRefused } from './helpers/refused.js';
import { buildPackage, makeKey, makeRoot, pacman, pkgFilename, queryInstalled, repoAdd, signDb, tempDir, type TestKey, type TestPackage } from './helpers/pacman-repo.js';
import { parseLockfile } from '../src/lockfile.js';
import { inspectArchPath } from '../distros/arch/paths.js';

const any = (name: string, version: string, more: Partial<TestPackage> = {}): TestPackage => ({ name, version, arch: 'any', builddate: 1_700_000_000, ...more });
// extra/app -> core/libfoo (x86_64 only) -> a virtual `libbar` that only core/barimpl provides.
const REPOS: Record<string, TestPackage[]> = {
  core: [
    { name: 'libfoo', version: '1.2-1', arch: 'x86_64', builddate: 1_700_000_000, depends: ['libbar'] },
    any('barimpl', '3.0-2', { provides: ['libbar=3'] }),
  ],
  extra: [any('app', '0.9-1', { depends: ['libfoo>=1'] }), any('standalone', '1.0-1')],
};

let work: string;
let key: TestKey;
let server: TestServer;
let unsigned: TestServer;
let keyFile: string;

const lock = (args: string[]) => runCli(['lock', '--cache', join(work, 'cache'), ...args], { env: { SOURCE_DATE_EPOCH: '' }, timeoutMs: 120_000 });

/** An empty root whose pacman.conf names core and extra on `url`, the key in its keyring. */
function emptyRoot(dir: string, url: string): string {
  makeRoot(dir, { repo: 'core', serverUrl: url, key, sigLevel: 'Required DatabaseRequired TrustAll' });
  const conf = join(dir, 'etc/pacman.conf');
  writeFileSync(conf, `${readFileSync(conf, 'utf8')}\n[extra]\nInclude = /etc/pacman.d/mirrorlist\n`);
  return dir;
}

before(async () => {
  work = tempDir('lock-arch-empty');
  key = makeKey(join(work, 'key'));
  keyFile = join(work, 'archive-keys.gpg');
  writeFileSync(keyFile, key.publicKey);
  for (const [repo, pkgs] of Object.entries(REPOS)) {
    const dir = join(work, 'www', repo, 'os', 'x86_64');
    mkdirSync(dir, { recursive: true });
    for (const p of pkgs) copyFileSync(buildPackage(p, join(work, 'pool'), key), join(dir, pkgFilename(p)));
    for (const p of pkgs) copyFileSync(join(work, 'pool', `${pkgFilename(p)}.sig`), join(dir, `${pkgFilename(p)}.sig`));
    repoAdd(dir, repo, pkgs.map((p) => join(dir, pkgFilename(p))));
    signDb(dir, repo, key);
  }
  server = await serveDirectory(join(work, 'www'));
  unsigned = await serveDirectory(join(work, 'www'), (_req, res, rel) => {
    if (!rel.endsWith('.db.sig')) return false;
    res.writeHead(404).end();
    return true;
  });
});

after(async () => {
  await server?.close();
  await unsigned?.close();
  if (work) {
    for (const home of [join(work, 'key', 'gnupg'), join(work, 'oracle', 'etc/pacman.d/gnupg'), join(work, 'fresh', 'etc/pacman.d/gnupg')]) {
      if (existsSync(home)) execFileSync('gpgconf', ['--homedir', home, '--kill', 'all'], { stdio: 'ignore' });
    }
    rmSync(work, { recursive: true, force: true });
  }
});

test('lock from an empty system names exactly what pacman -S installs into an empty root; the lockfile installs to the same set', async () => {
  const out = join(work, 'SHA256SUMS');
  const res = await lock(['app', '--distro', 'arch:rolling', '--mirror', server.url, '--keyring', keyFile, '-o', out]);
  assert.equal(res.code, 0, res.stderr);
  const lockfile = parseLockfile(readFileSync(out, 'utf8'), out);

  const oracle = emptyRoot(join(work, 'oracle'), server.url);
  await pacman(oracle, ['-Sy', 'app']);
  const installed = await queryInstalled(oracle);
  assert.deepEqual(installed, ['app 0.9-1', 'barimpl 3.0-2', 'libfoo 1.2-1'], 'the test repositories resolve as designed');
  const pkgs = lockfile.entries.filter((e) => !e.path.endsWith('.sig'));
  assert.deepEqual(pkgs.map((e) => inspectArchPath(e.path)!).map((r) => `${r.name} ${r.version}`).sort(), installed);
  assert.deepEqual(pkgs.map((e) => e.path.split('/')[0]).sort(), ['core', 'core', 'extra'], 'each package from its own repository');
  assert.equal(lockfile.entries.length, 6, 'every package with its .sig line');
  assert.equal(lockfile.headers.distro, 'arch rolling x86_64', 'the machine\'s architecture as pacman names it');
  assert.equal(lockfile.headers.manual, 'app');

  const fresh = emptyRoot(join(work, 'fresh'), server.url);
  const inst = await runCli(['install', out, '--root', fresh, '--cache', join(work, 'cache'), '--provider', `${server.url}/{{.Name}}`]);
  assert.equal(inst.code, 0, inst.stderr);
  assert.deepEqual(await queryInstalled(fresh), installed);
  assert.equal(await pacman(fresh, ['-Qdq']), await pacman(oracle, ['-Qdq']), 'the same install reasons');
});

test('the keys of an empty system: required, checked, and unsigned databases only with --allow-unsigned', async () => {
  const out = join(work, 'never-written');
  const empty = ['app', '--distro', 'arch:rolling', '-o', out];
  assertRefused(await lock([...empty, '--mirror', server.url]), 'no keyring', /no pacman keyring .*--keyring FILE.*--allow-unsigned/, out);
  assertRefused(await lock([...empty, '--keyring', keyFile]), 'no mirror', /needs --mirror URL/, out);
  assertRefused(await lock(['app', '--distro', 'arch:2024.01.01', '--mirror', server.url, '--keyring', keyFile, '-o', out]), 'a release', /Arch Linux has no releases/, out);
  assertRefused(await lock([...empty, '--mirror', server.url, '--keyring', join(work, 'no-such.gpg')]), 'missing keyring', /--keyring .*no-such\.gpg/, out);
  assertRefused(await lock(['no-such-package', '--distro', 'arch:rolling', '--mirror', server.url, '--keyring', keyFile, '-o', out]), 'unknown package', /no package no-such-package .*\[core\] \[extra\]/, out);

  // A key that did not sign the databases, and databases without signatures: exit 3, nothing written.
  const other = makeKey(join(work, 'other-key'), 'someone else <else@pinget.invalid>');
  writeFileSync(join(work, 'other.gpg'), other.publicKey);
  execFileSync('gpgconf', ['--homedir', other.home, '--kill', 'all'], { stdio: 'ignore' });
  for (const [what, args] of [
    ['wrong key', ['--mirror', server.url, '--keyring', join(work, 'other.gpg')]],
    ['unsigned', ['--mirror', unsigned.url, '--keyring', keyFile]],
  ] as const) {
    const res = await lock([...empty, ...args]);
    assert.equal(res.code, 3, `${what}: ${res.stderr}`);
    assert.equal(existsSync(out), false, what);
  }
  // Unsigned databases, knowingly: a warning, and the same answer.
  const ok = await lock(['app', '--distro', 'arch:rolling', '--mirror', `${unsigned.url}/$repo/os/$arch`, '--allow-unsigned', '-o', join(work, 'unsigned-ok')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(parseLockfile(readFileSync(join(work, 'unsigned-ok'), 'utf8'), 'x').entries.length, 6);
  assertRefused(await lock(['app', '--root', '/', '--keyring', keyFile, '-o', out]), '--keyring with a root', /--keyring goes with --distro/, out);
});

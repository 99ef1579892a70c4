/**
 * `pinget lock --distro fedora:40 --mirror URL --keyring FILE`: an empty Fedora system as the base, against two
 * real signed rpm-md repositories served on 127.0.0.1 (rpms built and signed here, createrepo_c, repomd.xml.asc;
 * one named with `$releasever/$basearch`) with a dependency chain, a weak dependency and a virtual provide. The
 * oracle is dnf's own install into an empty installroot with the same repositories (nothing of the host's dnf):
 * lock names exactly what it installs, Recommends on and off, and `pinget install` of the lockfile into another
 * empty root gives the same rpm set.
 * No --mirror, no --keyring, a bad keyring file, --sources, an architecture the repositories lack, an unknown package:
 * exit 2, nothing written; a repomd.xml signed by another key or not signed at all: exit 3 (unsigned only with
 * --allow-unsigned); a mirror that hangs: exit 4.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { inspectKojiPath } from '../distros/fedora/nevra.js';
import { runCli } from './helpers/cli.js';
import { assertRefused } from './helpers/refused.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { buildRpms, hostDnfOptions, makeGpgKey, makeKojiTree, makeRepo, rpmToolsEnv, type GpgKey } from './helpers/rpm-repo.js';

let work: string;
let env: NodeJS.ProcessEnv;
let key: GpgKey;
/** apps: pinget-app and its weak dependency; libs: the chain it requires, the virtual provide among them. */
let apps: TestServer;
let libs: TestServer;
/** libs' metadata, its repomd.xml signed by another key / not signed. */
let otherKey: TestServer;
let unsigned: TestServer;
let koji: TestServer;

const DB = ['--dbpath', '/var/lib/rpm'];
const lock = (args: string[]) => runCli(['lock', '--cache', join(work, 'cache'), ...args], { env: { SOURCE_DATE_EPOCH: '' }, timeoutMs: 180_000 });
/** libs is served under `$releasever/$basearch/`: the mirror URL names it with dnf's variables. */
const libsUrl = (l: TestServer) => (l === libs ? `${l.url}/$releasever/$basearch` : l.url);
const mirrors = (a: TestServer, l: TestServer) => ['--distro', 'fedora:40', '--mirror', a.url, '--mirror', libsUrl(l)];

async function rpmQa(root: string): Promise<string[]> {
  const res = await runChecked('rpm', ['--root', root, ...DB, '-qa', '--qf', '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\\n'], 'INTERNAL', { env });
  return res.stdout.split('\n').filter((l) => l && !l.startsWith('gpg-pubkey ')).sort();
}

/** dnf's own install into an empty installroot, from both repositories (signatures checked with the key). */
async function oracle(names: string[], weak: boolean): Promise<string[]> {
  const root = join(work, `oracle-${weak}`);
  await mkdir(root, { recursive: true });
  const repo = (id: string, url: string) => `[${id}]\nname=${id}\nbaseurl=${url}/\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://${key.publicKey}\n`;
  await mkdir(join(work, 'host-repos'), { recursive: true });
  await writeFile(join(work, 'host-repos', 'test.repo'), repo('apps', apps.url) + repo('libs', libsUrl(libs)));
  await runChecked('dnf', ['-y', '-q', `--installroot=${root}`, '--releasever=40', ...(await hostDnfOptions(work)), `--setopt=install_weak_deps=${weak ? 'True' : 'False'}`, 'install', ...names], 'INTERNAL', { env });
  return rpmQa(root);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinget-lock-fedora-empty-'));
  key = await makeGpgKey(join(work, 'key'), 'Pinget Test <pinget-test@example.invalid>');
  const other = await makeGpgKey(join(work, 'other'), 'Not The Archive <other@example.invalid>');
  env = (await rpmToolsEnv(join(work, 'tools'))).env;
  const rpms = await buildRpms(
    join(work, 'build'),
    [
      { name: 'pinget-liba', version: '1.0', release: '1', requires: ['pinget-libc'] },
      { name: 'pinget-libc', version: '0.5', release: '2.fc40', arch: 'noarch' },
      { name: 'pinget-virt', version: '3', release: '1', arch: 'noarch', provides: ['pinget-virtual = 3'] },
      { name: 'pinget-weak', version: '1', release: '1', arch: 'noarch' },
      { name: 'pinget-app', version: '2.0', release: '3', arch: 'noarch', requires: ['pinget-liba >= 1.0', 'pinget-virtual'], recommends: ['pinget-weak'] },
    ],
    key,
  );
  const isApp = (f: string) => /\/pinget-(app|weak)-/.test(f);
  await makeRepo(join(work, 'apps'), rpms.filter(isApp), key);
  await makeRepo(join(work, 'libs', '40', 'x86_64'), rpms.filter((f) => !isApp(f)), key);
  await makeRepo(join(work, 'libs-other'), rpms.filter((f) => !isApp(f)), other);
  await makeRepo(join(work, 'libs-unsigned'), rpms.filter((f) => !isApp(f)));
  await makeKojiTree(join(work, 'koji'), rpms, env);
  [apps, libs, otherKey, unsigned, koji] = await Promise.all(['apps', 'libs', 'libs-other', 'libs-unsigned', 'koji'].map((d) => serveDirectory(join(work, d))));
});

after(async () => {
  for (const s of [apps, libs, otherKey, unsigned, koji]) await s?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('lock from an empty system names exactly what dnf installs into an empty root (Recommends on and off); the lockfile installs to the same set; --update finds it unchanged', async () => {
  for (const weak of [true, false]) {
    const out = join(work, `SHA256SUMS-${weak}`);
    const res = await lock(['pinget-app', ...mirrors(apps, libs), '--keyring', key.publicKey, '-o', out, ...(weak ? [] : ['--no-install-recommends'])]);
    assert.equal(res.code, 0, res.stderr);
    const installed = await oracle(['pinget-app'], weak);
    assert.deepEqual(installed.filter((l) => !l.startsWith('pinget-weak ')), ['pinget-app 2.0-3 noarch', 'pinget-liba 1.0-1 x86_64', 'pinget-libc 0.5-2.fc40 noarch', 'pinget-virt 3-1 noarch'], 'the test repositories resolve as designed');
    assert.equal(installed.some((l) => l.startsWith('pinget-weak ')), weak, 'the weak dependency follows install_weak_deps');
    const l = parseLockfile(await readFile(out, 'utf8'), out);
    assert.deepEqual(l.entries.map((e) => inspectKojiPath(e.path)!).map((r) => `${r.name} ${r.version} ${r.arch}`).sort(), installed);
    assert.equal(l.headers.distro, 'fedora 40 x86_64', 'the release given and the machine\'s architecture as rpm names it');
    assert.equal(l.headers.manual, 'pinget-app');
    assert.ok(l.headers.snapshot, 'the newest timestamp of the signed repomd.xml files');
    assert.match(l.headers.lock, /--distro fedora:40/);

    const fresh = join(work, `fresh-${weak}`);
    await mkdir(join(fresh, 'etc'), { recursive: true });
    await writeFile(join(fresh, 'etc', 'os-release'), 'ID=fedora\nVERSION_ID=40\n');
    await runChecked('rpmkeys', ['--root', fresh, ...DB, '--import', key.publicKey], 'INTERNAL', { env });
    const inst = await runCli(['install', out, '--root', fresh, '--cache', join(work, 'cache'), '--provider', `${koji.url}/{{.Name}}`]);
    assert.equal(inst.code, 0, inst.stderr);
    assert.deepEqual(await rpmQa(fresh), installed);

    // The refresh workflow: --update re-resolves the lock header's request on the same mirrors; nothing moved.
    const upd = await lock(['--update', out, '--mirror', apps.url, '--mirror', libsUrl(libs), '--keyring', key.publicKey]);
    assert.equal(upd.code, 0, upd.stderr);
    assert.match(upd.stderr, /unchanged/);
  }
});

test('the RHEL family by name: --distro almalinux:9 resolves the same repositories as Fedora, with its own release in $releasever and the header; install takes it into an AlmaLinux root', async () => {
  const out = join(work, 'SHA256SUMS-alma');
  // libs is served under 40/: this mirror names the directory itself, and $basearch still comes from the architecture
  const res = await lock(['pinget-app', '--distro', 'almalinux:9', '--mirror', apps.url, '--mirror', `${libs.url}/40/$basearch`, '--keyring', key.publicKey, '-o', out]);
  assert.equal(res.code, 0, res.stderr);
  const l = parseLockfile(await readFile(out, 'utf8'), out);
  assert.equal(l.headers.distro, 'almalinux 9 x86_64');
  assert.match(l.headers.lock, /--distro almalinux:9/);
  // $releasever is the release named: 9, where this server has nothing
  const nine = await lock(['pinget-app', '--distro', 'almalinux:9', '--mirror', apps.url, '--mirror', libsUrl(libs), '--keyring', key.publicKey, '-o', join(work, 'SHA256SUMS-nine')]);
  assert.equal(nine.code, 4, nine.stderr);
  assert.match(nine.stderr, /\/9\/x86_64\/repodata\/repomd\.xml/);
  const fedora = parseLockfile(await readFile(join(work, 'SHA256SUMS-true'), 'utf8'), 'fedora');
  assert.deepEqual(l.entries, fedora.entries, 'the same repositories give the same transaction');
  const fresh = join(work, 'fresh-alma');
  await mkdir(join(fresh, 'etc'), { recursive: true });
  await writeFile(join(fresh, 'etc', 'os-release'), 'ID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n');
  await runChecked('rpmkeys', ['--root', fresh, ...DB, '--import', key.publicKey], 'INTERNAL', { env });
  const inst = await runCli(['install', out, '--root', fresh, '--cache', join(work, 'cache'), '--provider', `${koji.url}/{{.Name}}`]);
  assert.equal(inst.code, 0, inst.stderr);
  assert.deepEqual(await rpmQa(fresh), fedora.entries.map((e) => inspectKojiPath(e.path)!).map((r) => `${r.name} ${r.version} ${r.arch}`).sort());
});

test('refused: no --mirror, no key, a key file that is none, --sources, an architecture the repositories lack, an unknown package; exit 2, one line, nothing written', async () => {
  const out = join(work, 'never-written');
  const garbage = join(work, 'garbage.asc');
  await writeFile(garbage, 'not a key\n');
  const cases: [string, string[], RegExp][] = [
    ['no mirror', ['pinget-app', '--distro', 'fedora:40', '--keyring', key.publicKey], /--distro fedora:40 needs --mirror URL/],
    ['no key', ['pinget-app', ...mirrors(apps, libs)], /--distro fedora:40 has no keys .*--keyring FILE.*--allow-unsigned/],
    ['garbage key', ['pinget-app', ...mirrors(apps, libs), '--keyring', garbage], /--keyring .*garbage\.asc/],
    ['--sources', ['pinget-app', '--sources', ...mirrors(apps, libs), '--keyring', key.publicKey], /--sources: an empty Fedora base has no \[\*-source\] repositories/],
    ['unknown package', ['pinget-app', 'no-such-package', ...mirrors(apps, libs), '--keyring', key.publicKey], /no package no-such-package in the repositories/],
  ];
  for (const [what, args, reason] of cases) assertRefused(await lock([...args, '-o', out]), what, reason, out);
  // The unsigned copy of libs is flat (with $basearch in its URL aarch64 would be a 404, exit 4); --allow-unsigned warns, a second line.
  const arch = await lock(['pinget-app', ...mirrors(apps, unsigned), '--allow-unsigned', '--arch', 'aarch64', '-o', out]);
  assert.equal(arch.code, 2, arch.stderr);
  assert.match(arch.stderr, /^pinget: the repositories \(mirror1, mirror2\) do not serve aarch64: their packages are for noarch, x86_64$/m);
  await assert.rejects(readFile(out), 'nothing written');
});

test('a repomd.xml signed by another key, or not signed, is exit 3; unsigned resolves only with --allow-unsigned; a hanging mirror is exit 4', async () => {
  const out = join(work, 'SHA256SUMS-bad');
  for (const [srv, reason] of [[otherKey, /repomd\.xml: signed by unknown key/], [unsigned, /repomd\.xml\.asc: missing.*--allow-unsigned/]] as [TestServer, RegExp][]) {
    const res = await lock(['pinget-app', ...mirrors(apps, srv), '--keyring', key.publicKey, '-o', out]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, reason);
    assert.doesNotMatch(res.stderr, /\n\s+at /);
    await assert.rejects(readFile(out), 'nothing written');
  }
  const res = await lock(['pinget-app', ...mirrors(apps, unsigned), '--allow-unsigned', '-o', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(parseLockfile(await readFile(out, 'utf8'), out).headers.manual, 'pinget-app');

  // A mirror that never answers: exit 4 after --timeout, nothing written.
  const hang = await serveDirectory(join(work, 'apps'), () => new Promise<boolean>(() => {}));
  try {
    const hung = join(work, 'SHA256SUMS-hang');
    const h = await lock(['pinget-app', ...mirrors(hang, libs), '--keyring', key.publicKey, '--timeout', '2', '--retries', '0', '-o', hung]);
    assert.equal(h.code, 4, h.stderr);
    assert.doesNotMatch(h.stderr, /\n\s+at /);
    await assert.rejects(readFile(hung), 'nothing written');
  } finally {
    await hang.close();
  }
});

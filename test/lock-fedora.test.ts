/**
 * `pinget lock` for Fedora on a real signed rpm-md repository served on 127.0.0.1 (rpms built by rpmbuild and
 * signed, createrepo_c, a signed repomd.xml), with the host's dnf (its Python API, libdnf) as the resolver. The
 * oracle is `dnf install` into a copy of the base (Recommends on and off): lock names exactly what it adds, every
 * hash is the repository's file's, and `pinget install` of the lockfile into a fresh copy gives the same rpm set.
 * Errors: an unknown package, a conflict, an unsatisfiable dependency, an architecture the repository lacks, a bad
 * spec (exit 2, no file); no dnf (exit 4); a tampered repomd.xml or a lying primary.xml (exit 3); a hang (exit 4).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { inspectKojiPath } from '../distros/fedora/nevra.js';
import { runCli } from './helpers/cli.js';
import { assertRefused } from './helpers/refused.js';
import { treeDigest } from './helpers/tree-digest.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { buildRpms, hostDnfOptions, makeGpgKey, makeKojiTree, makeRepo, populateRoot, rpmToolsEnv, type GpgKey } from './helpers/rpm-repo.js';

let work: string;
let env: NodeJS.ProcessEnv;
let key: GpgKey;
let repo: TestServer;
let koji: TestServer;
let base: string;

const DB = ['--dbpath', '/var/lib/rpm'];
const lock = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCli(['lock', '--cache', join(work, 'cache'), ...args], { env: { SOURCE_DATE_EPOCH: '', ...extraEnv }, timeoutMs: 180_000 });
const sha = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');

async function rpmQa(root: string): Promise<string[]> {
  const res = await runChecked('rpm', ['--root', root, ...DB, '-qa', '--qf', '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\\n'], 'INTERNAL', { env });
  return res.stdout.split('\n').filter((l) => l && !l.startsWith('gpg-pubkey ')).sort();
}

/** dnf's own install of `names` into a copy of the base: what it added. */
async function oracle(name: string, names: string[], weak: boolean): Promise<{ root: string; added: string[] }> {
  const root = join(work, name);
  await cp(base, root, { recursive: true });
  const before = await rpmQa(root);
  await runChecked('dnf', ['-y', '-q', `--installroot=${root}`, '--releasever=40', ...(await hostDnfOptions(work)), `--setopt=install_weak_deps=${weak ? 'True' : 'False'}`, 'install', ...names], 'INTERNAL', { env });
  return { root, added: (await rpmQa(root)).filter((l) => !before.includes(l)) };
}

async function packagesOf(file: string): Promise<string[]> {
  const l = parseLockfile(await readFile(file, 'utf8'), file);
  return l.entries.map((e) => inspectKojiPath(e.path)!).map((r) => `${r.name} ${r.version} ${r.arch}`).sort();
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinget-lock-fedora-'));
  key = await makeGpgKey(join(work, 'key'), 'Pinget Test <pinget-test@example.invalid>');
  env = (await rpmToolsEnv(join(work, 'tools'))).env;
  const rpms = await buildRpms(
    join(work, 'build'),
    [
      { name: 'pinget-liba', version: '1.0', release: '1' },
      { name: 'pinget-libc', version: '0.5', release: '2.fc40', arch: 'noarch' },
      { name: 'pinget-virt', version: '3', release: '1', arch: 'noarch', provides: ['pinget-virtual = 3'] },
      { name: 'pinget-weak', version: '1', release: '1', arch: 'noarch' },
      { name: 'pinget-app', version: '2.0', release: '3', arch: 'noarch', requires: ['pinget-liba >= 1.0', 'pinget-libc', 'pinget-virtual'], recommends: ['pinget-weak'] },
      { name: 'pinget-rival', version: '1', release: '1', arch: 'noarch', conflicts: ['pinget-libc'] },
      { name: 'pinget-broken', version: '1', release: '1', arch: 'noarch', requires: ['nothing-provides-this'] },
    ],
    key,
  );
  await makeRepo(join(work, 'repo'), rpms, key);
  await makeKojiTree(join(work, 'koji'), rpms, env);
  repo = await serveDirectory(join(work, 'repo'));
  koji = await serveDirectory(join(work, 'koji'));
  base = join(work, 'base');
  // pinget-libc is already in the base.
  await populateRoot(work, base, repo.url, key, ['pinget-libc'], env);
});

after(async () => {
  await repo?.close();
  await koji?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('lock names exactly what dnf install adds (Recommends on and off); the hashes are the repository\'s; the lockfile installs to the same set', async () => {
  const digest = treeDigest(base);
  for (const weak of [true, false]) {
    const out = join(work, `SHA256SUMS-${weak ? 'weak' : 'noweak'}`);
    const res = await lock(['pinget-app', '--root', base, '-o', out, ...(weak ? [] : ['--no-install-recommends'])]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(treeDigest(base), digest, 'lock changed a byte of the base');
    const o = await oracle(`oracle-${weak}`, ['pinget-app'], weak);
    assert.deepEqual(await packagesOf(out), o.added);
    assert.equal(o.added.some((l) => l.startsWith('pinget-weak ')), weak, 'the weak dependency follows install_weak_deps');
    assert.ok(!o.added.some((l) => l.startsWith('pinget-libc ')), 'already in the base');
    const l = parseLockfile(await readFile(out, 'utf8'), out);
    const repoFiles = await readdir(join(work, 'repo', 'Packages'));
    for (const e of l.entries) {
      const file = e.path.split('/').pop()!;
      assert.ok(repoFiles.includes(file), e.path);
      assert.equal(e.sha256, await sha(join(work, 'repo', 'Packages', file)), e.path);
    }
    assert.equal(l.headers.manual, 'pinget-app');
    assert.match(l.headers.distro, /^fedora 40 x86_64$/);
    assert.ok(l.headers.snapshot, 'the newest timestamp of the signed repomd.xml');

    // install of the lockfile into a fresh copy of the base gives dnf's set.
    const fresh = join(work, `fresh-${weak}`);
    await cp(base, fresh, { recursive: true });
    const inst = await runCli(['install', out, '--root', fresh, '--cache', join(work, 'cache'), '--provider', `${koji.url}/{{.Name}}`]);
    assert.equal(inst.code, 0, inst.stderr);
    assert.deepEqual(await rpmQa(fresh), await rpmQa(o.root));
  }
});

test('bad requests: exit 2, one line naming the package or architecture, no file written', async () => {
  const out = join(work, 'never-written');
  const cases: [string[], RegExp][] = [
    [['no-such-package'], /no package no-such-package/],
    [['pinget-app', 'no-such-package'], /no-such-package/],
    [['pinget-rival'], /pinget-rival.*pinget-libc|pinget-libc.*pinget-rival|conflict/i],
    [['pinget-broken'], /nothing-provides-this/],
    [['pinget-app', '--arch', 'aarch64'], /aarch64/],
    [['--bad', 'x'], /./],
    [['a b'], /not a dnf package spec/],
    [['pinget-app', '--snapshot', '2026-01-01'], /--snapshot: Fedora and the RHEL family have no dated snapshot archive .*dated compose/],
  ];
  for (const [args, reason] of cases) {
    assertRefused(await lock([...args, '--root', base, '-o', out]), args.join(' '), reason, out);
  }
  // An empty base (test/lock-fedora-empty.test.ts): --snapshot is refused for what it is there too.
  const empty = ['pinget-app', '--distro', 'fedora:40', '--mirror', repo.url, '-o', out];
  assertRefused(await lock([...empty, '--snapshot', '2026-01-01']), 'empty --snapshot', /--snapshot: Fedora .*no dated snapshot archive/, out);
});

test('no dnf on the host: exit 4 naming the package to install', async () => {
  const res = await lock(['pinget-app', '--root', base], { PATH: '/nonexistent' });
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /dnf is not installed: install dnf/);
});

test('a tampered repomd.xml and a lying primary.xml are exit 3; a hanging server is exit 4', async () => {
  const repomd = join(work, 'repo', 'repodata', 'repomd.xml');
  const genuine = await readFile(repomd, 'utf8');
  const tampered = await serveDirectory(join(work, 'repo'), (_req, res, rel) => {
    if (rel !== 'repodata/repomd.xml') return false;
    res.writeHead(200).end(genuine.replace(/<revision>\d+/, '<revision>1'));
    return true;
  });
  const liar = await serveDirectory(join(work, 'repo'), (_req, res, rel) => {
    if (!/primary\.xml/.test(rel)) return false;
    res.writeHead(200).end('<metadata/>');
    return true;
  });
  const hang = await serveDirectory(join(work, 'repo'), () => new Promise<boolean>(() => {}));
  try {
    for (const [i, [srv, code]] of ([[tampered, 3], [liar, 3], [hang, 4]] as [TestServer, number][]).entries()) {
      const root = join(work, `hostile-${i}`);
      await cp(base, root, { recursive: true });
      const repoFile = join(root, 'etc/yum.repos.d/test.repo');
      await writeFile(repoFile, (await readFile(repoFile, 'utf8')).replace(repo.url, srv.url));
      const res = await runCli(['lock', 'pinget-app', '--root', root, '--timeout', '2', '--retries', '0', '--cache', join(work, `cache-h${i}`)]);
      assert.equal(res.code, code, `case ${i}: ${res.stderr}`);
      assert.doesNotMatch(res.stderr, /\n\s+at /);
    }
  } finally {
    for (const s of [tampered, liar, hang]) await s.close();
  }
});

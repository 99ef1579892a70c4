/**
 * `pinget lock` on a real signed apt repository served on 127.0.0.1 (test/helpers/apt-repo.ts) with the host's
 * apt as the resolver: the lockfile equals what a real `apt-get install` adds to the same base; the base is not
 * changed; every error is its exit code and one line with no file written (an unknown package, an impossible
 * version, a conflict, an architecture the repository does not serve, no apt, a tampered or lying or hanging
 * server); `--snapshot` against a stand-in archive with two dates; `--update` exit 0 then 1; Ctrl-C leaves no
 * scratch directory.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAptRepo, hostArch, makeAptRoot, type AptRepo, type AptRoot } from './helpers/apt-repo.js';
import { buildDeb, reindex, must } from './helpers/deb-fixtures.js';
import { REPO_ROOT, runCli } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { parseLockfile } from '../src/lockfile.js';
import { parseDpkgStatus } from '../distros/debian/dpkg-status.js';
import { inspectDebPath } from '../distros/debian/pool-path.js';

let repo: AptRepo;
let base: AptRoot;
let work: string;
let arch: string;

before(async () => {
  repo = await buildAptRepo();
  base = await makeAptRoot(repo.url, repo.keyFile);
  work = await mkdtemp(join(tmpdir(), 'pinget-lock-test-'));
  arch = await hostArch();
});

after(async () => {
  await base?.close();
  await repo?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const lock = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['lock', '--cache', join(work, 'cache'), ...args], { env: { SOURCE_DATE_EPOCH: '', ...env }, timeoutMs: 120_000 });

/** A cheap fingerprint of a tree: every path with its type, size, mode and mtime, and the bytes of regular files. */
async function treeDigest(dir: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (d: string): Promise<void> => {
    for (const n of (await readdir(d)).sort()) {
      const p = join(d, n);
      const st = await stat(p);
      h.update(`${p.slice(dir.length)} ${st.mode} ${st.size} ${st.mtimeMs}\n`);
      if (st.isDirectory()) await walk(p);
      else if (st.isFile()) h.update(await readFile(p));
    }
  };
  await walk(dir);
  return h.digest('hex');
}

/** A .deb with these control fields at its pool path in the live repository, which is then re-indexed and re-signed. */
async function addDeb(fields: Record<string, string>): Promise<void> {
  const tree = await mkdtemp(join(work, 'deb-'));
  await mkdir(join(tree, 'DEBIAN'));
  const control = { Maintainer: 't <t@example.invalid>', Description: 'test', ...fields };
  await writeFile(join(tree, 'DEBIAN/control'), Object.entries(control).map(([k, v]) => `${k}: ${v}\n`).join(''));
  const name = fields.Package;
  const dir = join(repo.dir, 'pool/main', name[0], name);
  await mkdir(dir, { recursive: true });
  await must('dpkg-deb', ['--root-owner-group', '--build', tree, join(dir, `${name}_${fields.Version}_${fields.Architecture}.deb`)]);
  await reindex(repo, repo.dir, arch);
}

const dpkgSet = async (root: string) =>
  parseDpkgStatus(await readFile(join(root, 'var/lib/dpkg/status'), 'utf8'))
    .map((p) => `${p.name} ${p.version} ${p.arch}`)
    .sort();

test('lock resolves as apt-get install does on the same base; the base is not touched', async () => {
  const baseBefore = await treeDigest(base.root);
  const out = join(work, 'SHA256SUMS-{arch}');
  const res = await lock(['pinget-extra', '--root', base.root, '-o', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(await treeDigest(base.root), baseBefore, 'lock changed a byte of the base');
  const file = out.replace('{arch}', arch);
  const lockfile = parseLockfile(await readFile(file, 'utf8'), file);
  const json = await lock(['pinget-extra', '--root', base.root, '--json']);
  const packages = (JSON.parse(json.stdout) as { files: { packages: { name: string; version: string; arch: string }[] }[] }).files[0].packages;
  const got = packages.map((r) => `${r.name} ${r.version} ${r.arch}`).sort();
  assert.deepEqual(lockfile.entries.map((e) => inspectDebPath(e.path)!.name).sort(), packages.map((p) => p.name).sort());

  // The oracle: real apt-get install into a root of the same base, then dpkg's view of it.
  const oracle = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-extra'] });
  try {
    assert.deepEqual(got, await dpkgSet(oracle.root));
  } finally {
    await oracle.close();
  }
  // Every hash is the repository's own file's.
  for (const e of lockfile.entries) assert.equal(e.sha256, repo.packages.find((p) => p.path === e.path)?.sha256, e.path);
  assert.equal(lockfile.headers.manual, 'pinget-extra');
  assert.equal(lockfile.headers.lock, 'pinget-extra');
  assert.match(lockfile.headers.distro, new RegExp(`^debian 12 \\(bookworm\\) ${arch}$`));
  assert.ok(lockfile.headers.snapshot, 'the snapshot header comes from the signed Release date');
});

test('a package the base has is not locked again; --dedupe writes the dedupe-base header', async () => {
  const withApp = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-app'] });
  try {
    const baseLock = join(work, 'base.SHA256SUMS');
    assert.equal((await runCli(['hash', 'generate', '--root', withApp.root, '-o', baseLock, '--cache', join(work, 'cache')])).code, 0);
    const out = join(work, 'app.SHA256SUMS');
    const res = await lock(['pinget-extra', '--root', withApp.root, '--dedupe', baseLock, '-o', out]);
    assert.equal(res.code, 0, res.stderr);
    const l = parseLockfile(await readFile(out, 'utf8'), out);
    assert.deepEqual(l.entries.map((e) => inspectDebPath(e.path)!.name), ['pinget-extra']);
    assert.match(l.headers['dedupe-base'], /^sha256:[0-9a-f]{64}$/);
  } finally {
    await withApp.close();
  }
});

test("the base's own apt settings that change the choice are honoured, its links read inside it", async () => {
  await addDeb({ Package: 'pinget-rec', Version: '1.0', Architecture: arch, Recommends: 'pinget-data' });
  const names = async (root: string) => {
    const res = await lock(['pinget-rec', '--root', root, '--json']);
    assert.equal(res.code, 0, res.stderr);
    return (JSON.parse(res.stdout) as { files: { packages: { name: string }[] }[] }).files[0].packages.map((p) => p.name).sort();
  };
  assert.deepEqual(await names(base.root), ['pinget-data', 'pinget-rec']);
  // apt.conf.d in the base turns Recommends off: apt-get install in that base would not take them.
  const norec = join(work, 'base-norec');
  await cp(base.root, norec, { recursive: true });
  await mkdir(join(norec, 'etc/apt/apt.conf.d'), { recursive: true });
  await writeFile(join(norec, 'etc/apt/apt.conf.d/99norec'), 'APT::Install-Recommends "false";\n');
  assert.deepEqual(await names(norec), ['pinget-rec']);
  // An absolute link is the base's own path, not the host's.
  const linked = join(work, 'base-linked');
  await cp(base.root, linked, { recursive: true });
  await mkdir(join(linked, 'etc/apt/apt.conf.d'), { recursive: true });
  await writeFile(join(linked, 'pinget-norec.conf'), 'APT::Install-Recommends "false";\n');
  await symlink('/pinget-norec.conf', join(linked, 'etc/apt/apt.conf.d/99norec'));
  assert.deepEqual(await names(linked), ['pinget-rec']);
});

test('bad requests: exit 2, one line naming the package and apt\'s reason, no file written', async () => {
  // A rival that conflicts with pinget-app, added to the live repository.
  await addDeb({ Package: 'pinget-rival', Version: '1.0', Architecture: arch, Conflicts: 'pinget-app' });

  const out = join(work, 'never-written');
  const cases: [string[], RegExp][] = [
    [['no-such-package'], /no-such-package/],
    [['pinget-app=9.9-9'], /9\.9-9.*pinget-app|pinget-app.*9\.9-9/],
    [['pinget-app', 'pinget-rival'], /pinget-(app|rival)/],
    [['pinget-app', '--arch', 's390x'], /s390x/],
    [['Bad_Name!'], /not a Debian package name/],
  ];
  for (const [args, names] of cases) {
    const res = await lock([...args, '--root', base.root, '-o', out]);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    const lines = res.stderr.trim().split('\n').filter((l) => !l.startsWith('  '));
    assert.equal(lines.length, 1, `${args.join(' ')}: one line, got:\n${res.stderr}`);
    assert.match(lines[0], names);
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    await assert.rejects(stat(out), `${args.join(' ')} wrote ${out}`);
  }
});

test('no apt on the host: exit 4 naming the package to install', async () => {
  const res = await lock(['pinget-app', '--root', base.root], { PATH: '/nonexistent' });
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /apt-(get|config) is not installed: install the apt package/);
});

test('a tampered InRelease is exit 3; an index with other bytes is exit 3; a hanging server is exit 4', async () => {
  const inRelease = join(repo.dir, 'dists/stable/InRelease');
  const genuine = await readFile(inRelease, 'utf8');
  try {
    await writeFile(inRelease, genuine.replace(/^Date: .*$/m, 'Date: Thu, 01 Jan 2099 00:00:00 UTC'));
    const res = await lock(['pinget-app', '--root', base.root, '--verbose']);
    assert.equal(res.code, 3, res.stderr);
    await writeFile(inRelease, 'garbage\n');
    const garbage = await lock(['pinget-app', '--root', base.root, '--verbose']);
    assert.equal(garbage.code, 3, garbage.stderr);
  } finally {
    await writeFile(inRelease, genuine);
  }

  // A liar: serves other bytes for the Packages index the signed release names.
  const liar = await serveDirectory(repo.dir, (_req, res, rel) => {
    if (!/binary-[^/]+\/Packages/.test(rel)) return false;
    res.writeHead(200).end('Package: pinget-app\nVersion: 9\n\n');
    return true;
  });
  const hang = await serveDirectory(repo.dir, () => new Promise<boolean>(() => {}));
  try {
    for (const [server, code] of [[liar, 3], [hang, 4]] as [TestServer, number][]) {
      const root = join(work, `base-${code}`);
      await cp(base.root, root, { recursive: true });
      const sources = join(root, 'etc/apt/sources.list.d/test.sources');
      await writeFile(sources, (await readFile(sources, 'utf8')).replace(repo.url, server.url));
      const res = await runCli(['lock', 'pinget-app', '--root', root, '--timeout', '2', '--retries', '0', '--cache', join(work, `cache-${code}`)]);
      assert.equal(res.code, code, res.stderr);
      assert.doesNotMatch(res.stderr, /\n\s+at /);
    }
  } finally {
    await liar.close();
    await hang.close();
  }
});

test('--snapshot resolves against the archive as it was that day (a stand-in with two dates)', async () => {
  // Two imports of the repository: 2026-11-01 with pinget-data 1.0-1, 2026-11-20 with 1.0-2.
  const archive = join(work, 'archive');
  const first = join(archive, 'archive/debian/20261101T000000Z');
  const second = join(archive, 'archive/debian/20261120T000000Z');
  await cp(repo.dir, first, { recursive: true });
  // The second import: the live repository with pinget-data 1.0-2, signed by the repository's key; then put back.
  const data = join(repo.dir, 'pool/main/p/pinget-data');
  await cp(data, join(work, 'data-kept'), { recursive: true });
  await rm(data, { recursive: true });
  await buildDeb(repo.dir, 'pinget-data', '1.0-2', 'all', 'the next one');
  await reindex(repo, repo.dir, arch);
  await cp(repo.dir, second, { recursive: true });
  await rm(data, { recursive: true });
  await cp(join(work, 'data-kept'), data, { recursive: true });
  await reindex(repo, repo.dir, arch);
  // The snapshot service answers a moment with the nearest import at or before it.
  const server = await serveDirectory(archive, (req, res, rel) => {
    const m = /^archive\/debian\/(\d{8}T\d{6}Z)\/(.*)$/.exec(rel);
    if (!m || m[1] === '20261101T000000Z' || m[1] === '20261120T000000Z') return false;
    const at = m[1] >= '20261120T000000Z' ? '20261120T000000Z' : m[1] >= '20261101T000000Z' ? '20261101T000000Z' : undefined;
    if (!at) res.writeHead(404).end();
    else res.writeHead(302, { location: `/archive/debian/${at}/${m[2]}` }).end();
    return true;
  });
  try {
    const versions: Record<string, string> = {};
    for (const day of ['2026-11-10', '2026-11-25']) {
      const out = join(work, `snap-${day}`);
      const res = await lock(['pinget-data', '--root', base.root, '--snapshot', day, '--archive-url', `debian-snapshot=${server.url}`, '-o', out]);
      assert.equal(res.code, 0, res.stderr);
      const l = parseLockfile(await readFile(out, 'utf8'), out);
      assert.equal(l.headers.snapshot, `${day}T00:00:00Z`);
      assert.equal(l.entries.length, 1);
      versions[day] = inspectDebPath(l.entries[0].path)!.version;
    }
    assert.deepEqual(versions, { '2026-11-10': '1.0-1', '2026-11-25': '1.0-2' });
    // Before the first import: the archive has nothing, exit 4.
    const res = await lock(['pinget-data', '--root', base.root, '--snapshot', '2020-01-01', '--archive-url', `debian-snapshot=${server.url}`]);
    assert.equal(res.code, 4, res.stderr);
  } finally {
    await server.close();
  }
});

test('--update: exit 0 and the file untouched when nothing moved; exit 1, the file rewritten and the move listed when it did', async () => {
  const file = join(work, 'SHA256SUMS-update');
  assert.equal((await lock(['pinget-extra', '--root', base.root, '-o', file])).code, 0);
  const before = await readFile(file, 'utf8');
  const same = await lock(['--update', file, '--root', base.root]);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(await readFile(file, 'utf8'), before);

  const extra = repo.packages.find((p) => p.name === 'pinget-extra')!;
  await rm(extra.file);
  await addDeb({ Package: 'pinget-extra', Version: '0.6-1', Architecture: arch, Depends: 'pinget-app' });
  const moved = await lock(['--update', file, '--root', base.root, '--json']);
  assert.equal(moved.code, 1, moved.stderr);
  const doc = JSON.parse(moved.stdout) as { changed: boolean; diff: { changes: { kind: string; name: string; oldVersion?: string; newVersion?: string }[] } };
  assert.equal(doc.changed, true);
  assert.deepEqual(doc.diff.changes.map((c) => [c.kind, c.name, c.oldVersion, c.newVersion]), [['upgraded', 'pinget-extra', '0.5-1', '0.6-1']]);
  assert.match(await readFile(file, 'utf8'), /pinget-extra_0\.6-1_/);
  assert.equal((await lock(['--update', file, '--root', base.root])).code, 0);
});

test('outputs: {arch} and a directory name one file per architecture; several architectures need one of them', async () => {
  const dir = join(work, 'outdir');
  await mkdir(dir);
  assert.equal((await lock(['pinget-app', '--root', base.root, '-o', dir])).code, 0);
  await stat(join(dir, `SHA256SUMS-${arch}`));
  const res = await lock(['pinget-app', '--root', base.root, '--arch', `${arch},arm64`, '-o', join(work, 'one-file')]);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /\{arch\}/);
  assert.equal((await lock([])).code, 2);
});

test('Ctrl-C while an index is fetched: exit 130 and no scratch directory left', async () => {
  let seen: () => void;
  const asked = new Promise<void>((r) => (seen = r));
  const hang = await serveDirectory(repo.dir, () => {
    seen();
    return new Promise<boolean>(() => {});
  });
  const root = join(work, 'base-int');
  await cp(base.root, root, { recursive: true });
  const sources = join(root, 'etc/apt/sources.list.d/test.sources');
  await writeFile(sources, (await readFile(sources, 'utf8')).replace(repo.url, hang.url));
  try {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'src/cli.ts'), 'lock', 'pinget-app', '--root', root, '--cache', join(work, 'cache')], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await asked;
    const scratch = (await readdir(tmpdir())).filter((n) => n.startsWith(`pinget-lock-${child.pid}-`));
    assert.equal(scratch.length, 1, 'the scratch directory exists while lock runs');
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.deepEqual((await readdir(tmpdir())).filter((n) => n.startsWith(`pinget-lock-${child.pid}-`)), []);
  } finally {
    await hang.close();
  }
});

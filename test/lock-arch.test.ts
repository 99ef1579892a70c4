/**
 * `pinget lock` for Arch Linux on a real signed pacman repository served on 127.0.0.1 (packages built and signed
 * here, databases made by repo-add and signed with the test's key, for x86_64 and aarch64), with the host's pacman
 * as the resolver. The oracle is pacman's own `-S` into a copy of the base: lock names exactly what it adds, and
 * `pinget install` of the lockfile into a fresh copy gives the same installed set and install reasons. Errors:
 * an unknown package, an unsatisfiable dependency, a conflict, an architecture the repository lacks, a bad name
 * (exit 2, no file); no pacman (exit 4); a tampered, unsigned or garbage database (exit 3); a hanging server (exit 4).
 * `--snapshot` against a stand-in Arch Linux Archive with two days; `--update` exit 0 then 1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { runCli } from './helpers/cli.js';
import { assertRefused } from './helpers/refused.js';
import { treeDigest } from './helpers/tree-digest.js';
import { buildPackage, makeKey, makeRoot, pacman, pkgFilename, queryInstalled, repoAdd, signDb, tempDir, type TestKey, type TestPackage } from './helpers/pacman-repo.js';
import { parseLockfile } from '../src/lockfile.js';
import { inspectArchPath } from '../distros/arch/paths.js';

const REPO = 'pingettest';
const SIGLEVEL = 'Required DatabaseRequired TrustAll';
const any = (name: string, version: string, more: Partial<TestPackage> = {}): TestPackage => ({ name, version, arch: 'any', builddate: 1_700_000_000, ...more });
const both = (name: string, version: string, more: Partial<TestPackage> = {}): TestPackage[] =>
  ['x86_64', 'aarch64'].map((arch) => ({ name, version, arch, builddate: 1_700_100_000, content: `${name} ${version} ${arch}\n`, ...more }));

// alpha -> beta -> a virtual `libthing` that only `provider` provides; gamma is in the base; rival conflicts with it.
const PACKAGES: TestPackage[] = [
  any('alpha', '1.0-1', { depends: ['beta>=2'] }),
  ...both('beta', '2:0.5-3', { depends: ['libthing'] }),
  ...both('provider', '1.2-1', { provides: ['libthing=1.2'] }),
  any('gamma', '1.0-1'),
  any('rival', '1.0-1', { conflicts: ['gamma'] }),
  any('broken', '1.0-1', { depends: ['nothing-provides-this'] }),
];

let work: string;
let key: TestKey;
let server: TestServer;
let base: string;
const files = new Map<string, string>();

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const copyRoot = (from: string, to: string) => cpSync(from, to, { recursive: true, filter: (src) => !lstatSync(src).isSocket() });
const lock = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['lock', '--cache', join(work, 'cache'), ...args], { env: { SOURCE_DATE_EPOCH: '', ...env }, timeoutMs: 120_000 });

/** `<www>/<repo>/os/<arch>/` for each architecture, the db signed. */
function publish(www: string, packages: TestPackage[]): void {
  for (const arch of ['x86_64', 'aarch64']) {
    const dir = join(www, REPO, 'os', arch);
    mkdirSync(dir, { recursive: true });
    const mine = packages.filter((p) => p.arch === arch || p.arch === 'any');
    for (const p of mine) {
      copyFileSync(files.get(pkgFilename(p))!, join(dir, pkgFilename(p)));
      copyFileSync(`${files.get(pkgFilename(p))!}.sig`, join(dir, `${pkgFilename(p)}.sig`));
    }
    repoAdd(dir, REPO, mine.map((p) => join(dir, pkgFilename(p))));
    signDb(dir, REPO, key);
  }
}

function build(p: TestPackage): void {
  files.set(pkgFilename(p), buildPackage(p, join(work, 'pool'), key));
}

function stopAgents(): void {
  const homes = [join(work, 'key', 'gnupg'), ...readdirSync(work).map((d) => join(work, d, 'etc/pacman.d/gnupg'))];
  for (const home of homes.filter((h) => existsSync(h))) {
    try {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'all'], { stdio: 'ignore' });
    } catch {
      // no agent there
    }
  }
}

before(async () => {
  work = tempDir('lock-arch');
  key = makeKey(join(work, 'key'));
  for (const p of PACKAGES) build(p);
  publish(join(work, 'www'), PACKAGES);
  server = await serveDirectory(join(work, 'www'));
  base = join(work, 'base');
  makeRoot(base, { repo: REPO, serverUrl: server.url, key, sigLevel: SIGLEVEL });
  await pacman(base, ['-Sy', 'gamma']);
});

after(async () => {
  await server?.close();
  if (work) {
    stopAgents();
    rmSync(work, { recursive: true, force: true });
  }
});

const added = (before: string[], after: string[]) => after.filter((l) => !before.includes(l));

test('lock names exactly what pacman -S adds to the base; the lockfile installs to the same set; the base is untouched', async () => {
  const digest = treeDigest(base);
  const out = join(work, 'SHA256SUMS-{arch}');
  const res = await lock(['alpha', 'gamma', '--root', base, '-o', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(treeDigest(base), digest, 'lock changed a byte of the base');
  const file = out.replace('{arch}', 'x86_64');
  const lockfile = parseLockfile(readFileSync(file, 'utf8'), file);

  // The oracle: pacman's own install of the same names into a copy of the base.
  const oracle = join(work, 'oracle');
  copyRoot(base, oracle);
  const before = await queryInstalled(oracle);
  await pacman(oracle, ['-S', '--needed', 'alpha', 'gamma']);
  const pacmanAdded = added(before, await queryInstalled(oracle));
  assert.deepEqual(pacmanAdded, ['alpha 1.0-1', 'beta 2:0.5-3', 'provider 1.2-1'], 'the test repository resolves as designed');
  const pkgs = lockfile.entries.filter((e) => !e.path.endsWith('.sig')).map((e) => inspectArchPath(e.path)!);
  assert.deepEqual(pkgs.map((r) => `${r.name} ${r.version}`).sort(), pacmanAdded);

  // Every line is the repository's own file, and every package has its signature's line.
  for (const e of lockfile.entries) {
    assert.match(e.path, new RegExp(`^${REPO}/os/x86_64/`));
    assert.equal(e.sha256, sha(files.get(e.path.split('/').pop()!.replace(/\.sig$/, ''))! + (e.path.endsWith('.sig') ? '.sig' : '')), e.path);
  }
  assert.equal(lockfile.entries.length, 6);
  assert.equal(lockfile.headers.distro, 'arch rolling x86_64');
  assert.equal(lockfile.headers.manual, 'alpha', 'gamma is in the base: not locked, so not marked');
  assert.equal(lockfile.headers.lock, 'alpha gamma');
  assert.equal(lockfile.headers.snapshot, '2023-11-16T02:00:00Z', 'the newest BUILDDATE of the databases');

  // install of the lockfile into a fresh copy of the base: pacman's set, and its install reasons.
  const fresh = join(work, 'fresh');
  copyRoot(base, fresh);
  const inst = await runCli(['install', file, '--root', fresh, '--cache', join(work, 'cache'), '--provider', `${server.url}/{{.Name}}`]);
  assert.equal(inst.code, 0, inst.stderr);
  assert.deepEqual(await queryInstalled(fresh), await queryInstalled(oracle));
  assert.equal(await pacman(fresh, ['-Qdq']), await pacman(oracle, ['-Qdq']));
});

test('two architectures from one host: the same names, every hash from that architecture\'s database', async () => {
  const out = join(work, 'multi-{arch}');
  // A narrow COLUMNS in the caller's environment must not change how pacman prints its package table.
  const res = await lock(['alpha', '--root', base, '--arch', 'x86_64,aarch64', '-o', out], { COLUMNS: '20' });
  assert.equal(res.code, 0, res.stderr);
  const names: Record<string, string[]> = {};
  for (const arch of ['x86_64', 'aarch64']) {
    const file = out.replace('{arch}', arch);
    const l = parseLockfile(readFileSync(file, 'utf8'), file);
    assert.equal(l.headers.distro, `arch rolling ${arch}`);
    const pkgs = l.entries.filter((e) => !e.path.endsWith('.sig'));
    names[arch] = pkgs.map((e) => inspectArchPath(e.path)!.name).sort();
    for (const e of pkgs) {
      const ref = inspectArchPath(e.path)!;
      assert.ok(ref.arch === arch || ref.arch === 'any', e.path);
      assert.ok(e.path.startsWith(`${REPO}/os/${arch}/`), e.path);
      assert.equal(e.sha256, sha(files.get(e.path.split('/').pop()!)!), e.path);
    }
  }
  assert.deepEqual(names.aarch64, names.x86_64);
  assert.deepEqual(names.x86_64, ['alpha', 'beta', 'provider']);
});

test('bad requests: exit 2, one line naming the package or architecture, no file written', async () => {
  const out = join(work, 'never-written');
  const digest = treeDigest(base);
  const cases: [string[], RegExp][] = [
    [['no-such-package'], /no package no-such-package in the base's repositories/],
    [['alpha', 'no-such-package'], /no-such-package/],
    [['broken'], /nothing-provides-this.*broken|broken.*nothing-provides-this/],
    [['rival'], /conflict/i],
    [['alpha', '--arch', 'riscv64'], /riscv64/],
    [['Bad Name!'], /not a pacman target/],
    [['alpha', '-t', 'core'], /-t has no meaning for pacman/],
  ];
  for (const [args, reason] of cases) {
    assertRefused(await lock([...args, '--root', base, '-o', out]), args.join(' '), reason, out);
  }
  assert.equal(treeDigest(base), digest, 'pacman\'s transaction (the conflict check) changed the base');
});

test('no pacman on the host: exit 4 naming the package to install', async () => {
  const res = await lock(['alpha', '--root', base], { PATH: '/nonexistent' });
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /pacman is not installed: install pacman \(Debian: pacman-package-manager\)/);
});

test('a tampered, an unsigned and a garbage database are exit 3; a hanging server is exit 4', async () => {
  const dir = join(work, 'www', REPO, 'os', 'x86_64');
  // Another genuine database (alpha's record from a different build) under the real signature.
  const other = join(work, 'other');
  mkdirSync(other);
  const alpha2 = { ...PACKAGES[0], content: 'another build\n' };
  const alpha2File = buildPackage(alpha2, other, key);
  repoAdd(other, REPO, [alpha2File]);
  const liar = await serveDirectory(join(work, 'www'), (_req, res, rel) => {
    if (rel !== `${REPO}/os/x86_64/${REPO}.db`) return false;
    res.writeHead(200).end(readFileSync(join(other, `${REPO}.db.tar.gz`)));
    return true;
  });
  const garbage = await serveDirectory(join(work, 'www'), (_req, res, rel) => {
    if (rel !== `${REPO}/os/x86_64/${REPO}.db`) return false;
    res.writeHead(200).end('garbage, not a database\n');
    return true;
  });
  const unsignedDb = await serveDirectory(join(work, 'www'), (_req, res, rel) => {
    if (!rel.endsWith('.db.sig')) return false;
    res.writeHead(404).end();
    return true;
  });
  const hang = await serveDirectory(join(work, 'www'), () => new Promise<boolean>(() => {}));
  try {
    const cases: [TestServer, string[], number, RegExp][] = [
      [liar, [], 3, /BAD signature|signature/i],
      [unsignedDb, [], 3, /no signature.*requires one/],
      [garbage, ['--allow-unsigned'], 3, /not a pacman sync database/],
      [hang, [], 4, /./],
    ];
    for (const [i, [srv, extra, code, reason]] of cases.entries()) {
      const root = join(work, `hostile-${i}`);
      copyRoot(base, root);
      writeFileSync(join(root, 'etc/pacman.d/mirrorlist'), `Server = ${srv.url}/$repo/os/$arch\n`);
      const res = await runCli(['lock', 'alpha', '--root', root, '--timeout', '2', '--retries', '0', '--cache', join(work, `cache-h${i}`), ...extra]);
      assert.equal(res.code, code, `case ${i}: ${res.stderr}`);
      assert.match(res.stderr, reason, `case ${i}`);
      assert.doesNotMatch(res.stderr, /\n\s+at /);
    }
    // The same unsigned database is fine where the base's SigLevel makes its signature optional.
    const optional = join(work, 'hostile-optional');
    copyRoot(base, optional);
    writeFileSync(join(optional, 'etc/pacman.d/mirrorlist'), `Server = ${unsignedDb.url}/$repo/os/$arch\n`);
    const conf = join(optional, 'etc/pacman.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(SIGLEVEL, 'Required DatabaseOptional TrustAll'));
    const ok = await runCli(['lock', 'alpha', '--root', optional, '--cache', join(work, 'cache-opt')]);
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    for (const s of [liar, garbage, unsignedDb, hang]) await s.close();
  }
  assert.ok(statSync(dir).isDirectory());
});

test('--snapshot resolves against the Arch Linux Archive\'s tree of that day (a stand-in with two days)', async () => {
  const delta1 = any('delta', '1.0-1');
  const delta2 = any('delta', '1.1-1', { builddate: 1_700_500_000 });
  for (const p of [delta1, delta2]) build(p);
  const archive = join(work, 'archive');
  publish(join(archive, 'repos/2026/11/01'), [...PACKAGES, delta1]);
  publish(join(archive, 'repos/2026/11/20'), [...PACKAGES, delta2]);
  const ala = await serveDirectory(archive);
  try {
    const versions: Record<string, string> = {};
    for (const day of ['2026-11-01', '2026-11-20']) {
      const out = join(work, `snap-${day}`);
      const res = await lock(['delta', '--root', base, '--snapshot', day, '--archive-url', `arch-archive=${ala.url}`, '-o', out]);
      assert.equal(res.code, 0, res.stderr);
      const l = parseLockfile(readFileSync(out, 'utf8'), out);
      assert.equal(l.headers.snapshot, `${day}T00:00:00Z`);
      versions[day] = inspectArchPath(l.entries.find((e) => !e.path.endsWith('.sig'))!.path)!.version;
    }
    assert.deepEqual(versions, { '2026-11-01': '1.0-1', '2026-11-20': '1.1-1' });
    // A day the archive has no tree for: nothing to resolve against, exit 2 naming the repository.
    const res = await lock(['delta', '--root', base, '--snapshot', '2020-01-01', '--archive-url', `arch-archive=${ala.url}`]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, new RegExp(`\\[${REPO}\\]`));
  } finally {
    await ala.close();
  }
});

test('--update: exit 0 and the file untouched when nothing moved; exit 1 and rewritten when pacman would now take another version', async () => {
  const file = join(work, 'SHA256SUMS-update');
  assert.equal((await lock(['alpha', '--root', base, '-o', file])).code, 0);
  const before = readFileSync(file, 'utf8');
  const same = await lock(['--update', file, '--root', base]);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(readFileSync(file, 'utf8'), before);

  const beta2 = both('beta', '2:0.6-1', { depends: ['libthing'] });
  for (const p of beta2) build(p);
  publish(join(work, 'www'), [...PACKAGES.filter((p) => p.name !== 'beta'), ...beta2]);
  try {
    const moved = await lock(['--update', file, '--root', base, '--json']);
    assert.equal(moved.code, 1, moved.stderr);
    const doc = JSON.parse(moved.stdout) as { diff: { changes: { kind: string; name: string; oldVersion?: string; newVersion?: string }[] } };
    assert.deepEqual(doc.diff.changes.map((c) => [c.kind, c.name, c.oldVersion, c.newVersion]), [['upgraded', 'beta', '2:0.5-3', '2:0.6-1']]);
    assert.equal((await lock(['--update', file, '--root', base])).code, 0);
  } finally {
    publish(join(work, 'www'), PACKAGES);
  }
});

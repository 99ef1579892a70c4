/**
 * `pinget lock` for Alpine and Wolfi on a real signed apk repository served on 127.0.0.1: packages built and
 * signed here, each architecture's APKINDEX made by the real `apk index` and signed with the test's key, for
 * x86_64 and aarch64; the base made by the real apk (`add --initdb`). Every test runs with apk 2.14 and with apk 3
 * (the builds of .ci/setup.d/40-apk-tools.sh, put first on PATH as `apk`). The oracle is apk's own `add` into a
 * copy of the base: lock names exactly what it adds (name, version and C: identity), and `pinget install` of the
 * lockfile into a fresh copy gives the same installed set. Errors: an unknown package, an unsatisfiable one, an
 * architecture the repository lacks, a bad name (exit 2, no file); no apk (exit 4); a server that lies about a
 * package or an index (exit 3, no file) or hangs (exit 4). A Wolfi-shaped base (merged /usr) locks the same.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lyingHook, serveDirectory, type TestServer } from './helpers/http-server.js';
import { REPO_ROOT, runCli } from './helpers/cli.js';
import { assertRefused } from './helpers/refused.js';
import { treeDigest } from './helpers/tree-digest.js';
import { apkBuildHint, apkPathDir, realApk, type ApkGeneration } from './helpers/real-apk.js';
import { buildApk, makeSigningKey, type ApkSpec, type BuiltApk, type SigningKey } from './helpers/apk-repo.js';
import { realApkIndex } from './helpers/apk2-index.js';
import { parseLockfile, type Lockfile } from '../src/lockfile.js';
import { parseApkDb } from '../distros/alpine/apk-db.js';
import { readGzipMember } from '../distros/alpine/gzip-members.js';
import { inspectApkPath } from '../distros/alpine/paths.js';
import { apkFailure, parseChanges } from '../distros/alpine/apk-resolve.js';
import { parseIdentityHeader } from '../distros/alpine/identity-header.js';

const ARCHES = ['x86_64', 'aarch64'];
const REPO = 'v3.20/main';
// alpha -> beta -> so:libthing.so.1 (libthing provides it), alpha -> cmd:tool (toolbox), alpha -> gamma (in the
// base); alpha-doc comes by itself (install_if) once alpha and docs (in the base) are there.
const specs = (arch: string): ApkSpec[] => [
  { name: 'alpha', version: '1.0-r0', arch, depends: ['beta>=2', 'cmd:tool', 'gamma'] },
  { name: 'beta', version: '2.1-r0', arch, depends: ['so:libthing.so.1'] },
  { name: 'libthing', version: '1.2-r0', arch, provides: ['so:libthing.so.1=1.2'] },
  { name: 'toolbox', version: '3-r0', arch, provides: ['cmd:tool=3'] },
  { name: 'alpha-doc', version: '1.0-r0', arch: 'noarch', installIf: ['alpha=1.0-r0', 'docs'] },
  { name: 'docs', version: '1-r0', arch: 'noarch' },
  { name: 'gamma', version: '1.0-r0', arch: 'noarch' },
  { name: 'broken', version: '1-r0', arch: 'noarch', depends: ['nothing-provides-this'] },
];
const ADDED = ['alpha 1.0-r0', 'alpha-doc 1.0-r0', 'beta 2.1-r0', 'libthing 1.2-r0', 'toolbox 3-r0'];

let work: string;
let key: SigningKey;
let server: TestServer;
const paths: Record<number, string> = {};
const bases: Record<number, string> = {};
const built = new Map<string, BuiltApk[]>();

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const www = (path: string) => join(work, 'www', path);
const lock = (g: ApkGeneration, args: string[], env: NodeJS.ProcessEnv = {}, cache = join(work, `cache${g}`)) =>
  runCli(['lock', '--cache', cache, ...args], { env: { PATH: `${paths[g]}:${process.env.PATH}`, SOURCE_DATE_EPOCH: '', ...env }, timeoutMs: 120_000 });

/** The real apk on a root (asynchronously: the repository's server runs in this process). */
async function apk(g: ApkGeneration, root: string, args: string[]): Promise<void> {
  await promisify(execFile)(join(paths[g], 'apk'), [...args, '--root', root, '--no-interactive', '--no-progress'], { env: { ...process.env, APK_CONFIG: '/dev/null' } });
}

/** The installed packages of a root as `name version identity`, sorted. */
function installed(root: string): string[] {
  const db = existsSync(join(root, 'usr/lib/apk/db/installed')) ? join(root, 'usr/lib/apk/db/installed') : join(root, 'lib/apk/db/installed');
  return parseApkDb(readFileSync(db, 'utf8'), db).map((r) => `${r.name} ${r.version} ${r.identity}`).sort();
}

/** What a lockfile pins, as `name version identity`, sorted. */
function pinned(l: Lockfile): string[] {
  const ids = parseIdentityHeader(l.headers['apk-identity']);
  return l.entries.map((e) => {
    const ref = inspectApkPath(e.path)!;
    return `${ref.name} ${ref.version} ${ids.get(e.path.split('/').pop()!)}`;
  }).sort();
}

const readLock = (file: string) => parseLockfile(readFileSync(file, 'utf8'), file);
const copyRoot = (from: string, to: string) => cpSync(from, to, { recursive: true, verbatimSymlinks: true });

/** The packages of each architecture, and their index, under <www>/v3.20/main/<arch>/. */
async function publish(): Promise<void> {
  for (const arch of ARCHES) {
    const dir = www(`${REPO}/${arch}`);
    mkdirSync(dir, { recursive: true });
    const pkgs = await Promise.all(specs(arch).map((s) => buildApk(s, key)));
    for (const p of pkgs) writeFileSync(join(dir, p.fileName), p.bytes);
    built.set(arch, pkgs);
    writeFileSync(join(dir, 'APKINDEX.tar.gz'), await realApkIndex(pkgs, key, work, undefined, arch));
  }
}

/** An Alpine root of that architecture made by apk itself: docs and gamma installed from the served repository. */
async function makeBase(g: ApkGeneration, root: string, arch = 'x86_64'): Promise<void> {
  mkdirSync(join(root, 'etc/apk/keys'), { recursive: true });
  writeFileSync(join(root, 'etc/apk/keys', key.name), key.publicPem);
  writeFileSync(join(root, 'etc/apk/repositories'), `${server.url}/${REPO}\n`);
  writeFileSync(join(root, 'etc/os-release'), 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n');
  await apk(g, root, ['add', '--initdb', '--arch', arch, 'docs', 'gamma']);
}

before(async () => {
  for (const g of [2, 3] as const) if (!(await realApk(g))) throw new Error(`no apk ${g}: ${apkBuildHint}`);
  work = mkdtempSync(join(tmpdir(), 'pinget-lock-alpine-'));
  key = makeSigningKey('pinget-test-5f3a.rsa.pub');
  await publish();
  server = await serveDirectory(join(work, 'www'));
  for (const g of [2, 3] as const) {
    paths[g] = (await apkPathDir(g, work))!;
    bases[g] = join(work, `base${g}`);
    await makeBase(g, bases[g]);
  }
});

after(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const g of [2, 3] as const) {
  describe(`apk ${g}`, () => {
    test('lock names exactly what apk add adds to the base; the lockfile installs to the same set; the base is untouched', async () => {
      const base = bases[g];
      const digest = treeDigest(base);
      const out = join(work, `lock${g}`);
      const res = await lock(g, ['alpha', 'gamma', '--root', base, '-o', out]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(treeDigest(base), digest, 'lock changed a byte of the base');
      const l = readLock(out);

      // The oracle: apk's own add of the same names into a copy of the base.
      const oracle = join(work, `oracle${g}`);
      copyRoot(base, oracle);
      const before = installed(oracle);
      await apk(g, oracle, ['add', 'alpha', 'gamma']);
      const added = installed(oracle).filter((p) => !before.includes(p));
      assert.deepEqual(added.map((p) => p.split(' ').slice(0, 2).join(' ')), ADDED, 'the test repository resolves as designed');
      assert.deepEqual(pinned(l), added, 'the same packages, each with the identity apk installed');

      for (const e of l.entries) {
        assert.match(e.path, new RegExp(`^${REPO}/x86_64/`));
        assert.equal(e.sha256, sha(readFileSync(www(e.path))), e.path);
      }
      assert.equal(l.headers.distro, 'alpine 3.20.3 x86_64');
      assert.equal(l.headers.manual, 'alpha', 'gamma is in the base: not locked, so not marked');
      assert.equal(l.headers.lock, 'alpha gamma');
      assert.equal(l.headers.snapshot, '2024-05-01T12:00:00Z', 'the newest mtime inside the indexes');

      // install of the lockfile into a fresh copy of the base: apk's set.
      const fresh = join(work, `fresh${g}`);
      copyRoot(base, fresh);
      const inst = await runCli(['install', out, '--root', fresh, '--cache', join(work, `cache${g}`), '--provider', `${server.url}/{{.Name}}`], { env: { PATH: `${paths[g]}:${process.env.PATH}` } });
      assert.equal(inst.code, 0, inst.stderr);
      assert.deepEqual(installed(fresh), installed(oracle));
      // hash verify of apk's own install: every locked package at its version and build (the apk-identity header
      // against the installed C:); only the base's packages are unpinned.
      const verify = await runCli(['hash', 'verify', out, '--root', oracle, '--json']);
      const doc = JSON.parse(verify.stdout) as { pinned: number; drift: { kind: string; name: string }[] };
      assert.equal(doc.pinned, ADDED.length);
      assert.deepEqual(doc.drift.map((d) => `${d.kind} ${d.name}`), ['unpinned docs', 'unpinned gamma']);
    });

    test('two architectures from one base: the same names, every file and identity from that architecture\'s index', async () => {
      const out = join(work, `multi${g}-{arch}`);
      const res = await lock(g, ['alpha', '--root', bases[g], '--arch', ARCHES.join(','), '-o', out]);
      assert.equal(res.code, 0, res.stderr);
      // The oracle: apk's add into the same base built for aarch64.
      const oracle = join(work, `oracle${g}-aarch64`);
      await makeBase(g, oracle, 'aarch64');
      const before = installed(oracle);
      await apk(g, oracle, ['add', 'alpha']);
      const apkAarch64 = installed(oracle).filter((p) => !before.includes(p));
      const names: Record<string, string[]> = {};
      for (const arch of ARCHES) {
        const l = readLock(out.replace('{arch}', arch));
        assert.equal(l.headers.distro, `alpine 3.20.3 ${arch}`);
        names[arch] = pinned(l).map((p) => p.split(' ').slice(0, 2).join(' '));
        for (const e of l.entries) {
          assert.ok(e.path.startsWith(`${REPO}/${arch}/`), e.path);
          assert.equal(e.sha256, sha(readFileSync(www(e.path))), e.path);
        }
        if (arch === 'aarch64') assert.deepEqual(pinned(l), apkAarch64, 'apk add --arch aarch64 adds the same');
      }
      assert.deepEqual(names.x86_64, ADDED);
      assert.deepEqual(names.aarch64, ADDED);
    });

    test('an unknown package: exit 2 naming it, no file written', async () => {
      const out = join(work, `never${g}`);
      assertRefused(await lock(g, ['alpha', 'no-such-package', '--root', bases[g], '-o', out]), 'unknown', /no package no-such-package in the base's repositories/, out);
    });
  });
}

test('bad requests: exit 2, one line naming the package or architecture, no file written; the base untouched', async () => {
  const base = bases[3];
  const out = join(work, 'never-written');
  const digest = treeDigest(base);
  const cases: [string[], RegExp][] = [
    [['broken'], /nothing-provides-this/],
    [['alpha', '--arch', 'riscv64'], /no index for architecture riscv64.*does not serve riscv64/],
    [['Bad Name!'], /not an apk dependency/],
    [['alpha', '-t', 'edge'], /-t has no meaning for apk/],
    [['alpha', '--snapshot', '2026-01-01'], /no dated copies/],
  ];
  for (const [args, reason] of cases) assertRefused(await lock(3, [...args, '--root', base, '-o', out]), args.join(' '), reason, out);
  // An empty Alpine has no keys to check its indexes with: a base is needed.
  assertRefused(await lock(3, ['alpha', '--distro', 'alpine:3.20', '-o', out]), 'empty base', /lock for Alpine and Wolfi starts from a base/, out);
  assert.equal(treeDigest(base), digest);
});

test('no apk on the host: exit 4 naming what to install', async () => {
  const res = await runCli(['lock', 'alpha', '--root', bases[2], '--cache', join(work, 'cache-noapk')], { env: { PATH: '/nonexistent' } });
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /apk is not installed: install apk-tools/);
});

test('a lying or hanging server: exit 3 for wrong package bytes or a bad index, exit 4 for a hang; nothing written', async () => {
  const x86 = `${REPO}/x86_64`;
  // Another build of beta with the same name and version, signed with the same key: genuine-looking, not the indexed one.
  const other: BuiltApk = await buildApk({ ...specs('x86_64')[1], files: { 'usr/share/beta/README': 'another build\n' } }, key);
  const index = readFileSync(www(`${x86}/APKINDEX.tar.gz`));
  const sigEnd = readGzipMember(index, 0).end;
  const another = await realApkIndex(built.get('x86_64')!.map((p) => (p.spec.name === 'beta' ? other : p)), key, work, undefined, 'x86_64');
  const otherIndex = Buffer.concat([index.subarray(0, sigEnd), another.subarray(readGzipMember(another, 0).end)]);
  const cases: [string, (rel: string) => Buffer | 'hang' | undefined, string[], number, RegExp][] = [
    ['wrong package bytes', (rel) => (rel === `${x86}/beta-2.1-r0.apk` ? other.bytes : undefined), [], 3, /beta-2\.1-r0\.apk.*not the package the repository index names.*control segment/],
    ['garbage package', (rel) => (rel === `${x86}/beta-2.1-r0.apk` ? Buffer.from('garbage') : undefined), [], 3, /not an apk package/],
    ['index under another signature', (rel) => (rel === `${x86}/APKINDEX.tar.gz` ? otherIndex : undefined), [], 3, /signature/],
    ['unsigned index', (rel) => (rel === `${x86}/APKINDEX.tar.gz` ? index.subarray(sigEnd) : undefined), [], 3, /signature check failed: it is not signed/],
    ['garbage index', (rel) => (rel === `${x86}/APKINDEX.tar.gz` ? Buffer.from('garbage\n') : undefined), ['--allow-unsigned'], 3, /not an APKINDEX/],
    ['hanging package', (rel) => (rel.endsWith('.apk') ? 'hang' : undefined), [], 4, /beta|alpha|libthing|toolbox/],
    ['hanging index', (rel) => (rel.endsWith('APKINDEX.tar.gz') ? 'hang' : undefined), [], 4, /APKINDEX/],
  ];
  for (const [i, [what, serve, extra, code, reason]] of cases.entries()) {
    server.setHook(lyingHook(serve));
    const out = join(work, `hostile-${i}`);
    const res = await lock(2, ['alpha', '--root', bases[2], '-o', out, '--timeout', '1', '--retries', '0', ...extra], {}, join(work, `cache-h${i}`));
    server.setHook(undefined);
    assert.equal(res.code, code, `${what}: ${res.stderr}`);
    assert.match(res.stderr, reason, what);
    assert.doesNotMatch(res.stderr, /\n\s+at /, what);
    assert.equal(existsSync(out), false, `${what}: wrote ${out}`);
  }

});

test('warm: a second lock takes the packages from the cache (the server has none left); the same lockfile; --update unchanged', async () => {
  const cache = join(work, 'cache-warm');
  const first = await lock(3, ['alpha', '--root', bases[3]], {}, cache);
  assert.equal(first.code, 0, first.stderr);
  server.setHook((_req, res, rel) => (rel.endsWith('.apk') ? (res.writeHead(404).end(), true) : false));
  try {
    const second = await lock(3, ['alpha', '--root', bases[3]], {}, cache);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    // --update asks apk the same again: nothing moved, exit 0, the file untouched.
    const file = join(work, 'warm.lock');
    writeFileSync(file, first.stdout);
    const update = await lock(3, ['--update', file, '--root', bases[3]], {}, cache);
    assert.equal(update.code, 0, update.stderr);
    assert.equal(readFileSync(file, 'utf8'), first.stdout);
  } finally {
    server.setHook(undefined);
  }
});

test('a Wolfi-shaped base (merged /usr, its os-release) locks through the same path, with its own distro ID', async () => {
  const root = join(work, 'wolfi');
  copyRoot(bases[3], root);
  writeFileSync(join(root, 'etc/os-release'), readFileSync(join(REPO_ROOT, 'testdata/real-db/os-release/wolfi')));
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  renameSync(join(root, 'lib/apk'), join(root, 'usr/lib/apk'));
  rmSync(join(root, 'lib'), { recursive: true });
  symlinkSync('/usr/lib', join(root, 'lib'));
  const res = await lock(3, ['alpha', '--root', root, '-o', join(work, 'wolfi.lock')]);
  assert.equal(res.code, 0, res.stderr);
  const l = readLock(join(work, 'wolfi.lock'));
  assert.equal(l.headers.distro, 'wolfi 20220914 x86_64');
  assert.deepEqual(l.entries, readLock(join(work, 'lock3')).entries);
  // hash generate of the same root says the same distro (install checks it against the target root's os-release ID).
  const gen = await runCli(['hash', 'generate', '--root', root, '--cache', join(work, 'cache-wolfi')]);
  assert.equal(gen.code, 0, gen.stderr);
  assert.equal(parseLockfile(gen.stdout, 'generated').headers.distro, 'wolfi 20220914 x86_64');
});

test("apk's change lines, as apk 2 and apk 3 print them (apk 3 pads the counter), and its reasons", () => {
  const out = [
    'fetch http://127.0.0.1/v3.20/main/x86_64/APKINDEX.tar.gz',
    '(1/5) Installing libthing (1.2-r0)',
    '( 2/12) Upgrading gamma@edge (1.0-r0 -> 1.1-r0)',
    '(3/5) Replacing docs (1-r0 -> 1-r0)',
    '(4/5) Downgrading beta (2.1-r0 -> 2.0-r0)',
    '(5/5) Purging old (1-r0)',
    '(6/7) Reinstalling alpha (1.0-r0)',
    'OK: 28 KiB in 7 packages',
  ].join('\n');
  assert.deepEqual(parseChanges(out), [
    { verb: 'Installing', name: 'libthing', tag: undefined, version: '1.2-r0', old: undefined },
    { verb: 'Upgrading', name: 'gamma', tag: 'edge', version: '1.1-r0', old: '1.0-r0' },
    { verb: 'Replacing', name: 'docs', tag: undefined, version: '1-r0', old: '1-r0' },
    { verb: 'Downgrading', name: 'beta', tag: undefined, version: '2.0-r0', old: '2.1-r0' },
    { verb: 'Purging', name: 'old', tag: undefined, version: '1-r0', old: undefined },
    { verb: 'Reinstalling', name: 'alpha', tag: undefined, version: '1.0-r0', old: undefined },
  ]);
  const missing = apkFailure('', 'ERROR: unable to select packages:\n  nope (no such package):\n    required by: world[nope]\n', ['http://r/main']);
  assert.equal(missing.message, "no package nope in the base's repositories (http://r/main)");
  const conflict = apkFailure('', 'ERROR: unable to select packages:\n  broken-1-r0:\n    error: uninstallable\n    satisfies: world[broken]\n', []);
  assert.match(conflict.message, /^apk cannot install the request: unable to select packages: broken-1-r0:; error: uninstallable; satisfies: world\[broken\]$/);
  assert.equal(conflict.code, 'BAD_INPUT');
});

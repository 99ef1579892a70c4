/**
 * `pinget lock` from apk-tools 3 repositories (`v3 URL` lines: a Packages.adb index): a repository built and
 * signed here by the real `apk mkpkg` + `apk mkndx`, for x86_64 and aarch64, served on 127.0.0.1; the base made by
 * the real apk 3 (`add --initdb`). The oracle is apk 3's own `add` into a copy of the base: lock names exactly what
 * it adds, each file the bytes served, and `pinget install` of the lockfile into a fresh copy gives the same
 * installed set; an `ndx` line (the index URL itself) locks the packages beside it. Hostile: an index signed by
 * another key, garbage for an index, a package with other bytes (exit 3); a hanging server (exit 4); apk 2 on
 * PATH with a v3 repository (exit 4 naming apk-tools 3).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lyingHook, serveDirectory, type TestServer } from './helpers/http-server.js';
import { runCli } from './helpers/cli.js';
import { treeDigest } from './helpers/tree-digest.js';
import { apkBuildHint, apkPathDir, realApk, type ApkGeneration } from './helpers/real-apk.js';
import { makeSigningKey, type SigningKey } from './helpers/apk-repo.js';
import { buildApk3Repo, type Apk3PackageSpec } from './helpers/apk3-repo.js';
import { parseLockfile } from '../src/lockfile.js';
import { parseApkDb } from '../distros/alpine/apk-db.js';
import { inspectApkPath } from '../distros/alpine/paths.js';

const ARCHES = ['x86_64', 'aarch64'];
const REPO = 'v3.20/main';
// alpha -> beta>=2 -> libthing (so:libthing.so.1), alpha -> cmd:tool (toolbox), alpha -> pager (a virtual name
// only toolbox provides, by provider-priority), alpha -> gamma (noarch, in the base).
const specs = (arch: string): Apk3PackageSpec[] => [
  { name: 'alpha', version: '1.0-r0', depends: ['beta>=2', 'cmd:tool', 'pager', 'gamma'] },
  { name: 'beta', version: '2.1-r0', depends: ['so:libthing.so.1'], files: { [`usr/share/beta/${arch}`]: 'beta\n' } },
  { name: 'libthing', version: '1.2-r0', provides: ['so:libthing.so.1=1.2'] },
  { name: 'toolbox', version: '3-r0', provides: ['cmd:tool=3', 'pager'], providerPriority: 10 },
  { name: 'gamma', version: '1.0-r0', arch: 'noarch' },
];
const ADDED = ['alpha 1.0-r0', 'beta 2.1-r0', 'libthing 1.2-r0', 'toolbox 3-r0'];

let work: string;
let key: SigningKey;
let server: TestServer;
const paths: Record<number, string> = {};
let base: string;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const www = (path: string) => join(work, 'www', path);
const lock = (g: ApkGeneration, args: string[], cache = join(work, `cache${g}`)) =>
  runCli(['lock', '--cache', cache, ...args], { env: { PATH: `${paths[g]}:${process.env.PATH}`, SOURCE_DATE_EPOCH: '' }, timeoutMs: 120_000 });

async function apk3(root: string, args: string[]): Promise<void> {
  await promisify(execFile)(join(paths[3], 'apk'), [...args, '--root', root, '--no-interactive', '--no-progress'], { env: { ...process.env, APK_CONFIG: '/dev/null' } });
}

/** The installed packages of a root as `name version`, sorted. */
function installed(root: string): string[] {
  const db = join(root, 'lib/apk/db/installed');
  return parseApkDb(readFileSync(db, 'utf8'), db).map((r) => `${r.name} ${r.version}`).sort();
}

const copyRoot = (from: string, to: string) => cpSync(from, to, { recursive: true, verbatimSymlinks: true });

before(async () => {
  for (const g of [2, 3] as const) if (!(await realApk(g))) throw new Error(`no apk ${g}: ${apkBuildHint}`);
  work = mkdtempSync(join(tmpdir(), 'pinget-lock-alpine-v3-'));
  key = makeSigningKey('pinget-test-v3.rsa.pub');
  for (const arch of ARCHES) await buildApk3Repo(www(REPO), { arch, packages: specs(arch) }, key);
  server = await serveDirectory(join(work, 'www'));
  for (const g of [2, 3] as const) paths[g] = (await apkPathDir(g, work))!;
  base = join(work, 'base');
  cpSync(join(www(REPO), '.keys'), join(base, 'etc/apk/keys'), { recursive: true });
  writeFileSync(join(base, 'etc/apk/repositories'), `v3 ${server.url}/${REPO}\n`);
  writeFileSync(join(base, 'etc/os-release'), 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.22.0\n');
  await apk3(base, ['add', '--initdb', '--arch', 'x86_64', 'gamma']);
});

after(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('v3 repository: lock names exactly what apk 3 add adds, the served bytes; install gives the same set; two arches', async () => {
  const digest = treeDigest(base);
  const out = join(work, 'lock-{arch}');
  const res = await lock(3, ['alpha', '--root', base, '--arch', ARCHES.join(','), '-o', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(treeDigest(base), digest, 'lock changed a byte of the base');

  const oracle = join(work, 'oracle');
  copyRoot(base, oracle);
  const before = installed(oracle);
  await apk3(oracle, ['add', 'alpha']);
  const added = installed(oracle).filter((p) => !before.includes(p));
  assert.deepEqual(added, ADDED, 'the test repository resolves as designed');

  for (const arch of ARCHES) {
    const file = out.replace('{arch}', arch);
    const l = parseLockfile(readFileSync(file, 'utf8'), file);
    const names = l.entries.map((e) => inspectApkPath(e.path)!).map((r) => `${r.name} ${r.version}`).sort();
    assert.deepEqual(names, added, arch);
    for (const e of l.entries) {
      assert.ok(e.path.startsWith(`${REPO}/${arch}/`), e.path);
      assert.equal(e.sha256, sha(readFileSync(www(e.path))), e.path);
    }
    assert.equal(l.headers.distro, `alpine 3.22.0 ${arch}`);
    assert.equal(l.headers.manual, 'alpha');
    assert.equal(l.headers['apk-identity'].split(' ').length, ADDED.length);
  }

  const fresh = join(work, 'fresh');
  copyRoot(base, fresh);
  const inst = await runCli(['install', out.replace('{arch}', 'x86_64'), '--root', fresh, '--cache', join(work, 'cache3'), '--provider', `${server.url}/{{.Name}}`], { env: { PATH: `${paths[3]}:${process.env.PATH}` } });
  assert.equal(inst.code, 0, inst.stderr);
  assert.deepEqual(installed(fresh), installed(oracle));
  // hash verify of apk's own install: every locked package at its version and build (the apk-identity header,
  // then the cached file, against the C: apk 3 recorded); only the base's package is unpinned.
  for (const env of [{ cache: join(work, 'cache3') }, { cache: join(work, 'empty-cache') }]) {
    const verify = await runCli(['hash', 'verify', out.replace('{arch}', 'x86_64'), '--root', oracle, '--deep', '--cache', env.cache, '--json']);
    const doc = JSON.parse(verify.stdout) as { pinned: number; drift: { kind: string; name: string }[] };
    assert.equal(doc.pinned, ADDED.length, verify.stderr);
    assert.deepEqual(doc.drift.map((d) => `${d.kind} ${d.name}`), ['unpinned gamma'], verify.stderr);
  }
  // hash generate of apk 3's own install (index and packages from the v3 repository, its signature checked by
  // apk 3): the lockfile's lines and identities, plus the base's gamma.
  const gen = await runCli(['hash', 'generate', '--root', oracle, '--cache', join(work, 'cache-gen')], { env: { PATH: `${paths[3]}:${process.env.PATH}` } });
  assert.equal(gen.code, 0, gen.stderr);
  const generated = parseLockfile(gen.stdout, 'generated');
  const locked = parseLockfile(readFileSync(out.replace('{arch}', 'x86_64'), 'utf8'), 'lock');
  assert.deepEqual(generated.entries.filter((e) => !e.path.includes('/gamma-')), locked.entries);
  assert.equal(generated.entries.find((e) => e.path.includes('/gamma-'))?.path, `${REPO}/x86_64/gamma-1.0-r0.apk`);
  assert.equal(generated.headers['apk-identity'].split(' ').filter((p) => !p.startsWith('gamma-')).join(' '), locked.headers['apk-identity']);
  // another build of beta installed (its C: changed): build drift, by the header alone
  const db = join(oracle, 'lib/apk/db/installed');
  writeFileSync(db, readFileSync(db, 'utf8').replace(/^C:.*\n(P:beta\n)/m, 'C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n$1'));
  const drifted = await runCli(['hash', 'verify', out.replace('{arch}', 'x86_64'), '--root', oracle, '--cache', join(work, 'empty-cache'), '--json']);
  const kinds = (JSON.parse(drifted.stdout) as { drift: { kind: string; name: string }[] }).drift.map((d) => `${d.kind} ${d.name}`);
  assert.ok(kinds.some((k) => k.endsWith(' beta') && !k.startsWith('unpinned')), kinds.join(', '));
});

test('ndx repository line (the index URL itself, packages beside it): lock names what apk 3 add adds, the served bytes', async () => {
  await buildApk3Repo(www('ndx/main'), { arch: 'x86_64', packages: [{ name: 'solo', version: '1-r0', depends: ['dep'] }, { name: 'dep', version: '2-r0' }] }, key);
  const root = join(work, 'ndx-base');
  copyRoot(base, root);
  writeFileSync(join(root, 'etc/apk/repositories'), `ndx ${server.url}/ndx/main/x86_64/Packages.adb\n`);
  const out = join(work, 'ndx.lock');
  const res = await lock(3, ['solo', '--root', root, '-o', out]);
  assert.equal(res.code, 0, res.stderr);
  const oracle = join(work, 'ndx-oracle');
  copyRoot(root, oracle);
  const before = installed(oracle);
  await apk3(oracle, ['add', 'solo']);
  assert.deepEqual(installed(oracle).filter((p) => !before.includes(p)), ['dep 2-r0', 'solo 1-r0']);
  const l = parseLockfile(readFileSync(out, 'utf8'), out);
  assert.deepEqual(l.entries.map((e) => e.path), ['ndx/main/x86_64/dep-2-r0.apk', 'ndx/main/x86_64/solo-1-r0.apk']);
  for (const e of l.entries) assert.equal(e.sha256, sha(readFileSync(www(e.path))), e.path);
});

test('v3 repository: apk 2 on PATH is refused with exit 4 naming apk-tools 3; nothing written', async () => {
  const out = join(work, 'never-apk2');
  const res = await lock(2, ['alpha', '--root', base, '-o', out]);
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /etc\/apk\/repositories:1: .* is an apk v3 repository .*apk-tools 2 cannot read; install apk-tools 3/);
  assert.equal(existsSync(out), false);
});

test('v3 repository, lying or hanging server: another key, garbage, other package bytes exit 3; a hang exit 4', async () => {
  const x86 = `${REPO}/x86_64`;
  // The same repository built and signed by another key (genuine-looking, untrusted by the base).
  const stranger = makeSigningKey('stranger.rsa.pub');
  const otherDir = join(work, 'other');
  await buildApk3Repo(otherDir, { arch: 'x86_64', packages: specs('x86_64') }, stranger);
  // Another build of beta, same name and version, signed with the base's key: not the one the index names.
  const otherBeta = join(work, 'other-beta');
  const [beta] = (await buildApk3Repo(otherBeta, { arch: 'x86_64', packages: [{ ...specs('x86_64')[1], files: { 'usr/share/beta/README': 'another build\n' } }] }, key)).packages;
  const cases: [string, (rel: string) => Buffer | 'hang' | undefined, string[], number, RegExp][] = [
    ['index signed by another key', (rel) => (rel === `${x86}/Packages.adb` ? readFileSync(join(otherDir, 'x86_64/Packages.adb')) : undefined), [], 3, /Packages\.adb: apk rejects the index: UNTRUSTED signature/],
    ['garbage index', (rel) => (rel === `${x86}/Packages.adb` ? Buffer.from('garbage\n') : undefined), [], 3, /Packages\.adb: apk rejects the index/],
    ['garbage index, unsigned allowed', (rel) => (rel === `${x86}/Packages.adb` ? Buffer.from('ADBdgarbage') : undefined), ['--allow-unsigned'], 3, /not an apk Packages\.adb index/],
    ['other package bytes', (rel) => (rel === `${x86}/beta-2.1-r0.apk` ? beta.bytes : undefined), [], 3, /beta-2\.1-r0\.apk: .*not the package the repository index names: its ADB block has sha256/],
    ['hanging index', (rel) => (rel.endsWith('Packages.adb') ? 'hang' : undefined), [], 4, /Packages\.adb/],
    ['hanging package', (rel) => (rel.endsWith('.apk') ? 'hang' : undefined), [], 4, /alpha|beta|libthing|toolbox/],
  ];
  for (const [i, [what, serve, extra, code, reason]] of cases.entries()) {
    server.setHook(lyingHook(serve));
    const out = join(work, `hostile-${i}`);
    const res = await lock(3, ['alpha', '--root', base, '-o', out, '--timeout', '1', '--retries', '0', ...extra], join(work, `cache-h${i}`));
    server.setHook(undefined);
    assert.equal(res.code, code, `${what}: ${res.stderr}`);
    assert.match(res.stderr, reason, what);
    assert.doesNotMatch(res.stderr, /\n\s+at /, what);
    assert.equal(existsSync(out), false, `${what}: wrote ${out}`);
  }
  // hash generate reads the same index the same way: another key's index is exit 3; apk 2 cannot check it: exit 4
  const uncached = join(work, 'uncached');
  copyRoot(base, uncached);
  rmSync(join(uncached, 'var/cache/apk'), { recursive: true, force: true }); // apk 3 keeps the index it fetched there
  server.setHook(lyingHook(cases[0][1]));
  const gen = await runCli(['hash', 'generate', '--root', uncached, '--cache', join(work, 'cache-gen-h')], { env: { PATH: `${paths[3]}:${process.env.PATH}` } });
  server.setHook(undefined);
  assert.equal(gen.code, 3, gen.stderr);
  assert.match(gen.stderr, /Packages\.adb: apk rejects the index: UNTRUSTED signature/);
  const gen2 = await runCli(['hash', 'generate', '--root', uncached, '--cache', join(work, 'cache-gen-h2')], { env: { PATH: `${paths[2]}:${process.env.PATH}` } });
  assert.equal(gen2.code, 4, gen2.stderr);
  assert.match(gen2.stderr, /is an apk v3 index, which apk-tools 2 cannot check .*install apk-tools 3/);
});

/**
 * `pinget install` on the real apk (2.14 and 3.0, built from ../shared/vendor/): the oracle is `apk add` of the
 * same package into a fresh Alpine-shaped root from a signed repository served on 127.0.0.1. `hash generate`
 * of the oracle's root gives the lockfile; `install` of it into fresh roots must give the oracle's installed
 * database and files, and `--normalize` must make two such installs byte-identical.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseLockfile } from '../src/lockfile.js';
import { buildApk, makeSigningKey, writeRepository, type BuiltApk, type SigningKey } from './helpers/apk-repo.js';
import { realApkIndex } from './helpers/apk2-index.js';
import { buildApk3Repo } from './helpers/apk3-repo.js';
import { runCli } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { apkBuildHint, apkPathDir, realApk, type ApkGeneration } from './helpers/real-apk.js';
import { treeDigest } from './helpers/tree-digest.js';

const run = promisify(execFile);
const env = { SOURCE_DATE_EPOCH: '1714564800' };
let tmp: string;
let server: TestServer;
let key: SigningKey;
let pkgs: BuiltApk[];

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-alpine-real-'));
  key = makeSigningKey('alpine-real.rsa.pub');
  pkgs = [
    await buildApk({ name: 'musl', version: '1.2.5-r0', provides: ['so:libc.musl-x86_64.so.1=1'], files: { 'lib/ld-musl-x86_64.so.1': 'musl\n' } }, key),
    await buildApk({ name: 'libfoo', version: '2.0-r1', depends: ['so:libc.musl-x86_64.so.1'], provides: ['so:libfoo.so.2=2.0'], files: { 'usr/lib/libfoo.so.2': 'foo\n' } }, key),
    await buildApk({ name: 'hello', version: '1.0-r0', depends: ['so:libfoo.so.2', 'musl'], files: { 'usr/bin/hello': '#!/bin/sh\necho hello\n', 'usr/share/doc/hello/README': 'hi\n' } }, key),
    // in the repository, asked for by nothing: must stay out of every root
    await buildApk({ name: 'extra', version: '0.1-r0', depends: ['hello'] }, key),
  ];
  await writeRepository(join(tmp, 'srv'), 'v3.20', 'main', 'x86_64', pkgs, await realApkIndex(pkgs, key, tmp));
  server = await serveDirectory(join(tmp, 'srv'));
});

after(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** What a fresh Alpine root has before any package: os-release, its arch, the repository and its key. No database. */
async function freshRoot(name: string): Promise<string> {
  const root = join(tmp, name);
  await mkdir(join(root, 'etc/apk/keys'), { recursive: true });
  await writeFile(join(root, 'etc/os-release'), 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n');
  await writeFile(join(root, 'etc/apk/arch'), 'x86_64\n');
  await writeFile(join(root, 'etc/apk/repositories'), `${server.url}/v3.20/main\n`);
  await writeFile(join(root, 'etc/apk/keys', key.name), key.publicPem);
  return root;
}

async function apkBinary(gen: ApkGeneration): Promise<string> {
  const apk = await realApk(gen);
  assert.ok(apk, `apk ${gen} is not built: ${apkBuildHint}`);
  return apk;
}

/** The installed database's packages: name-version arch identity, sorted. */
async function installedSet(root: string): Promise<string[]> {
  const text = await readFile(join(root, 'lib/apk/db/installed'), 'utf8');
  return text
    .split('\n\n')
    .filter((r) => r.trim())
    .map((r) => ['P', 'V', 'A', 'C'].map((k) => new RegExp(`^${k}:(.*)$`, 'm').exec(r)?.[1]).join(' '))
    .sort();
}

/** What apk's run leaves that says when or how it ran, not what it installed. */
const RUN_TRACES = new Set(['var/log/apk.log', 'lib/apk/db/lock']);

/** Every path of the tree with its type, mode and content hash (not mtimes: the oracle is not normalized). */
function filesOf(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const n of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      if (RUN_TRACES.has(r) || r.startsWith('var/cache/apk/')) continue;
      const st = lstatSync(join(root, r));
      const body = st.isFile() ? createHash('sha256').update(readFileSync(join(root, r))).digest('hex') : '';
      out[r] = `${st.mode.toString(8)} ${body}`;
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

for (const gen of [2, 3] as const) {
  test(`apk ${gen}: install of the lockfile of an apk-added root gives apk's set and files; --normalize makes two installs identical`, async () => {
    const oracle = await freshRoot(`oracle-${gen}`);
    await run(await apkBinary(gen), ['--root', oracle, '--initdb', '--no-interactive', '--quiet', 'add', 'hello']);
    const lockfile = join(tmp, `SHA256SUMS-${gen}`);
    const gen_ = await runCli(['hash', 'generate', '--root', oracle, '-o', lockfile], { env });
    assert.equal(gen_.code, 0, gen_.stderr);
    const lock = parseLockfile(await readFile(lockfile, 'utf8'));
    assert.deepEqual(lock.entries.map((e) => e.path), ['v3.20/main/x86_64/hello-1.0-r0.apk', 'v3.20/main/x86_64/libfoo-2.0-r1.apk', 'v3.20/main/x86_64/musl-1.2.5-r0.apk']);

    const pathDir = await apkPathDir(gen, tmp);
    assert.ok(pathDir, apkBuildHint);
    const roots: string[] = [];
    for (const n of ['a', 'b']) {
      const root = await freshRoot(`install-${gen}-${n}`);
      const res = await runCli(['install', lockfile, '--root', root, '--normalize', '--cache', join(tmp, `cache-${gen}-${n}`)], { env: { ...env, PATH: `${pathDir}:${process.env.PATH}` } });
      assert.equal(res.code, 0, res.stderr);
      roots.push(root);
    }
    assert.deepEqual(await installedSet(roots[0]), await installedSet(oracle));
    assert.deepEqual(filesOf(roots[0]), filesOf(oracle));
    assert.equal(await readFile(join(roots[0], 'etc/apk/world'), 'utf8'), 'hello\n', "apk add's world, not the file install's identity pins");
    assert.equal(treeDigest(roots[0]), treeDigest(roots[1]));

    // the installed root pins to the same lockfile, and installing it again changes nothing
    const again = await runCli(['hash', 'generate', '--root', roots[0], '-o', `${lockfile}.again`], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await readFile(`${lockfile}.again`, 'utf8'), await readFile(lockfile, 'utf8'));
    const digest = treeDigest(roots[1]);
    const twice = await runCli(['install', lockfile, '--root', roots[1], '--json', '--cache', join(tmp, `cache-${gen}-b`)], { env: { ...env, PATH: `${pathDir}:${process.env.PATH}` } });
    assert.equal(twice.code, 0, twice.stderr);
    assert.deepEqual(JSON.parse(twice.stdout).installed, []);
    assert.equal(treeDigest(roots[1]), digest);
  });
}

test('apk 3: v3 (ADB) packages from a lockfile install as apk add installs them from the v3 repository; apk 2 refuses them before it runs (exit 4)', async () => {
  const repo = await buildApk3Repo(join(tmp, 'srv3/v3.20/main'), {
    arch: 'x86_64',
    packages: [
      { name: 'musl', version: '1.2.5-r0', provides: ['so:libc.musl-x86_64.so.1=1'], files: { 'lib/ld-musl-x86_64.so.1': 'musl\n' } },
      { name: 'hello', version: '1.0-r0', depends: ['so:libc.musl-x86_64.so.1'], files: { 'usr/bin/hello': '#!/bin/sh\necho hello\n' } },
      { name: 'extra', version: '0.1-r0', depends: ['hello'] },
    ],
  }, key);
  const oracle = await freshRoot('oracle-v3');
  const repos = join(tmp, 'repositories-v3');
  await writeFile(repos, `v3 ${repo.dir}\n`);
  await run(await apkBinary(3), ['--root', oracle, '--initdb', '--no-interactive', '--quiet', '--repositories-file', repos, 'add', 'hello']);
  // pinget reads no v3 index: the lockfile names what apk installed, with the served files' hashes
  const chosen = repo.packages.filter((p) => p.name !== 'extra');
  const lockfile = join(tmp, 'SHA256SUMS-v3');
  await writeFile(lockfile, ['# pinget lockfile v1', '# distro: alpine 3.20.3 x86_64', '# snapshot: 2024-05-01T12:00:00Z', ...chosen.map((p) => `${p.sha256}  v3.20/main/x86_64/${p.fileName}`), ''].join('\n'));
  const provider = ['--provider', `file://${join(tmp, 'srv3')}/{{.Name}}`];

  const root = await freshRoot('install-v3');
  await rm(join(root, 'etc/apk/repositories'));
  const res = await runCli(['install', lockfile, '--root', root, ...provider, '--cache', join(tmp, 'cache-v3')], { env: { ...env, PATH: `${await apkPathDir(3, tmp)}:${process.env.PATH}` } });
  assert.equal(res.code, 0, res.stderr);
  const nameVersionArch = async (r: string) => (await installedSet(r)).map((l) => l.split(' ').slice(0, 3).join(' '));
  assert.deepEqual(await nameVersionArch(root), await nameVersionArch(oracle));
  // apk 3 records a v3 package added by name with the index's hash (sha256-160 of its ADB block) as C:, and one
  // added from a file with the package's own unique-id: the C: lines are those of apk 3's own `apk add <files>`
  const byFile = await freshRoot('oracle-v3-files');
  await run(await apkBinary(3), ['--root', byFile, '--initdb', '--no-interactive', '--quiet', 'add', ...chosen.map((p) => p.path)]);
  assert.deepEqual(await installedSet(root), await installedSet(byFile));
  const own = (r: string) => Object.fromEntries(Object.entries(filesOf(r)).filter(([p]) => /^(usr|lib)\//.test(p) && !p.startsWith('lib/apk')));
  assert.deepEqual(own(root), own(oracle));

  const old = await freshRoot('install-v3-apk2');
  const before = treeDigest(old);
  const refused = await runCli(['install', lockfile, '--root', old, ...provider, '--cache', join(tmp, 'cache-v3-apk2')], { env: { ...env, PATH: `${await apkPathDir(2, tmp)}:${process.env.PATH}` } });
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stderr, /^pinget: v3\.20\/main\/x86_64\/\S+\.apk is an apk v3 package, which apk-tools 2 cannot install; install apk-tools 3/m);
  assert.equal(treeDigest(old), before, 'apk 2 never ran');
});

test('hostile: another package under a pinned path is exit 3 before apk runs; garbage is exit 3; no apk on PATH is exit 4 naming apk-tools', async () => {
  const good = parseLockfile(await readFile(join(tmp, 'SHA256SUMS-2'), 'utf8'));
  const musl = pkgs.find((p) => p.spec.name === 'musl')!;
  const mirror = join(tmp, 'liar');
  await mkdir(join(mirror, 'v3.20/main/x86_64'), { recursive: true });
  for (const p of pkgs) await writeFile(join(mirror, 'v3.20/main/x86_64', p.fileName), p.bytes);
  // libfoo's path holds musl's bytes, and the lockfile pins exactly those bytes: every hash matches
  await writeFile(join(mirror, 'v3.20/main/x86_64/libfoo-2.0-r1.apk'), musl.bytes);
  const lie = (sha: string) => good.entries.map((e) => `${e.path.includes('libfoo') ? sha : e.sha256}  ${e.path}`).join('\n') + '\n';
  const liar = join(tmp, 'SHA256SUMS-liar');
  await writeFile(liar, lie(musl.sha256));
  const path = `${await apkPathDir(2, tmp)}:${process.env.PATH}`;
  const provider = ['--provider', `file://${mirror}/{{.Name}}`];

  const root = await freshRoot('hostile');
  const before = treeDigest(root);
  const res = await runCli(['install', liar, '--root', root, ...provider, '--cache', join(tmp, 'cache-liar')], { env: { ...env, PATH: path } });
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /^pinget: v3\.20\/main\/x86_64\/libfoo-2\.0-r1\.apk: the file is the package musl-1\.2\.5-r0, not the one its path names; refusing to install it$/m);
  assert.equal(treeDigest(root), before, 'the root is unchanged: apk never ran');

  const garbage = Buffer.from('not a package at all\n');
  await writeFile(join(mirror, 'v3.20/main/x86_64/libfoo-2.0-r1.apk'), garbage);
  await writeFile(liar, lie(createHash('sha256').update(garbage).digest('hex')));
  const bad = await runCli(['install', liar, '--root', root, ...provider, '--cache', join(tmp, 'cache-garbage')], { env: { ...env, PATH: path } });
  assert.equal(bad.code, 3, bad.stderr);
  assert.match(bad.stderr, /libfoo-2\.0-r1\.apk: not an apk package \(.*\); refusing to install it/);
  assert.equal(treeDigest(root), before);

  const empty = await mkdtemp(join(tmp, 'no-apk-'));
  const missing = await runCli(['install', join(tmp, 'SHA256SUMS-2'), '--root', root, '--cache', join(tmp, 'cache-missing')], { env: { ...env, PATH: empty } });
  assert.equal(missing.code, 4, missing.stderr);
  assert.match(missing.stderr, /^pinget: apk is not installed: apk-tools is needed to install Alpine packages/m);
  assert.equal(treeDigest(root), before);
});

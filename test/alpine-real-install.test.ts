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
  });
}

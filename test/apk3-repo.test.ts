/** The v3 repository helper, checked by the real apk 3: signatures verify, and `apk add` resolves through it. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeSigningKey } from './helpers/apk-repo.js';
import { apk3Binary, buildApk3Repo, type Apk3Repo, type Apk3RepoSpec } from './helpers/apk3-repo.js';

const run = promisify(execFile);
let tmp: string;
let repo: Apk3Repo;
const key = makeSigningKey('apk3-test.rsa.pub');
const spec: Apk3RepoSpec = {
  arch: 'x86_64',
  packages: [
    { name: 'musl', version: '1.2.5-r0', provides: ['so:libc.musl-x86_64.so.1=1'], files: { 'lib/ld-musl-x86_64.so.1': 'musl\n' } },
    { name: 'libfoo', version: '2.0-r1', depends: ['so:libc.musl-x86_64.so.1'], provides: ['so:libfoo.so.2=2.0'], files: { 'usr/lib/libfoo.so.2': 'foo\n' } },
    { name: 'hello', version: '1.0-r0', depends: ['so:libfoo.so.2', 'hello-doc-any'], files: { 'usr/bin/hello': '#!/bin/sh\necho hello\n' } },
    { name: 'hello-doc', version: '1.0-r0', arch: 'noarch', provides: ['hello-doc-any'], providerPriority: 10, files: { 'usr/share/doc/hello/README': 'doc\n' } },
  ],
};

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-apk3-repo-'));
  repo = await buildApk3Repo(join(tmp, 'repo'), spec, key);
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('apk 3 verifies the packages and the index with the key, and calls them untrusted without it', async () => {
  const apk = await apk3Binary();
  assert.deepEqual(repo.packages.map((p) => p.fileName), ['musl-1.2.5-r0.apk', 'libfoo-2.0-r1.apk', 'hello-1.0-r0.apk', 'hello-doc-1.0-r0.apk']);
  const files = [repo.index, ...repo.packages.map((p) => p.path)];
  const ok = await run(apk, ['--keys-dir', repo.keysDir, 'verify', ...files]);
  assert.equal(ok.stdout.split('\n').filter((l) => l.endsWith(': OK')).length, files.length, ok.stdout);
  const empty = join(tmp, 'no-keys');
  await mkdir(empty);
  await assert.rejects(run(apk, ['--keys-dir', empty, 'verify', repo.index]), (e: { stdout?: string }) => /UNTRUSTED/.test(e.stdout ?? ''));
});

test('apk 3 add into a fresh root resolves the chain and the virtual provide from the index', async () => {
  const root = join(tmp, 'root');
  await mkdir(join(root, 'etc/apk'), { recursive: true });
  await writeFile(join(root, 'etc/apk/arch'), 'x86_64\n');
  const repos = join(tmp, 'repositories');
  await writeFile(repos, `v3 ${repo.dir}\n`);
  await run(await apk3Binary(), ['--root', root, '--initdb', '--keys-dir', repo.keysDir, '--repositories-file', repos, '--no-cache', '--quiet', 'add', 'hello']);
  const installed = await readFile(join(root, 'lib/apk/db/installed'), 'utf8');
  const names = [...installed.matchAll(/^P:(.+)$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(names, ['hello', 'hello-doc', 'libfoo', 'musl']);
  assert.equal(await readFile(join(root, 'usr/lib/libfoo.so.2'), 'utf8'), 'foo\n');
});

test('the same specs and key give the same bytes', async () => {
  const again = await buildApk3Repo(join(tmp, 'again'), spec, key);
  assert.deepEqual(again.packages.map((p) => p.sha256), repo.packages.map((p) => p.sha256));
  assert.deepEqual(await readFile(again.index), await readFile(repo.index));
});

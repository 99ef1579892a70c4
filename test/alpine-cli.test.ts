/** End to end through the CLI: hash generate, hash verify, download and install on an Alpine root served on 127.0.0.1. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLockfile } from '../src/lockfile.js';
import { buildApk, buildApkIndex, makeAlpineRoot, makeSigningKey, resign, sha256, writeRepository, type BuiltApk } from './helpers/apk-repo.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { runCli } from './helpers/cli.js';
import { apkBuildHint, apkPathDir } from './helpers/real-apk.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';

let tmp: string;
let server: TestServer;
let root: string;
let pkgs: BuiltApk[];
const env = { SOURCE_DATE_EPOCH: '1714564800' };

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-alpine-cli-'));
  const key = makeSigningKey('alpine-test.rsa.pub');
  pkgs = [await buildApk({ name: 'musl', version: '1.2.5-r0' }, key), await buildApk({ name: 'hello', version: '2.12.1-r0' }, key)];
  await writeRepository(join(tmp, 'srv'), 'alpine/v3.20', 'main', 'x86_64', pkgs, await buildApkIndex(pkgs, key));
  server = await serveDirectory(join(tmp, 'srv'));
  root = join(tmp, 'root');
  await makeAlpineRoot(root, { repositories: [`${server.url}/alpine/v3.20/main`], installed: pkgs, keys: [key] });
});

after(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

test('hash generate --root, hash verify, download: the lockfile pins the served bytes', async () => {
  const gen = await runCli(['hash', 'generate', '--root', root, '-o', join(tmp, 'SHA256SUMS')], { env });
  assert.equal(gen.code, 0, gen.stderr);
  const text = await readFile(join(tmp, 'SHA256SUMS'), 'utf8');
  const lock = parseLockfile(text);
  assert.equal(lock.headers.distro, 'alpine 3.20.3 x86_64');
  assert.equal(lock.headers.snapshot, '2024-05-01T12:00:00Z');
  assert.match(lock.headers['apk-identity'], /^hello-2\.12\.1-r0\.apk=Q1\S+ musl-1\.2\.5-r0\.apk=Q1\S+$/);
  assert.deepEqual(lock.entries, [
    { sha256: pkgs[1].sha256, path: 'v3.20/main/x86_64/hello-2.12.1-r0.apk' },
    { sha256: pkgs[0].sha256, path: 'v3.20/main/x86_64/musl-1.2.5-r0.apk' },
  ]);

  const verify = await runCli(['hash', 'verify', join(tmp, 'SHA256SUMS'), '--root', root]);
  assert.equal(verify.code, 0, verify.stderr + verify.stdout);

  const out = join(tmp, 'out');
  const dl = await runCli(['download', join(tmp, 'SHA256SUMS'), '--distro', 'alpine', '-o', out, '--provider', `${server.url}/alpine/{{.Name}}`, '--cache', join(tmp, 'cache')]);
  assert.equal(dl.code, 0, dl.stderr);
  assert.equal(sha256(await readFile(join(out, 'v3.20/main/x86_64/hello-2.12.1-r0.apk'))), pkgs[1].sha256);
});

test('download accepts a re-signed package whose segments are the pinned ones, and says so; another package is exit 3', async () => {
  const lockfile = join(tmp, 'SHA256SUMS');
  const gen = await runCli(['hash', 'generate', '--root', root, '-o', lockfile], { env });
  assert.equal(gen.code, 0, gen.stderr);
  const mirror = join(tmp, 'resigned');
  const path = 'v3.20/main/x86_64/hello-2.12.1-r0.apk';
  await mkdir(join(mirror, 'v3.20/main/x86_64'), { recursive: true });
  const resigned = await resign(pkgs[1], makeSigningKey('alpine-resign.rsa.pub'));
  assert.notEqual(sha256(resigned), pkgs[1].sha256);
  await writeFile(join(mirror, path), resigned);
  await writeFile(join(mirror, 'v3.20/main/x86_64/musl-1.2.5-r0.apk'), pkgs[0].bytes);
  const res = await runCli(['download', lockfile, '--distro', 'alpine', '-o', join(tmp, 'out-resigned'), '--provider', `file://${mirror}/{{.Name}}`, '--cache', join(tmp, 'cache-resigned'), '--json']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /hello-2\.12\.1-r0\.apk: accepted a re-signed file .*control and data segments are the pinned ones/);
  assert.deepEqual(await readFile(join(tmp, 'out-resigned', path)), resigned);

  // Another package's bytes under the pinned name: neither the hash nor the identity match.
  await writeFile(join(mirror, path), pkgs[0].bytes);
  const bad = await runCli(['download', lockfile, '--distro', 'alpine', '-o', join(tmp, 'out-bad'), '--provider', `file://${mirror}/{{.Name}}`, '--cache', join(tmp, 'cache-bad')]);
  assert.equal(bad.code, 3, bad.stderr);
  assert.match(bad.stderr, /not a re-signed copy of the pinned package/);
});

test('install into an empty Alpine root with the real apk 2 (apk add --no-network --allow-untrusted)', async () => {
  const pathDir = await apkPathDir(2, tmp);
  assert.ok(pathDir, apkBuildHint);
  const lockfile = join(tmp, 'SHA256SUMS');
  const fresh = join(tmp, 'fresh');
  await makeAlpineRoot(fresh, { repositories: [], installed: [] });
  const res = await runCli(['install', lockfile, '--root', fresh, '--allow-unsigned', '--provider', `${server.url}/alpine/{{.Name}}`, '--cache', join(tmp, 'cache2')], {
    env: { PATH: `${pathDir}:${process.env.PATH}` },
  });
  assert.equal(res.code, 0, res.stderr);
  const db = await readFile(join(fresh, 'lib/apk/db/installed'), 'utf8');
  assert.deepEqual([...db.matchAll(/^P:(.*)\nV:(.*)$/gm)].map((m) => `${m[1]}-${m[2]}`).sort(), ['hello-2.12.1-r0', 'musl-1.2.5-r0']);
  assert.equal(await readFile(join(fresh, 'usr/share/hello/README'), 'utf8'), 'hello 2.12.1-r0\n');
});

/**
 * hash generate for an Alpine root whose installed version no repository index has (Alpine keeps no
 * archive): a `file://` provider in the lockfile layout offers a candidate, pinned only when its control
 * segment has the installed `C:` identity; another build at that path is exit 3 and never printed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseLockfile } from '../src/lockfile.js';
import { pathTemplates } from '../distros/alpine/provider-evidence.js';
import { buildApk, buildApkIndex, makeAlpineRoot, makeSigningKey, writeRepository, type BuiltApk } from './helpers/apk-repo.js';
import { runCli } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';

const PATH = 'v3.20/main/x86_64/hello-2.12.0-r0.apk';
let tmp: string;
let server: TestServer;
let root: string;
let musl: BuiltApk;
let old: BuiltApk;
let other: BuiltApk;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-alpine-providers-'));
  const key = makeSigningKey('alpine-test.rsa.pub');
  musl = await buildApk({ name: 'musl', version: '1.2.5-r0' }, key);
  old = await buildApk({ name: 'hello', version: '2.12.0-r0' }, key);
  const current = await buildApk({ name: 'hello', version: '2.12.1-r0' }, key);
  // The repository has moved on to 2.12.1; the root still has 2.12.0 installed.
  await writeRepository(join(tmp, 'srv'), 'alpine/v3.20', 'main', 'x86_64', [musl, current], await buildApkIndex([musl, current], key));
  server = await serveDirectory(join(tmp, 'srv'));
  root = join(tmp, 'root');
  await makeAlpineRoot(root, { repositories: [`${server.url}/alpine/v3.20/main`], installed: [musl, old], keys: [key] });
  await mkdir(join(tmp, 'kept', 'v3.20/main/x86_64'), { recursive: true });
  await writeFile(join(tmp, 'kept', PATH), old.bytes);
  other = await buildApk({ name: 'hello', version: '2.12.0-r0', description: 'another build' }, key);
  await mkdir(join(tmp, 'other', 'v3.20/main/x86_64'), { recursive: true });
  await writeFile(join(tmp, 'other', PATH), other.bytes);
});

after(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

const provider = (dir: string) => `${pathToFileURL(join(tmp, dir)).href}/{{.Name}}`;
const generate = (...extra: string[]) => runCli(['hash', 'generate', '--root', root, ...extra], { env: { SOURCE_DATE_EPOCH: '1714564800' } });

test('a version no index has is pinned from a file:// provider by its C: identity', async () => {
  const res = await generate('--provider-append', provider('kept'));
  assert.equal(res.code, 0, res.stderr);
  const lock = parseLockfile(res.stdout);
  assert.deepEqual(lock.entries, [
    { sha256: old.sha256, path: PATH },
    { sha256: musl.sha256, path: 'v3.20/main/x86_64/musl-1.2.5-r0.apk' },
  ]);
  assert.match(lock.headers['apk-identity'], new RegExp(`hello-2\\.12\\.0-r0\\.apk=${old.identity.replace(/[+/]/g, '\\$&')}`));
  assert.match(res.stderr, /1 installed package\(s\) are in no repository index; asking file:/);
});

test('no provider: exit 2 naming it, with the hint that Alpine keeps no archive', async () => {
  const res = await generate();
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /hello-2\.12\.0-r0/);
  assert.match(res.stderr, /Alpine keeps no archive of old versions/);
});

test('another build at that path (other control identity): exit 3, its hash nowhere', async () => {
  const res = await generate('--provider-append', provider('other'));
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /hello-2\.12\.0-r0: .*control identity Q1\S+ is not the installed C:/);
  assert.equal(res.stdout, '');
  assert.notEqual(other.identity, old.identity);
  assert.ok(!res.stderr.includes(other.sha256));
});

test('only templates that can be asked by path; --offline keeps the local ones', () => {
  const t = ['file:///x/{{.Name}}', 'https://m/{{.Name}}', 'https://m/{{.SHA256}}', 'oci://r/p', 'ipfs://', 'https://gw/ipfs/{{.CID}}'];
  assert.deepEqual(pathTemplates(t, false), ['file:///x/{{.Name}}', 'https://m/{{.Name}}']);
  assert.deepEqual(pathTemplates(t, true), ['file:///x/{{.Name}}']);
});

/**
 * `hash generate` for Alpine against a root and repositories built in the real formats, served on 127.0.0.1:
 * pins installed packages from the apk cache or the repository, checks the C: identity, checks index signatures.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alpineAdapter } from '../distros/alpine/index.js';
import { generateAlpine } from '../distros/alpine/generate.js';
import { identityFor, parseIdentityHeader } from '../distros/alpine/identity-header.js';
import { cacheIndexName, cachePackageName } from '../distros/alpine/repositories.js';
import type { Logger } from '../src/ui/log.js';
import { PingetError } from '../src/errors.js';
import { closeHttp } from '../src/fetch/http-client.js';
import { buildApk, buildApkIndex, makeAlpineRoot, makeSigningKey, writeRepository, type BuiltApk, type SigningKey } from './helpers/apk-repo.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => {}, verbose: () => {}, warn: (m: string) => warnings.push(m) };
}

let tmp: string;
let server: TestServer;
let key: SigningKey;
let musl: BuiltApk, zlib: BuiltApk, data: BuiltApk, nano: BuiltApk;
let mainIndex: Buffer;
let mainUrl: string, communityUrl: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-alpine-gen-'));
  key = makeSigningKey('alpine-test-61a0b3f8.rsa.pub');
  musl = await buildApk({ name: 'musl', version: '1.2.5-r0' }, key);
  zlib = await buildApk({ name: 'zlib', version: '1.3.1-r1' }, key);
  data = await buildApk({ name: 'alpine-baselayout-data', version: '3.6.5-r0', arch: 'noarch' }, key);
  nano = await buildApk({ name: 'nano', version: '8.0-r0' }, key);
  const srv = join(tmp, 'srv');
  mainIndex = await buildApkIndex([musl, zlib, data], key, new Date('2024-05-01T12:00:00Z'));
  await writeRepository(srv, 'alpine/v3.20', 'main', 'x86_64', [musl, zlib, data], mainIndex);
  await writeRepository(srv, 'alpine/v3.20', 'community', 'x86_64', [nano], await buildApkIndex([nano], key, new Date('2024-06-02T08:30:00Z')));
  server = await serveDirectory(srv);
  mainUrl = `${server.url}/alpine/v3.20/main`;
  communityUrl = `${server.url}/alpine/v3.20/community`;
});

after(async () => {
  await closeHttp();
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function root(name: string, extra: Partial<Parameters<typeof makeAlpineRoot>[1]> = {}): Promise<string> {
  const dir = join(tmp, name);
  await makeAlpineRoot(dir, {
    repositories: [mainUrl, communityUrl],
    installed: [musl, zlib, data, nano],
    keys: [key],
    // main's index and musl are in apk's cache under apk's names; zlib, nano and community's index are not
    cache: { [cacheIndexName({ written: mainUrl, url: mainUrl }, 'x86_64', 'sha1-index-url')]: mainIndex, [cachePackageName('musl', musl.spec.version, musl.identity)]: musl.bytes },
    ...extra,
  });
  return dir;
}

test('generate pins every installed package: cache first, else the repository; headers; C: identities', async () => {
  const r = await root('r1');
  const info = await alpineAdapter.detect(r);
  assert.deepEqual(info, { id: 'alpine', osId: 'alpine', idLike: [], versionId: '3.20.3', prettyName: 'Alpine Linux v3.20', arch: 'x86_64' });
  server.requests.length = 0;
  const log = recorder();
  const res = await generateAlpine(r, info!, { log }, { env: {} });
  assert.deepEqual(res.entries, [
    { sha256: musl.sha256, path: 'v3.20/main/x86_64/musl-1.2.5-r0.apk' },
    { sha256: zlib.sha256, path: 'v3.20/main/x86_64/zlib-1.3.1-r1.apk' },
    { sha256: data.sha256, path: 'v3.20/main/x86_64/alpine-baselayout-data-3.6.5-r0.apk' },
    { sha256: nano.sha256, path: 'v3.20/community/x86_64/nano-8.0-r0.apk' },
  ]);
  assert.equal(res.headers.distro, 'alpine 3.20.3 x86_64');
  assert.equal(res.headers.snapshot, '2024-06-02T08:30:00Z', 'the newest index date');
  const ids = parseIdentityHeader(res.headers['apk-identity']);
  for (const [p, apk] of [['v3.20/main/x86_64/musl-1.2.5-r0.apk', musl], ['v3.20/community/x86_64/nano-8.0-r0.apk', nano]] as const) {
    assert.equal(identityFor(ids, p), apk.identity);
  }
  assert.ok(!server.requests.some((p) => p.endsWith('musl-1.2.5-r0.apk')), 'musl came from the apk cache');
  assert.ok(server.requests.includes('alpine/v3.20/main/x86_64/zlib-1.3.1-r1.apk'));
  assert.ok(!server.requests.includes('alpine/v3.20/main/x86_64/APKINDEX.tar.gz'), "main's index came from the apk cache");
  assert.ok(server.requests.includes('alpine/v3.20/community/x86_64/APKINDEX.tar.gz'));
  assert.deepEqual(log.warnings, []);

  const again = await generateAlpine(r, info!, { log }, { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  assert.equal(again.headers.snapshot, '2023-11-14T22:13:20Z');
  assert.deepEqual(again.entries, res.entries, 'deterministic');

  const only = await generateAlpine(r, info!, { log, only: ['nano'] }, { env: {} });
  assert.deepEqual(only.entries.map((e) => e.path), ['v3.20/community/x86_64/nano-8.0-r0.apk']);
  await assert.rejects(generateAlpine(r, info!, { log, only: ['nope'] }), /not installed in .*: nope/);

  assert.deepEqual((await alpineAdapter.installed(r, info!)).find((p) => p.name === 'alpine-baselayout-data'), {
    name: 'alpine-baselayout-data',
    version: '3.6.5-r0',
    arch: 'x86_64',
  });
  assert.deepEqual(await alpineAdapter.providers(r, info!, {}), [
    { template: `${server.url}/alpine/{{.Name}}`, label: `repository ${mainUrl}` },
    { template: `file://${r}/etc/apk/cache/{{.Basename}}`, label: 'apk cache etc/apk/cache' },
    { template: `file://${r}/var/cache/apk/{{.Basename}}`, label: 'apk cache var/cache/apk' },
  ]);
});

test('the C: check: a cached file with another control segment is ignored; a served one is rejected', async () => {
  const impostor = await buildApk({ name: 'musl', version: '1.2.5-r0', files: { 'lib/evil': 'x' } }, key);
  const r = await root('r2', { cache: { [cacheIndexName({ written: mainUrl, url: mainUrl }, 'x86_64', 'sha1-index-url')]: mainIndex, 'musl-1.2.5-r0.apk': impostor.bytes } });
  const log = recorder();
  const res = await generateAlpine(r, (await alpineAdapter.detect(r))!, { log }, { env: {} });
  assert.equal(res.entries.find((e) => e.path.endsWith('musl-1.2.5-r0.apk'))?.sha256, musl.sha256, 'downloaded the real one');
  assert.equal(log.warnings.length, 1);
  assert.match(log.warnings[0], /musl-1\.2\.5-r0\.apk: control identity Q1.* is not the installed musl-1\.2\.5-r0 .*; ignoring this cached file/);

  server.setHook((_req, res, rel) => {
    if (rel !== 'alpine/v3.20/main/x86_64/zlib-1.3.1-r1.apk') return false;
    res.writeHead(200).end(impostor.bytes);
    return true;
  });
  try {
    await assert.rejects(generateAlpine(r, (await alpineAdapter.detect(r))!, { log }, { env: {} }), (e: unknown) => {
      assert.ok(e instanceof PingetError);
      assert.equal(e.code, 'INTEGRITY');
      assert.match(e.message, /zlib-1\.3\.1-r1\.apk: control identity .* does not match the installed database's C:Q1.*this file is not the installed package/);
      return true;
    });
  } finally {
    server.setHook(undefined);
  }
});

test('index signatures: an unknown key is an INTEGRITY error; --allow-unsigned skips the check', async () => {
  const stranger = makeSigningKey('stranger.rsa.pub');
  const r = await root('r3', { keys: [stranger] });
  const info = (await alpineAdapter.detect(r))!;
  await assert.rejects(generateAlpine(r, info, { log: recorder() }, { env: {} }), (e: unknown) => {
    assert.ok(e instanceof PingetError && e.code === 'INTEGRITY');
    assert.match(e.message, /APKINDEX\.[0-9a-f]{8}\.tar\.gz: signature check failed: alpine-test-61a0b3f8\.rsa\.pub: no such key .*--allow-unsigned/);
    return true;
  });
  const res = await generateAlpine(r, info, { log: recorder(), allowUnsigned: true }, { env: {} });
  assert.equal(res.entries.length, 4);
});

test('a package in no index, and a root without an apk database, are clear errors', async () => {
  const orphan = await buildApk({ name: 'local-only', version: '1-r0' }, key);
  const r = await root('r4', { installed: [musl, orphan] });
  await assert.rejects(generateAlpine(r, (await alpineAdapter.detect(r))!, { log: recorder() }, { env: {} }), /1 installed package\(s\) cannot be pinned: local-only-1-r0; run apk update in the root/);
  const empty = join(tmp, 'empty');
  await assert.rejects(generateAlpine(empty, { id: 'alpine', osId: 'alpine', idLike: [] }, { log: recorder() }), /lib\/apk\/db\/installed: no apk database/);
});

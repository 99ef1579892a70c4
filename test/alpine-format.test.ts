/** Pure parsers of the Alpine adapter, on fixtures in the real formats and on packages built in the real format. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseApkDb } from '../distros/alpine/apk-db.js';
import { parseApk, identityOf } from '../distros/alpine/apk-file.js';
import { parseApkIndex } from '../distros/alpine/apkindex.js';
import { readGzipMembers } from '../distros/alpine/gzip-members.js';
import { formatIdentityHeader, identityFor, parseIdentityHeader } from '../distros/alpine/identity-header.js';
import { apkAddArgs } from '../distros/alpine/install.js';
import { apkPath, inspectApkPath } from '../distros/alpine/paths.js';
import { cacheIndexName, cacheIndexNames, cacheNamingOf, cachePackageName, parseRepositories } from '../distros/alpine/repositories.js';
import { checkSignatures } from '../distros/alpine/signature.js';
import { pkgInfoValue } from '../distros/alpine/pkginfo.js';
import { createPublicKey } from 'node:crypto';
import { buildApk, buildApkIndex, makeSigningKey, sha256 } from './helpers/apk-repo.js';
import { REPO_ROOT } from './helpers/cli.js';

const DATA = join(REPO_ROOT, 'testdata', 'alpine');

test('installed db: records with F/R/a/M/Z lines, noarch, no trailing newline', async () => {
  const recs = parseApkDb(await readFile(join(DATA, 'installed'), 'utf8'), 'installed');
  assert.deepEqual(
    recs.map((r) => [r.name, r.version, r.arch, r.identity, r.line]),
    [
      ['musl', '1.2.5-r0', 'x86_64', 'Q1/fKf8ZmmSEXl0H7jsDY0Ab5umRo=', 1],
      ['busybox', '1.36.1-r29', 'x86_64', 'Q1Jz5Q2VBAmGK2S6QuGqVRfM4s+1g=', 22],
      ['alpine-baselayout-data', '3.6.5-r0', 'noarch', 'Q1e0GbdQuoBqkK0hg1a8V2Bdru8P0=', 43],
    ],
  );
});

test('installed db: CRLF is read; a record without V: and a line that is not X:value are errors naming the line', () => {
  assert.equal(parseApkDb('P:a\r\nV:1-r0\r\nC:Q1x\r\n', 'f')[0].version, '1-r0');
  assert.throws(() => parseApkDb('P:a\nA:x86_64\n\nP:b\nV:1-r0\n', 'db'), /db:1: package record without V:/);
  assert.throws(() => parseApkDb('P:a\nV:1-r0\nbogus line\n', 'db'), /db:3: expected "X:value"/);
});

test('repositories: comments, CRLF, trailing slash, @tag, local path', async () => {
  const repos = parseRepositories(await readFile(join(DATA, 'repositories'), 'utf8'), 'repositories');
  assert.deepEqual(
    repos.map((r) => [r.url, r.base, r.branch, r.repo, r.tag, r.line]),
    [
      ['https://mirror.example.invalid/alpine/v3.20/main', 'https://mirror.example.invalid/alpine', 'v3.20', 'main', undefined, 2],
      ['https://mirror.example.invalid/alpine/v3.20/community', 'https://mirror.example.invalid/alpine', 'v3.20', 'community', undefined, 3],
      ['https://mirror.example.invalid/alpine/edge/testing', 'https://mirror.example.invalid/alpine', 'edge', 'testing', 'edge-testing', 5],
      ['/media/cdrom/apks', '/media', 'cdrom', 'apks', undefined, 6],
    ],
  );
  assert.throws(() => parseRepositories('https://a b\n', 'r'), /r:1: expected one repository URL per line/);
  // apk-tools 3's typed lines: v2 is the classic kind, v3/ndx/.adb are Packages.adb indexes pinget cannot read
  assert.equal(parseRepositories('v2 https://m/alpine/edge/main\n', 'r')[0].url, 'https://m/alpine/edge/main');
  assert.throws(() => parseRepositories('v3 https://m/alpine/edge/main\n', 'r'), /r:1: .*apk v3 repository \(Packages\.adb index\)/);
  assert.throws(() => parseRepositories('https://m/alpine/edge/main/x86_64/Packages.adb\n', 'r'), /apk v3 repository/);
  // lock reads them (apk-tools 3 repoparser.c: keyword, then @tag; a bare URL ending in .adb is an ndx one)
  const v3 = parseRepositories('v3 @edge https://m/alpine/edge/main/\nndx https://m/alpine/edge/community/x86_64/Packages.adb\nhttps://m/a/b/c/Packages.adb\n', 'r', { v3: true });
  assert.deepEqual(v3.map((r) => [r.kind, r.tag, r.url, r.base, r.branch, r.repo]), [
    ['v3', 'edge', 'https://m/alpine/edge/main', 'https://m/alpine', 'edge', 'main'],
    ['ndx', undefined, 'https://m/alpine/edge/community/x86_64/Packages.adb', 'https://m/alpine/edge', 'community', 'x86_64'],
    ['ndx', undefined, 'https://m/a/b/c/Packages.adb', 'https://m/a', 'b', 'c'],
  ]);
});

test('apk cache names: every apk-tools generation, and 8 hex of the identity for packages', () => {
  // Expected values computed independently: printf '<string>' | sha1sum (or sha256sum) | cut -c1-8
  const [repo] = parseRepositories('http://x/alpine/v3.20/main\n', 'r');
  const [slash] = parseRepositories('@edge http://x/alpine/v3.20/main/\n', 'r');
  // before apk-tools 2.14.1 (and 2.12.12): sha1 of the repository line as written
  assert.equal(cacheIndexName(repo, 'x86_64', 'sha1-repository'), 'APKINDEX.2ed8a2f2.tar.gz');
  assert.equal(cacheIndexName(slash, 'x86_64', 'sha1-repository'), 'APKINDEX.cda170ee.tar.gz');
  // 2.14.1+: sha1 of "<repository>/<arch>/APKINDEX.tar.gz", one slash whether or not the line ends in one
  assert.equal(cacheIndexName(repo, 'x86_64', 'sha1-index-url'), 'APKINDEX.cf8219f0.tar.gz');
  assert.equal(cacheIndexName(slash, 'x86_64', 'sha1-index-url'), 'APKINDEX.cf8219f0.tar.gz');
  // apk-tools 3: sha256 of the same URL
  assert.equal(cacheIndexName(repo, 'x86_64', 'sha256-index-url'), 'APKINDEX.aaa88f54.tar.gz');
  assert.deepEqual(cacheIndexNames(repo, 'x86_64'), ['APKINDEX.cf8219f0.tar.gz', 'APKINDEX.aaa88f54.tar.gz', 'APKINDEX.2ed8a2f2.tar.gz']);
  assert.deepEqual(cacheIndexNames(repo, 'x86_64', '2.12.10-r0')[0], 'APKINDEX.2ed8a2f2.tar.gz');
  assert.deepEqual(cacheIndexNames(repo, 'x86_64', '3.0.1-r1')[0], 'APKINDEX.aaa88f54.tar.gz');
  assert.deepEqual(
    ['2.10.8-r0', '2.12.11-r0', '2.12.12-r0', '2.14.0-r5', '2.14.1-r0', '2.14.4-r1', '3.0.0-r0', 'x'].map(cacheNamingOf),
    ['sha1-repository', 'sha1-repository', 'sha1-index-url', 'sha1-repository', 'sha1-index-url', 'sha1-index-url', 'sha256-index-url', undefined],
  );
  assert.equal(cachePackageName('musl', '1.2.5-r0', 'Q1' + Buffer.from('0123456789abcdefghij').toString('base64')), 'musl-1.2.5-r0.30313233.apk');
});

test('lockfile paths: round trip and rejection of non-apk paths', () => {
  const p = apkPath('v3.20', 'main', 'x86_64', 'py3-foo-bar', '1.2.3_git20240101-r12');
  assert.equal(p, 'v3.20/main/x86_64/py3-foo-bar-1.2.3_git20240101-r12.apk');
  assert.deepEqual(inspectApkPath(p), { branch: 'v3.20', repo: 'main', arch: 'x86_64', name: 'py3-foo-bar', version: '1.2.3_git20240101-r12' });
  assert.equal(inspectApkPath('pool/main/h/hello/hello_2.10-2_amd64.deb'), undefined);
  assert.equal(inspectApkPath('v3.20/main/x86_64/foo-1.0.apk'), undefined, 'no -r<N>');
});

test('identity header: compact map round trip; a shared basename keeps its full path; malformed pairs rejected', () => {
  const a = 'Q1' + 'A'.repeat(27) + '=';
  const b = 'Q1' + 'B'.repeat(27) + '=';
  const c = 'Q1' + 'C'.repeat(27) + '=';
  const m = new Map([
    ['v3.20/main/x86_64/zlib-1.3.1-r1.apk', a],
    ['v3.20/main/x86_64/dup-1-r0.apk', b],
    ['v3.20/community/x86_64/dup-1-r0.apk', c],
  ]);
  const text = formatIdentityHeader(m);
  assert.equal(text, `v3.20/community/x86_64/dup-1-r0.apk=${c} v3.20/main/x86_64/dup-1-r0.apk=${b} zlib-1.3.1-r1.apk=${a}`);
  const parsed = parseIdentityHeader(text);
  for (const [path, id] of m) assert.equal(identityFor(parsed, path), id);
  assert.throws(() => parseIdentityHeader('foo.apk=Q1short'), /not <file>=Q1/);
});

test('gzip members: exact byte ranges of concatenated members; a corrupt member is an error', () => {
  const a = gzipSync(Buffer.from('first'));
  const b = gzipSync(Buffer.from('second member'));
  const members = readGzipMembers(Buffer.concat([a, b]));
  assert.deepEqual(members.map((m) => [m.start, m.end, m.content.toString()]), [
    [0, a.length, 'first'],
    [a.length, a.length + b.length, 'second member'],
  ]);
  const bad = Buffer.concat([a, b]);
  bad[a.length + b.length - 6] ^= 0xff; // the CRC of the second member
  assert.throws(() => readGzipMembers(bad), /CRC mismatch in the gzip member at byte/);
});

test('parseApk: identity is SHA-1 of the control member, datahash is sha256 of the data member', async () => {
  const key = makeSigningKey('test-1.rsa.pub');
  const apk = await buildApk({ name: 'hello', version: '2.12-r0' }, key);
  const parts = await parseApk(apk.bytes);
  assert.equal(parts.identity, apk.identity);
  assert.equal(parts.identity, identityOf(apk.control));
  assert.equal(parts.signatures.length, 1);
  assert.equal(parts.signatures[0].keyName, 'test-1.rsa.pub');
  assert.equal(pkgInfoValue(parts.pkginfo, 'pkgname'), 'hello');
  assert.equal(pkgInfoValue(parts.pkginfo, 'datahash'), sha256(apk.data));
  assert.equal(parts.dataStart, apk.bytes.length - apk.data.length);
  const keys = new Map([[key.name, createPublicKey(key.publicPem)]]);
  assert.equal(checkSignatures(parts.signatures, apk.control, keys).key, key.name);
  assert.match(checkSignatures(parts.signatures, apk.data, keys).reason!, /bad signature/);

  const unsigned = await buildApk({ name: 'hello', version: '2.12-r0' });
  assert.equal((await parseApk(unsigned.bytes)).identity, apk.identity, 'the signature is not part of the identity');
  await assert.rejects(parseApk(apk.control), /no data segment/);
  await assert.rejects(parseApk(apk.data), /neither a signature nor a control segment/);
});

test('APKINDEX.tar.gz: records, date, signature checked against the keys', async () => {
  const key = makeSigningKey('test-1.rsa.pub');
  const other = makeSigningKey('other.rsa.pub');
  const pkgs = [await buildApk({ name: 'a', version: '1-r0' }), await buildApk({ name: 'b', version: '2.0-r3', arch: 'noarch' })];
  const bytes = await buildApkIndex(pkgs, key, new Date('2024-06-01T00:00:00Z'));
  const keys = new Map([[key.name, createPublicKey(key.publicPem)]]);
  const idx = await parseApkIndex(bytes, 'APKINDEX.tar.gz', keys);
  assert.deepEqual(idx.records.map((r) => [r.name, r.version, r.arch, r.identity]), pkgs.map((p) => [p.spec.name, p.spec.version, p.spec.arch, p.identity]));
  assert.equal(idx.date?.toISOString(), '2024-06-01T00:00:00.000Z');
  assert.equal(idx.signedBy, key.name);
  const wrongKeys = new Map([[key.name, createPublicKey(other.publicPem)]]);
  await assert.rejects(parseApkIndex(bytes, 'X', wrongKeys), /X: signature check failed: test-1.rsa.pub: bad signature/);
  await assert.rejects(parseApkIndex(await buildApkIndex(pkgs, undefined), 'Y', keys), /Y: signature check failed: it is not signed/);
  assert.equal((await parseApkIndex(await buildApkIndex(pkgs, undefined), 'Y', undefined)).records.length, 2);
  // Only the installed names are built; the signature is still checked over the whole index.
  const kept = await parseApkIndex(bytes, 'APKINDEX.tar.gz', keys, (name) => name === 'b');
  assert.deepEqual(kept.records.map((r) => r.name), ['b']);
  await assert.rejects(parseApkIndex(bytes, 'X', wrongKeys, (name) => name === 'b'), /X: signature check failed/);
});

test('apk db records filtered by name are still checked, and line numbers stay right', () => {
  const text = 'P:a\nV:1-r0\n\nP:b\nV:2-r0\nC:Q1b\n\nP:c\nV:3-r0\n';
  assert.deepEqual(parseApkDb(text, 'idx', (n) => n !== 'a').map((r) => [r.name, r.line]), [['b', 4], ['c', 8]]);
  assert.throws(() => parseApkDb('P:a\nV:1\n\nP:skipped\n\n', 'idx', () => false), /idx:4: package record without V: \(ends at line 5\)/);
  assert.throws(() => parseApkDb('P:a\nV:1\nnot a line\n', 'idx', () => false), /idx:3: expected "X:value"/);
});

test('apk add command line', () => {
  assert.deepEqual(apkAddArgs('/', ['/t/a.apk'], false), ['add', '--no-network', '--no-interactive', '/t/a.apk']);
  assert.deepEqual(apkAddArgs('/mnt/r', ['/t/a.apk'], true), ['add', '--no-network', '--no-interactive', '--root', '/mnt/r', '--allow-untrusted', '/t/a.apk']);
  assert.deepEqual(apkAddArgs('/mnt/r', ['/t/a.apk'], false, true), ['add', '--no-network', '--no-interactive', '--root', '/mnt/r', '--initdb', '/t/a.apk']);
});

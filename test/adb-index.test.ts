/**
 * Packages.adb (apk 3's ADB index) as pinget reads it, against apk 3's own reading of the same file
 * (`apk adbdump`): a signed index built by the real `apk mkpkg` + `apk mkndx`. Each package's `hashes` is the
 * SHA-256 of its ADB block as pinget computes it from the package file. Cut, garbage and wrong-schema input
 * throw an Error naming what is wrong (the caller turns it into exit 3), never anything else.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSigningKey } from './helpers/apk-repo.js';
import { apk3Binary, buildApk3Repo, type Apk3Repo } from './helpers/apk3-repo.js';
import { packageRelPath, readAdbIndex } from '../distros/alpine/adb-index.js';
import { adbPackageIdentity } from '../distros/alpine/adb-package.js';
import { readFileSync } from 'node:fs';

let work: string;
let repo: Apk3Repo;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pinget-adb-index-'));
  repo = await buildApk3Repo(join(work, 'repo'), {
    arch: 'x86_64',
    description: 'test index',
    packages: [
      { name: 'alpha', version: '1.0-r0', depends: ['beta'], files: { 'usr/share/alpha/a': 'a\n'.repeat(1000) } },
      { name: 'beta', version: '2.1-r3', provides: ['so:libbeta.so.1=2'] },
      { name: 'doc', version: '7_git20240101-r1', arch: 'noarch' },
    ],
  }, makeSigningKey('adb-index-test.rsa.pub'));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** apk 3's own reading: name, version, hashes, arch, file-size per package of `apk adbdump`. */
async function adbdump(file: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(await apk3Binary(), ['adbdump', file], { env: { ...process.env, APK_CONFIG: '/dev/null' } });
  const out: string[] = [];
  let cur: Record<string, string> = {};
  const flush = () => {
    if (cur.name) out.push([cur.name, cur.version, cur.arch, cur.hashes, cur['file-size']].join(' '));
    cur = {};
  };
  for (const line of stdout.split('\n')) {
    const m = /^ {2}(- | {2})([a-z-]+): (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '- ') flush();
    cur[m[2]] = m[3];
  }
  flush();
  return out;
}

test('Packages.adb: the records apk 3 reads, each hashes the SHA-256 of that package file\'s ADB block', async () => {
  const bytes = readFileSync(repo.index);
  const ix = readAdbIndex(bytes);
  const ours = ix.records.map((r) => [r.name, r.version, r.arch, r.hash.toString('hex'), r.fileSize].join(' '));
  assert.deepEqual(ours, await adbdump(repo.index));
  assert.equal(ix.records.length, 3);
  assert.equal(ix.description, 'test index');
  // the noarch package makes the helper set a pkgname-spec in its arch directory
  assert.equal(ix.pkgnameSpec, 'x86_64/${name}-${version}.apk');
  for (const p of repo.packages) {
    const rec = ix.records.find((r) => r.name === p.name)!;
    assert.equal(adbPackageIdentity(p.bytes).toString('hex'), rec.hash.toString('hex'), p.name);
    assert.equal(rec.fileSize, p.bytes.length, p.name);
    assert.equal(packageRelPath(ix.pkgnameSpec!, rec), `x86_64/${p.fileName}`);
  }
  assert.throws(() => packageRelPath('${repo}/${name}.apk', ix.records[0]), /\$\{repo\} is not supported/);
});

test('Packages.adb: cut, garbage or a package in its place throw an Error saying so', () => {
  const bytes = readFileSync(repo.index);
  // cut inside the ADB block (a cut signature after it is apk verify's to refuse)
  for (const n of [0, 3, 4, 12, 40, 100]) {
    assert.throws(() => readAdbIndex(bytes.subarray(0, n)), (e: unknown) => e instanceof Error && e.message.length > 0, `cut at ${n}`);
  }
  assert.throws(() => readAdbIndex(Buffer.from('garbage\n')), /not an ADB file/);
  assert.throws(() => readAdbIndex(Buffer.from('ADB.indx\x00\x00\x00\x00')), /ADB|block|offset|object/);
  assert.throws(() => readAdbIndex(repo.packages[0].bytes), /schema pckg is not an index/);
});

/** Re-signing tolerance: a file with a new signature is accepted only when its control and data segments are the pinned ones. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { acceptResigned } from '../distros/alpine/index.js';
import { PingetError } from '../src/errors.js';
import { buildApk, makeSigningKey, resign, sha256, signatureMember, type BuiltApk, type SigningKey } from './helpers/apk-repo.js';

let tmp: string;
let old: SigningKey, fresh: SigningKey;
let apk: BuiltApk;
const PATH = 'v3.20/main/x86_64/zlib-1.3.1-r1.apk';

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-alpine-resign-'));
  old = makeSigningKey('old.rsa.pub');
  fresh = makeSigningKey('new.rsa.pub');
  apk = await buildApk({ name: 'zlib', version: '1.3.1-r1' }, old);
});
after(() => rm(tmp, { recursive: true, force: true }));

async function file(name: string, bytes: Buffer): Promise<string> {
  const f = join(tmp, name);
  await writeFile(f, bytes);
  return f;
}

async function rejected(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof PingetError, String(e));
    assert.equal(e.code, 'INTEGRITY');
    assert.match(e.message, re);
    return true;
  });
}

test('a re-signed file (new signature, same control and data) is accepted and said so', async () => {
  const resigned = await resign(apk, fresh);
  assert.notEqual(sha256(resigned), apk.sha256, 'the whole-file hash changed');
  const r = await acceptResigned(PATH, await file('resigned.apk', resigned), apk.identity);
  assert.equal(r.sha256, sha256(resigned));
  assert.equal(r.identity, apk.identity);
  assert.deepEqual(r.signers, ['new.rsa.pub']);
  assert.match(r.note, /zlib-1\.3\.1-r1\.apk: accepted a re-signed file .*signed by new\.rsa\.pub.*control and data segments are the pinned ones/);
});

test('a rebuilt package (another control segment) is rejected', async () => {
  const rebuilt = await buildApk({ name: 'zlib', version: '1.3.1-r1', files: { 'usr/lib/libz.so.1': 'other' } }, fresh);
  await rejected(acceptResigned(PATH, await file('rebuilt.apk', rebuilt.bytes), apk.identity), /its control segment is Q1.*, the lockfile pins Q1/);
});

test('the pinned control segment with swapped data is rejected', async () => {
  const other = await buildApk({ name: 'zlib', version: '1.3.1-r1', files: { 'usr/lib/libz.so.1': 'tampered' } });
  const forged = Buffer.concat([await signatureMember(fresh, apk.control), apk.control, other.data]);
  await rejected(acceptResigned(PATH, await file('forged.apk', forged), apk.identity), /its data segment has sha256 [0-9a-f]{64}, its \.PKGINFO says [0-9a-f]{64}/);
  const appended = Buffer.concat([apk.bytes, gzipSync(Buffer.from('extra'))]);
  await rejected(acceptResigned(PATH, await file('appended.apk', appended), apk.identity), /its data segment has sha256/);
});

test('a file that is not an apk, or names another package, is rejected', async () => {
  await rejected(acceptResigned(PATH, await file('junk.apk', Buffer.from('not a package')), apk.identity), /not an apk package/);
  await rejected(acceptResigned('v3.20/main/x86_64/zlib-9.9-r0.apk', await file('ok.apk', apk.bytes), apk.identity), /its \.PKGINFO names zlib-1\.3\.1-r1/);
});

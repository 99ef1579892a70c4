/**
 * hash generate for an Arch root whose installed version no sync database nor the cache dir has: a fake
 * Arch Linux Archive on 127.0.0.1 serves `packages/<l>/<name>/<file>` and its `.sig` (made by gpg with the
 * root's keyring key). Pinned with the verified file's sha256 in the archive layout; another build, or a
 * signature by a key the root does not trust, is exit 3 and its hash is never printed.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, unlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { replyWith, statusFor } from './helpers/hooks.js';
import { serveDirectory, type Hook, type TestServer } from './helpers/http-server.js';
import { runCli } from './helpers/cli.js';
import { buildPackage, makeKey, makeRoot, pacman, pkgFilename, repoAdd, signFile, tempDir, type TestKey, type TestPackage } from './helpers/pacman-repo.js';
import { parseLockfile } from '../src/lockfile.js';
import { parsePkginfo, pkginfoMismatch } from '../distros/arch/archive-evidence.js';

const REPO = 'pingettest';
const old: TestPackage = { name: 'gamma', version: '1:1.0-1', arch: 'x86_64', builddate: 1_700_200_000 };
const next: TestPackage = { name: 'gamma', version: '1:1.1-1', arch: 'x86_64', builddate: 1_700_300_000 };

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let work: string;
let key: TestKey;
let mirror: TestServer;
let ala: TestServer;
let root: string;
let oldFile: string;
let hook: Hook | undefined;

before(async () => {
  work = tempDir('arch-archive');
  key = makeKey(join(work, 'key'));
  const repoDir = join(work, 'www', REPO, 'os', 'x86_64');
  mkdirSync(repoDir, { recursive: true });
  oldFile = buildPackage(old, join(work, 'pool'), key);
  const nextFile = buildPackage(next, join(work, 'pool'), key);
  // The archive keeps every version with its signature.
  const dir = join(work, 'ala', 'packages', 'g', 'gamma');
  mkdirSync(dir, { recursive: true });
  for (const f of [oldFile, nextFile]) {
    copyFileSync(f, join(dir, f.split('/').pop()!));
    copyFileSync(`${f}.sig`, join(dir, `${f.split('/').pop()!}.sig`));
  }
  copyFileSync(oldFile, join(repoDir, pkgFilename(old)));
  copyFileSync(`${oldFile}.sig`, join(repoDir, `${pkgFilename(old)}.sig`));
  repoAdd(repoDir, REPO, [join(repoDir, pkgFilename(old))]);
  mirror = await serveDirectory(join(work, 'www'));
  ala = await serveDirectory(join(work, 'ala'), (req, res, rel) => (hook ? hook(req, res, rel) : false));
  root = join(work, 'root');
  makeRoot(root, { repo: REPO, serverUrl: mirror.url, key });
  await pacman(root, ['-Sy', 'gamma']);
  // The mirror moves on to 1.1; the root refreshes its sync db without upgrading, and its cache is cleaned.
  copyFileSync(nextFile, join(repoDir, pkgFilename(next)));
  copyFileSync(`${nextFile}.sig`, join(repoDir, `${pkgFilename(next)}.sig`));
  repoAdd(repoDir, REPO, [join(repoDir, pkgFilename(next))]);
  await pacman(root, ['-Sy']);
  for (const f of readdirSync(join(root, 'var/cache/pacman/pkg'))) unlinkSync(join(root, 'var/cache/pacman/pkg', f));
});

after(async () => {
  await mirror?.close();
  await ala?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  hook = undefined;
  ala.requests.length = 0;
});

const generate = (...extra: string[]) => runCli(['hash', 'generate', '--root', root, '--archive-url', `arch-archive=${ala.url}`, '--retries', '0', ...extra], { env: { SOURCE_DATE_EPOCH: '1700000000' } });


test('a version gone from the sync db is pinned from the archive by its verified signature', async () => {
  const res = await generate();
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(parseLockfile(res.stdout).entries, [{ sha256: sha(readFileSync(oldFile)), path: `g/gamma/${pkgFilename(old)}` }]);
  assert.match(res.stderr, /looking them up in the Arch Linux Archive/);
  assert.deepEqual(ala.requests, [`packages/g/gamma/${pkgFilename(old)}.sig`, `packages/g/gamma/${pkgFilename(old)}`]);
});

test('--offline asks nothing: exit 2 naming the package', async () => {
  const res = await generate('--offline');
  assert.equal(res.code, 2, res.stderr);
  assert.deepEqual(ala.requests, []);
  assert.match(res.stderr, /gamma 1:1\.0-1 \(x86_64\): in no sync database nor the cache dir/);
});

test('another build of that version, signed by the same key: exit 3, its hash nowhere', async () => {
  const other = buildPackage({ ...old, builddate: old.builddate + 1, content: 'another build' }, join(work, 'other'), key);
  const bytes = readFileSync(other);
  hook = async (req, res, rel) =>
    (await replyWith(`packages/g/gamma/${pkgFilename(old)}`, bytes)(req, res, rel)) || replyWith(`packages/g/gamma/${pkgFilename(old)}.sig`, readFileSync(`${other}.sig`))(req, res, rel);
  const res = await generate();
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /gamma 1:1\.0-1 \(x86_64\): .*builddate 1700200001 is not the installed package's 1700200000: another build/);
  assert.ok(!res.stdout.includes(sha(bytes)) && !res.stderr.includes(sha(bytes)));
  assert.equal(res.stdout, '');
});

test('a signature by a key the root does not trust: exit 3', async () => {
  const stranger = makeKey(join(work, 'stranger'), 'stranger <s@example.invalid>');
  const copy = join(work, 'resigned', pkgFilename(old));
  mkdirSync(join(work, 'resigned'), { recursive: true });
  copyFileSync(oldFile, copy);
  signFile(stranger, copy);
  hook = replyWith(`packages/g/gamma/${pkgFilename(old)}.sig`, readFileSync(`${copy}.sig`));
  const res = await generate();
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /gamma 1:1\.0-1 \(x86_64\): .*\.sig: signed by unknown key/);
  assert.equal(res.stdout, '');
});

test('not in the archive: exit 2, or left out with --allow-missing', async () => {
  hook = statusFor('', 404);
  const res = await generate();
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /gamma 1:1\.0-1 \(x86_64\): not in the Arch Linux Archive/);
  const allowed = await generate('--allow-missing');
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.deepEqual(parseLockfile(allowed.stdout).entries, []);
});

test('.PKGINFO: parsed as makepkg writes it; name, version, arch and build date must match', () => {
  const info = parsePkginfo('# Generated by makepkg\npkgname = gamma\npkgver = 1:1.0-1\narch = x86_64\nbuilddate = 5\ndepend = a\ndepend = b\n');
  assert.deepEqual(info, { pkgname: 'gamma', pkgver: '1:1.0-1', arch: 'x86_64', builddate: '5', depend: 'a' });
  assert.equal(pkginfoMismatch(info, { name: 'gamma', version: '1:1.0-1', arch: 'x86_64', builddate: 5 }), undefined);
  assert.match(pkginfoMismatch(info, { name: 'gamma', version: '1:1.0-2', arch: 'x86_64' })!, /not the installed/);
  assert.match(pkginfoMismatch(info, { name: 'gamma', version: '1:1.0-1', arch: 'x86_64', builddate: 6 })!, /another build/);
});

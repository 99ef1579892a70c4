/**
 * hash generate for a Debian root whose installed version the (signed, current) lists no longer carry: a
 * fake Debian snapshot archive on 127.0.0.1 serves the published `mr/` JSON, `file/<sha1>` and a dated
 * tree signed by the root's own repository key. The version is pinned from that signed tree; altered or
 * missing evidence is exit 3 and its hash is never printed; --offline asks nothing.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildAptRepo, hostArch, makeAptRoot, type AptRepo, type AptRoot, type RepoPackage } from './helpers/apt-repo.js';
import { runCli } from './helpers/cli.js';
import { EPOCH, must, otherBuildHook, supersede } from './helpers/deb-fixtures.js';
import { replyWith, statusFor } from './helpers/hooks.js';
import { serveDirectory, type Hook, type TestServer } from './helpers/http-server.js';
import { run } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { findStanzas, judgeStanza, suitesFor } from '../distros/debian/archive-evidence.js';

const TS = '20240101T000000Z';
let repo: AptRepo;
let root: AptRoot;
let snap: TestServer;
let snapDir: string;
let arch: string;
let app: RepoPackage;
let hook: Hook | undefined;

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

before(async () => {
  arch = await hostArch();
  repo = await buildAptRepo();
  root = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-app'] });
  app = repo.packages.find((p) => p.name === 'pinget-app')!;
  // The snapshot archive: the repository as it was when pinget-app 3.1-2 was current.
  snapDir = await mkdtemp(join(tmpdir(), 'pinget-fakesnap-'));
  const tree = join(snapDir, 'archive/debian', TS);
  await mkdir(tree, { recursive: true });
  await cp(join(repo.dir, 'dists'), join(tree, 'dists'), { recursive: true });
  await cp(join(repo.dir, 'pool'), join(tree, 'pool'), { recursive: true });
  const bytes = await readFile(app.file);
  await mkdir(join(snapDir, 'file'));
  await writeFile(join(snapDir, 'file', sha1(bytes)), bytes);
  const dirOf = `/${dirname(app.path)}`;
  const binfiles = {
    _comment: 'foo',
    binary: 'pinget-app',
    binary_version: '3.1-2',
    fileinfo: { [sha1(bytes)]: [{ archive_name: 'debian', first_seen: TS, name: app.path.split('/').pop(), path: dirOf, size: bytes.length }] },
    result: [{ architecture: arch, hash: sha1(bytes) }],
  };
  await mkdir(join(snapDir, 'mr/binary/pinget-app/3.1-2'), { recursive: true });
  await writeFile(join(snapDir, 'mr/binary/pinget-app/3.1-2/binfiles'), JSON.stringify(binfiles, null, 2));
  snap = await serveDirectory(snapDir, (req, res, rel) => (hook ? hook(req, res, rel) : false));

  // The live repository moves on: 3.1-3 replaces 3.1-2, and the root's lists are updated.
  await supersede(repo, root, app, '3.1-3', arch);
});

after(async () => {
  await snap?.close();
  await root?.close();
  await repo?.close();
  if (snapDir) await rm(snapDir, { recursive: true, force: true });
});

beforeEach(() => {
  hook = undefined;
  snap.requests.length = 0;
});

const generate = (...extra: string[]) =>
  runCli(['hash', 'generate', '--root', root.root, '--archive-url', `debian-snapshot=${snap.url}`, '--retries', '0', ...extra], { env: { SOURCE_DATE_EPOCH: EPOCH } });

const installed = () => repo.packages.filter((p) => p.name !== 'pinget-extra').map((p) => ({ sha256: p.sha256, path: p.path })).sort((a, b) => (a.path < b.path ? -1 : 1));

test('a version gone from the lists is pinned from the signed dated tree: right sha256 and pool path', async () => {
  const res = await generate();
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(parseLockfile(res.stdout).entries, installed());
  assert.match(res.stderr, /1 installed package\(s\) are in no apt list; looking them up in the Debian snapshot archive/);
  assert.match(res.stderr, /snapshot archive debian: 1 dated import\(s\) for 1 package\(s\)/);
  assert.ok(snap.requests.includes('mr/binary/pinget-app/3.1-2/binfiles'));
  assert.ok(snap.requests.includes(`archive/debian/${TS}/dists/stable/InRelease`));
  assert.ok(snap.requests.includes(`archive/debian/${TS}/dists/stable/main/binary-${arch}/Packages.xz`));
});

test('a stable update first listed in <codename>-proposed-updates at its import is pinned from there', async () => {
  const tree = `archive/debian/${TS}/dists/`;
  hook = async (_req, res, rel) => {
    if (!rel.startsWith(tree)) return false;
    const [suite, ...rest] = rel.slice(tree.length).split('/');
    if (suite !== 'bookworm-proposed-updates') {
      res.writeHead(404).end();
      return true;
    }
    const body = await readFile(join(snapDir, tree, 'stable', ...rest)).catch(() => undefined);
    if (body) res.writeHead(200, { 'content-length': body.length }).end(body);
    else res.writeHead(404).end();
    return true;
  };
  const res = await generate();
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(parseLockfile(res.stdout).entries, installed());
  for (const suite of ['stable', 'bookworm', 'bookworm-updates', 'bookworm-proposed-updates', 'unstable']) {
    assert.ok(snap.requests.includes(`${tree}${suite}/InRelease`), `${suite} tried`);
  }
  assert.ok(snap.requests.includes(`${tree}bookworm-proposed-updates/main/binary-${arch}/Packages.xz`));
});

test('--offline asks no archive; the error names the package and says the mirrors moved on', async () => {
  const res = await generate('--offline');
  assert.equal(res.code, 2, res.stderr);
  assert.deepEqual(snap.requests, []);
  assert.match(res.stderr, /pinget-app:\w+=3\.1-2: the apt lists have 3\.1-3$/m);
  assert.match(res.stderr, /run without --offline/);
  assert.doesNotMatch(res.stderr, /apt-get update/);
});


test('another build of that version in the dated Packages (its InRelease unchanged): exit 3, its hash nowhere', async () => {
  const dir = `archive/debian/${TS}/dists/stable/main/binary-${arch}`;
  const work = await mkdtemp(join(tmpdir(), 'pinget-other-'));
  try {
    let otherSha: string;
    ({ hook, otherSha } = await otherBuildHook({ fileDir: join(snapDir, dir), urlDir: dir, genuineSha: app.sha256, name: 'pinget-app', version: '3.1-2', arch, work }));
    const res = await generate();
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /pinget-app:\w+=3\.1-2: .*Packages\.xz(: more than the \d+ bytes the signed .*InRelease lists| does not match main\/binary-\w+\/Packages\.xz in the signed .*InRelease)/);
    assert.ok(!res.stdout.includes(otherSha) && !res.stderr.includes(otherSha), 'the other build is never printed');
    assert.equal(res.stdout, '');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('the dated InRelease signed by a key the root does not trust: exit 3', async () => {
  const gnupg = await mkdtemp(join(tmpdir(), 'pinget-otherkey-'));
  const env = { ...process.env, GNUPGHOME: gnupg };
  try {
    await must('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'someone else <x@example.invalid>', 'rsa2048', 'sign', 'never'], { env });
    const release = join(snapDir, 'archive/debian', TS, 'dists/stable/Release');
    const forged = join(gnupg, 'InRelease');
    await must('gpg', ['--batch', '--yes', '--clearsign', '-o', forged, release], { env });
    hook = replyWith(`archive/debian/${TS}/dists/stable/InRelease`, await readFile(forged));
    const res = await generate();
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /pinget-app:\w+=3\.1-2: .*InRelease: signed by unknown key/);
    assert.equal(res.stdout, '');
  } finally {
    await run('gpgconf', ['--kill', 'all'], { env }).catch(() => undefined);
    await rm(gnupg, { recursive: true, force: true });
  }
});

test('the archive has the file but no signed index of its import lists it: exit 3, even with --allow-missing', async () => {
  hook = statusFor(`archive/debian/${TS}/dists/`, 404);
  const res = await generate();
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /pinget-app:\w+=3\.1-2: no signed index of debian at 20240101T000000Z lists it/);
  assert.equal(res.stdout, '');
  const allowed = await generate('--allow-missing');
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stderr, /--allow-missing: left out.*pinget-app/);
});

test('not in the archive: exit 2 naming it, or left out with --allow-missing', async () => {
  hook = statusFor('mr/', 404);
  const res = await generate();
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /pinget-app:\w+=3\.1-2: not in the snapshot archive; the apt lists have 3\.1-3$/m);
  const allowed = await generate('--allow-missing');
  assert.equal(allowed.code, 0, allowed.stderr);
  const lock = parseLockfile(allowed.stdout);
  assert.deepEqual(lock.entries, installed().filter((e) => !e.path.includes('pinget-app')));
  assert.match(lock.headers['left-out'] ?? '', /^pinget-app:\w+$/, 'the lockfile records what was left out on purpose');
  // hash verify says so in one line instead of listing it as unpinned drift; without the header it is drift
  const dir = await mkdtemp(join(tmpdir(), 'pinget-left-out-'));
  const file = join(dir, 'SHA256SUMS');
  await writeFile(file, allowed.stdout);
  const verified = await runCli(['hash', 'verify', file, '--root', root.root]);
  assert.equal(verified.code, 0, verified.stderr + verified.stdout);
  assert.match(verified.stderr, /^1 installed package\(s\) left out of the lockfile on purpose \(--allow-missing\): pinget-app:\w+$/m);
  assert.doesNotMatch(verified.stdout, /unpinned/);
  await writeFile(file, allowed.stdout.replace(/^# left-out:.*\n/m, ''));
  const drift = await runCli(['hash', 'verify', file, '--root', root.root]);
  assert.equal(drift.code, 1, drift.stderr);
  assert.match(drift.stdout, /^unpinned pinget-app:\w+/m);
  await rm(dir, { recursive: true });
});

test('the archive unreachable (503): exit 4', async () => {
  hook = statusFor('mr/', 503);
  const res = await generate();
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /pinget-app:\w+=3\.1-2: snapshot archive lookup failed: .*HTTP 503/);
});

test('judging a stanza: SHA1 when the index has it, else Size; suites per archive', () => {
  const files = new Map([['a'.repeat(40), 100]]);
  const st = (f: Record<string, string>) => new Map(Object.entries({ filename: 'pool/main/x/x/x_1_amd64.deb', sha256: 'b'.repeat(64), ...f }));
  assert.deepEqual(judgeStanza(st({ sha1: 'a'.repeat(40) }), files, 'w'), { sha256: 'b'.repeat(64), path: 'pool/main/x/x/x_1_amd64.deb' });
  assert.match(judgeStanza(st({ sha1: 'c'.repeat(40) }), files, 'w') as string, /another build/);
  assert.equal(typeof judgeStanza(st({ size: '100' }), files, 'w'), 'object');
  assert.match(judgeStanza(st({ size: '101' }), files, 'w') as string, /Size 101.*another build/);
  assert.match(judgeStanza(st({ filename: '../etc/passwd' }), files, 'w') as string, /no usable/);
  const sources = [{ types: ['deb'], uris: ['http://m'], suites: ['bookworm', 'bookworm-updates'], components: ['main'], options: {}, origin: 'x' }];
  assert.deepEqual(suitesFor('debian', 'bookworm', sources), ['bookworm', 'bookworm-updates', 'bookworm-proposed-updates', 'unstable']);
  assert.deepEqual(suitesFor('debian-security', 'bookworm', sources), ['bookworm-security']);
  const text = 'Package: a\nVersion: 1\n\nPackage: ab\nVersion: 2\n\nPackage: a\nVersion: 3\n';
  assert.deepEqual(findStanzas(text, 'a').map((m) => m.get('version')), ['1', '3']);
  assert.deepEqual(findStanzas(text, 'ab').map((m) => m.get('version')), ['2']);
});

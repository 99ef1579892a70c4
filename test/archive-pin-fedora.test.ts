/**
 * hash generate for a Fedora root whose installed version the cached repository metadata no longer lists:
 * a fake Koji on 127.0.0.1 serves `packages/<srpm>/<v>/<r>/<arch>/<file>`. The rpm is pinned when its
 * digests are intact and its SHA256HEADER is the one the root's rpm database recorded; another build of
 * that NVRA, or a corrupted payload, is exit 3 and its hash is never printed.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { digestMismatch, parseDigests } from '../distros/fedora/koji-evidence.js';
import { runCli } from './helpers/cli.js';
import { replyWith, statusFor } from './helpers/hooks.js';
import { serveDirectory, type Hook, type TestServer } from './helpers/http-server.js';
import { buildRpms, hostDnfOptions, makeGpgKey, makeKojiTree, makeRepo, populateRoot, rpmToolsEnv, type GpgKey } from './helpers/rpm-repo.js';

let work: string;
let env: NodeJS.ProcessEnv;
let key: GpgKey;
let repo: TestServer;
let koji: TestServer;
let root: string;
let hook: Hook | undefined;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const PATH = 'pinget-old/1.0/1/noarch/pinget-old-1.0-1.noarch.rpm';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinget-koji-test-'));
  key = await makeGpgKey(join(work, 'key'), 'Pinget Test <pinget-test@example.invalid>');
  env = (await rpmToolsEnv(join(work, 'tools'))).env;
  const v1 = await buildRpms(join(work, 'build1'), [{ name: 'pinget-old', version: '1.0', release: '1', arch: 'noarch' }], key);
  const v2 = await buildRpms(join(work, 'build2'), [{ name: 'pinget-old', version: '1.1', release: '1', arch: 'noarch' }], key);
  await makeRepo(join(work, 'repo'), v1, key);
  // Koji's package archive is served under packages/ (kojipkgs' layout, the fedora-koji archive's base).
  await makeKojiTree(join(work, 'koji', 'packages'), [...v1, ...v2], env);
  repo = await serveDirectory(join(work, 'repo'));
  koji = await serveDirectory(join(work, 'koji'), (req, res, rel) => (hook ? hook(req, res, rel) : false));
  root = join(work, 'root');
  await populateRoot(work, root, repo.url, key, ['pinget-old'], env);
  // The repository moves on to 1.1; the root's dnf cache is refreshed (1.0-1 stays installed).
  await rm(join(work, 'repo'), { recursive: true, force: true });
  await makeRepo(join(work, 'repo'), v2, key);
  await runChecked('dnf', ['-y', '-q', `--installroot=${root}`, '--releasever=40', ...(await hostDnfOptions(work)), 'makecache', '--refresh'], 'INTERNAL', { env });
});

after(async () => {
  await repo?.close();
  await koji?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  hook = undefined;
  koji.requests.length = 0;
});

const generate = (...extra: string[]) => runCli(['hash', 'generate', '--root', root, '--archive-url', `fedora-koji=${koji.url}`, '--retries', '0', ...extra]);


test('a version gone from the repodata is pinned from Koji: its header digest is the rpm database\'s', async () => {
  const res = await generate();
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(parseLockfile(res.stdout).entries, [{ sha256: sha(await readFile(join(work, 'koji', 'packages', PATH))), path: PATH }]);
  assert.match(res.stderr, /looking them up in Koji/);
  assert.deepEqual(koji.requests, [`packages/${PATH}`]);
});

test('--offline asks nothing: exit 2 naming it', async () => {
  const res = await generate('--offline');
  assert.equal(res.code, 2, res.stderr);
  assert.deepEqual(koji.requests, []);
  assert.match(res.stderr, /pinget-old-1\.0-1\.noarch: in no cached repository metadata/);
});

test('another build of the same NVRA: exit 3, its hash nowhere', async () => {
  const [other] = await buildRpms(join(work, 'build3'), [{ name: 'pinget-old', version: '1.0', release: '1', arch: 'noarch', requires: ['/bin/sh'] }], key);
  const bytes = await readFile(other);
  hook = replyWith(`packages/${PATH}`, bytes);
  const res = await generate();
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /pinget-old-1\.0-1\.noarch: .*header digest \w+ is not the installed \w+: another build/);
  assert.ok(!res.stdout.includes(sha(bytes)) && !res.stderr.includes(sha(bytes)));
  assert.equal(res.stdout, '');
});

test('a corrupted payload: exit 3 (rpm\'s own digest check)', async () => {
  const bytes = Buffer.from(await readFile(join(work, 'koji', 'packages', PATH)));
  bytes[bytes.length - 20] ^= 0xff;
  hook = replyWith(`packages/${PATH}`, bytes);
  const res = await generate();
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /pinget-old-1\.0-1\.noarch: .*rpmkeys --checksig/);
  assert.equal(res.stdout, '');
});

test('not in Koji: exit 2, or left out with --allow-missing', async () => {
  hook = statusFor('', 404);
  const res = await generate();
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /pinget-old-1\.0-1\.noarch: not in Koji/);
  const allowed = await generate('--allow-missing');
  assert.equal(allowed.code, 0, allowed.stderr);
});

test('digests: parsed per NEVRA; compared header first', async () => {
  await mkdir(join(work, 'unit'), { recursive: true });
  const d = parseDigests(`a\t0\t1\t2\tnoarch\t${'a'.repeat(64)}\t${'b'.repeat(64)}\nb\t3\t1\t2\tx86_64\t(none)\t(none)\n`);
  assert.deepEqual([...d.keys()], ['a\x000\x001\x002\x00noarch', 'b\x003\x001\x002\x00x86_64']);
  const rec = d.get('a\x000\x001\x002\x00noarch')!;
  assert.equal(digestMismatch(rec, rec), undefined);
  assert.match(digestMismatch({ ...rec, sha256Header: 'c'.repeat(64) }, rec)!, /another build/);
  assert.match(digestMismatch({ ...rec, payloadDigest: 'c'.repeat(64) }, rec)!, /payload digest/);
  assert.match(digestMismatch(rec, d.get('b\x003\x001\x002\x00x86_64')!)!, /recorded no SHA256HEADER/);
  assert.match(digestMismatch(undefined, rec)!, /not this package/);
});

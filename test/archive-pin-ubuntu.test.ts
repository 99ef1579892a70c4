/**
 * hash generate for an Ubuntu root whose installed version the (signed, current) lists no longer carry: a
 * stand-in on 127.0.0.1 answers as Launchpad's web service does (`getPublishedBinaries` JSON, under
 * lp/) and as the Ubuntu snapshot service does (dated trees `<ubuntu|ubuntu-ports>/<ts>/dists/...`,
 * under snap/, signed by the root's own repository key). The version is pinned from the dated tree of
 * its publication; another build in that tree is exit 3 with its hash never printed; --offline asks nothing.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAptRepo, hostArch, makeAptRoot, type AptRepo, type AptRoot, type RepoPackage } from './helpers/apt-repo.js';
import { runCli } from './helpers/cli.js';
import { EPOCH, otherBuildHook, supersede } from './helpers/deb-fixtures.js';
import { statusFor } from './helpers/hooks.js';
import { serveDirectory, type Hook, type TestServer } from './helpers/http-server.js';
import { parseLockfile } from '../src/lockfile.js';
import { sha256File } from '../src/verify/sha256.js';
import { archiveDistro } from '../src/fetch/archives/index.js';
import { parsePublishedBinaries } from '../src/fetch/archives/launchpad-api.js';
import { publicationTimes, ubuntuSuites } from '../distros/debian/ubuntu-evidence.js';

/** An hour after the publication below: the first tree asked. */
const TS = '20240301T030400Z';
const LP_QUERY = 'lp/devel/ubuntu/+archive/primary';
let repo: AptRepo;
let root: AptRoot;
let srv: TestServer;
let srvDir: string;
let arch: string;
let archive: string;
let app: RepoPackage;
let hook: Hook | undefined;
/** Query strings of the Launchpad requests, in order. */
let lpQueries: URLSearchParams[] = [];

function publication(pocket: string, published: string, superseded: string | null) {
  return {
    binary_package_name: 'pinget-app',
    binary_package_version: '3.1-2',
    distro_arch_series_link: `${srv.url}/lp/devel/ubuntu/noble/${arch}`,
    pocket,
    status: superseded ? 'Superseded' : 'Published',
    component_name: 'main',
    date_created: published.replace('02:04', '01:50'),
    date_published: published,
    date_superseded: superseded,
  };
}

/** Launchpad's answer: the version in noble-updates, and in another series that must be ignored. */
function lpAnswer(q: URLSearchParams): unknown {
  if (q.get('ws.op') !== 'getPublishedBinaries' || q.get('exact_match') !== 'true') return { total_size: 0, start: 0, entries: [] };
  if (q.get('binary_name') !== 'pinget-app' || q.get('version') !== '3.1-2') return { total_size: 0, start: 0, entries: [] };
  const other = { ...publication('Release', '2023-06-01T10:00:00.5+00:00', null), distro_arch_series_link: `${srv.url}/lp/devel/ubuntu/jammy/${arch}` };
  return { total_size: 2, start: 0, entries: [publication('Updates', '2024-03-01T02:04:00.123456+00:00', null), other] };
}

before(async () => {
  arch = await hostArch();
  archive = arch === 'amd64' || arch === 'i386' ? 'ubuntu' : 'ubuntu-ports';
  repo = await buildAptRepo();
  root = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-app'] });
  await writeFile(
    join(root.root, 'etc/os-release'),
    'PRETTY_NAME="Ubuntu 24.04 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=noble\n',
  );
  app = repo.packages.find((p) => p.name === 'pinget-app')!;
  // The snapshot service: the repository as it was when pinget-app 3.1-2 was current in noble-updates.
  srvDir = await mkdtemp(join(tmpdir(), 'pinget-fakeubuntu-'));
  const tree = join(srvDir, 'snap', archive, TS);
  await mkdir(join(tree, 'dists'), { recursive: true });
  await cp(join(repo.dir, 'dists/stable'), join(tree, 'dists/noble-updates'), { recursive: true });
  await cp(join(repo.dir, 'pool'), join(tree, 'pool'), { recursive: true });
  srv = await serveDirectory(srvDir, async (req, res, rel) => {
    if (rel === LP_QUERY) lpQueries.push(new URL(req.url ?? '/', 'http://x').searchParams);
    if (hook && (await hook(req, res, rel))) return true;
    if (rel !== LP_QUERY) return false;
    const body = Buffer.from(JSON.stringify(lpAnswer(lpQueries[lpQueries.length - 1])));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
    return true;
  });

  // The live repository moves on: 3.1-3 replaces 3.1-2, and the root's lists are updated.
  await supersede(repo, root, app, '3.1-3', arch);
});

after(async () => {
  await srv?.close();
  await root?.close();
  await repo?.close();
  if (srvDir) await rm(srvDir, { recursive: true, force: true });
});

beforeEach(() => {
  hook = undefined;
  lpQueries = [];
  srv.requests.length = 0;
});

const generate = (...extra: string[]) =>
  runCli(
    ['hash', 'generate', '--root', root.root, '--archive-url', `ubuntu-snapshot=${srv.url}/snap`, '--archive-url', `ubuntu-launchpad=${srv.url}/lp`, '--retries', '0', ...extra],
    { env: { SOURCE_DATE_EPOCH: EPOCH } },
  );

const installed = () => repo.packages.filter((p) => p.name !== 'pinget-extra').map((p) => ({ sha256: p.sha256, path: p.path })).sort((a, b) => (a.path < b.path ? -1 : 1));

test('a version gone from the lists is pinned from the dated tree of its Launchpad publication: right sha256 and pool path', async () => {
  const res = await generate();
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(parseLockfile(res.stdout).entries, installed());
  assert.match(res.stderr, /1 installed package\(s\) are in no apt list; looking them up on Launchpad .* and in the Ubuntu snapshot service/);
  assert.equal(lpQueries.length, 1);
  assert.equal(lpQueries[0].get('binary_name'), 'pinget-app');
  assert.equal(lpQueries[0].get('version'), '3.1-2');
  assert.ok(srv.requests.includes(`snap/${archive}/${TS}/dists/noble-updates/InRelease`), srv.requests.join('\n'));
  assert.ok(srv.requests.includes(`snap/${archive}/${TS}/dists/noble-updates/main/binary-${arch}/Packages.xz`));
  // The jammy publication is another series: its date is never asked for.
  assert.ok(!srv.requests.some((r) => r.includes('/20230601T')), srv.requests.join('\n'));
  assert.ok(!srv.requests.some((r) => r.startsWith('snap/') && !r.startsWith(`snap/${archive}/`)));
});

test('the pinned file downloads for the root through Launchpad +files (the snapshot tree at the lockfile date has none)', async () => {
  const gen = await generate();
  assert.equal(gen.code, 0, gen.stderr);
  const work = await mkdtemp(join(tmpdir(), 'pinget-ubuntu-dl-'));
  try {
    await writeFile(join(work, 'SHA256SUMS'), gen.stdout);
    const name = app.path.slice(app.path.lastIndexOf('/') + 1);
    hook = async (_req, res, rel) => {
      if (rel !== `lp/ubuntu/+archive/primary/+files/${name}`) return false;
      const body = await readFile(join(srvDir, 'snap', archive, TS, app.path));
      res.writeHead(200, { 'content-length': body.length }).end(body);
      return true;
    };
    const res = await runCli(
      ['download', join(work, 'SHA256SUMS'), '--root', root.root, '-o', join(work, 'out'), '--cache', join(work, 'cache'), '--archive-url', `ubuntu-snapshot=${srv.url}/snap`, '--archive-url', `ubuntu-launchpad=${srv.url}/lp`, '--retries', '0'],
    );
    assert.equal(res.code, 0, res.stderr);
    assert.equal(await sha256File(join(work, 'out', app.path)), app.sha256);
    assert.ok(srv.requests.includes(`lp/ubuntu/+archive/primary/+files/${name}`), srv.requests.join('\n'));
    assert.ok(!srv.requests.some((r) => r.startsWith('archive/')), 'not the Debian snapshot archive');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('another build of that version in the dated Packages (its InRelease unchanged): exit 3, its hash nowhere', async () => {
  const dir = `snap/${archive}/${TS}/dists/noble-updates/main/binary-${arch}`;
  const work = await mkdtemp(join(tmpdir(), 'pinget-other-'));
  try {
    let otherSha: string;
    ({ hook, otherSha } = await otherBuildHook({ fileDir: join(srvDir, dir), urlDir: dir, genuineSha: app.sha256, name: 'pinget-app', version: '3.1-2', arch, work }));
    const res = await generate();
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /pinget-app:\w+=3\.1-2: .*Packages\.xz(: more than the \d+ bytes the signed .*InRelease lists| does not match main\/binary-\w+\/Packages\.xz in the signed .*InRelease)/);
    assert.ok(!res.stdout.includes(otherSha) && !res.stderr.includes(otherSha), 'the other build is never printed');
    assert.equal(res.stdout, '');
    const allowed = await generate('--allow-missing');
    assert.equal(allowed.code, 3, allowed.stderr);
    assert.ok(!allowed.stdout.includes(otherSha) && !allowed.stderr.includes(otherSha));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('--offline asks neither Launchpad nor the snapshot service', async () => {
  const res = await generate('--offline');
  assert.equal(res.code, 2, res.stderr);
  assert.deepEqual(srv.requests, []);
  assert.match(res.stderr, /pinget-app:\w+=3\.1-2: the apt lists have 3\.1-3$/m);
  assert.match(res.stderr, /run without --offline/);
});

test('Launchpad unreachable: the root release files’ Date names the tree; pinned when that tree lists it', async () => {
  const released = (await readFile(join(repo.dir, 'dists/stable/Release'), 'utf8')).match(/^Date: (.*)$/m)![1];
  const ts = new Date(Date.parse(released)).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const prefix = `snap/${archive}/${ts}/`;
  hook = async (req, res, rel) => {
    if (rel === LP_QUERY) {
      res.writeHead(503).end();
      return true;
    }
    if (!rel.startsWith(prefix)) return false;
    const body = await readFile(join(srvDir, 'snap', archive, TS, rel.slice(prefix.length))).catch(() => undefined);
    if (body) res.writeHead(200, { 'content-length': body.length }).end(body);
    else res.writeHead(404).end();
    return true;
  };
  const res = await generate();
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(parseLockfile(res.stdout).entries, installed());
  assert.ok(srv.requests.includes(`${prefix}dists/noble-updates/InRelease`), srv.requests.join('\n'));
});

test('Launchpad answering 429 with Retry-After: waited for, asked again, pinned', async () => {
  let refused = 0;
  hook = (_req, res, rel) => {
    if (rel !== LP_QUERY || refused > 0) return false;
    refused++;
    res.writeHead(429, { 'retry-after': '1' }).end();
    return true;
  };
  const res = await runCli(
    ['hash', 'generate', '--root', root.root, '--archive-url', `ubuntu-snapshot=${srv.url}/snap`, '--archive-url', `ubuntu-launchpad=${srv.url}/lp`, '--retries', '1'],
    { env: { SOURCE_DATE_EPOCH: EPOCH } },
  );
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(parseLockfile(res.stdout).entries, installed());
  assert.equal(refused, 1);
  assert.equal(lpQueries.length, 2);
});

test('not published in Ubuntu (Launchpad has no such version): exit 2 naming it, the snapshot service not asked', async () => {
  hook = (_req, res, rel) => {
    if (rel !== LP_QUERY) return false;
    const body = Buffer.from(JSON.stringify({ total_size: 0, start: 0, entries: [] }));
    res.writeHead(200, { 'content-length': body.length }).end(body);
    return true;
  };
  const res = await generate();
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /pinget-app:\w+=3\.1-2: not in Ubuntu's primary archive/);
  assert.ok(!srv.requests.some((r) => r.startsWith('snap/')));
});

test('no tree lists it (every dated suite 404): exit 3', async () => {
  hook = statusFor('snap/', 404);
  const res = await generate();
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, new RegExp(`pinget-app:\\w+=3\\.1-2: no signed index of ${archive} at ${TS} lists it`));
  assert.equal(res.stdout, '');
});

test('publications: series, arch and suite from the answer; dates to ask; suites', () => {
  const pubs = parsePublishedBinaries({
    entries: [
      { binary_package_name: 'hello', binary_package_version: '2.10-3', distro_arch_series_link: 'https://x/devel/ubuntu/noble/arm64', pocket: 'Security', date_published: '2024-03-01T02:04:00+00:00', date_superseded: '2024-05-01T00:00:00+00:00' },
      { binary_package_name: 'hello', binary_package_version: '2.10-3', distro_arch_series_link: 'https://x/devel/ubuntu/noble/amd64', pocket: 'Nonsense' },
      { binary_package_name: '../x', binary_package_version: '1', distro_arch_series_link: 'https://x/devel/ubuntu/noble/amd64', pocket: 'Release' },
    ],
  });
  assert.equal(pubs.length, 1);
  assert.deepEqual([pubs[0].series, pubs[0].arch, pubs[0].suite], ['noble', 'arm64', 'noble-security']);
  assert.deepEqual(publicationTimes(pubs[0]), ['20240301T030400Z', '20240430T235959Z']);
  // Before the service's first snapshot: its first tree.
  assert.deepEqual(publicationTimes({ ...pubs[0], published: new Date('2021-01-01T00:00:00Z'), superseded: undefined }), ['20230301T000000Z']);
  // Gone before that: no tree of the service lists it.
  assert.deepEqual(publicationTimes({ ...pubs[0], published: new Date('2021-01-01T00:00:00Z'), superseded: new Date('2022-01-01T00:00:00Z') }), []);
  // Published in the last hour: the newest tree.
  assert.deepEqual(publicationTimes({ ...pubs[0], superseded: undefined }, Date.parse('2024-03-01T02:30:00Z')), ['20240301T023000Z']);
  const sources = [{ types: ['deb'], uris: ['http://m'], suites: ['noble', 'noble-backports'], components: ['main'], options: {}, origin: 'x' }];
  assert.deepEqual(ubuntuSuites('noble', sources, ['noble-security']), ['noble-security', 'noble', 'noble-backports', 'noble-updates', 'noble-proposed']);
  // Ubuntu and its derivatives are served by Ubuntu's archives, Debian and its derivatives by Debian's.
  assert.equal(archiveDistro({ id: 'debian', osId: 'ubuntu', idLike: ['debian'] }), 'ubuntu');
  assert.equal(archiveDistro({ id: 'debian', osId: 'linuxmint', idLike: ['ubuntu', 'debian'] }), 'ubuntu');
  assert.equal(archiveDistro({ id: 'debian', osId: 'debian', idLike: [] }), 'debian');
  assert.equal(archiveDistro({ id: 'debian', osId: 'raspbian', idLike: ['debian'] }), 'debian');
});

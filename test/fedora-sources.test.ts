/**
 * `--sources` for rpm: rpms and their .src.rpm built here by rpmbuild -ba and signed (rpmsign), a binary and a
 * source repository by createrepo_c with signed repomd.xml, served on 127.0.0.1, and a root populated by dnf whose
 * repo file has a disabled `[pinget-test-source]` section, as Fedora's have. The oracle for which source rpm each
 * binary comes from is rpm's own SOURCERPM of the installed packages; the hashes are the files' own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { runCli } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { buildRpms, makeGpgKey, makeKojiTree, makeRepo, populateRoot, rpmToolsEnv, sourceRpmsOf, type GpgKey } from './helpers/rpm-repo.js';

let work: string;
let env: NodeJS.ProcessEnv;
let key: GpgKey;
let repo: TestServer;
let srcRepo: TestServer;
let koji: TestServer;
let root: string;
let withSources: string;

const DB = ['--dbpath', '/var/lib/rpm'];
const sha = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');
const cli = (args: string[], cache = 'cache') => runCli([...args, '--cache', join(work, cache), '--archive-url', `fedora-koji=${koji.url}`, '--retries', '0'], { env: { SOURCE_DATE_EPOCH: '1700000000' }, timeoutMs: 180_000 });

function sourceSection(id: string, url: string): string {
  return `\n[${id}]\nname=pinget test source\nbaseurl=${url}/\nenabled=0\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-pinget-test\n`;
}

/** A copy of the root whose repo file has these extra sections. */
async function rootWith(name: string, sections: string): Promise<string> {
  const r = join(work, name);
  await cp(root, r, { recursive: true });
  const repoFile = join(r, 'etc/yum.repos.d/test.repo');
  const text = (await readFile(repoFile, 'utf8')).replace(/\n\[pinget-test-source\][\s\S]*$/, '\n');
  await writeFile(repoFile, text + sections);
  return r;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinget-fedora-sources-'));
  key = await makeGpgKey(join(work, 'key'), 'Pinget Test <pinget-test@example.invalid>');
  env = (await rpmToolsEnv(join(work, 'tools'))).env;
  const build = join(work, 'build');
  const rpms = await buildRpms(
    build,
    [
      { name: 'pinget-liba', version: '1.0', release: '1' },
      { name: 'pinget-libc', version: '0.5', release: '2.fc40', arch: 'noarch' },
      { name: 'pinget-app', version: '2.0', release: '3', arch: 'noarch', requires: ['pinget-liba >= 1.0', 'pinget-libc'] },
      { name: 'pinget-unused', version: '9', release: '1', arch: 'noarch' },
    ],
    key,
    { sources: true },
  );
  await makeRepo(join(work, 'repo'), rpms, key);
  await makeRepo(join(work, 'src-repo'), await sourceRpmsOf(build), key);
  // A source repository that lacks pinget-libc's source rpm.
  await makeRepo(join(work, 'src-partial'), (await sourceRpmsOf(build)).filter((f) => !f.includes('pinget-libc')), key);
  await makeKojiTree(join(work, 'koji'), rpms, env);
  repo = await serveDirectory(join(work, 'repo'));
  srcRepo = await serveDirectory(join(work, 'src-repo'));
  koji = await serveDirectory(join(work, 'koji'));
  root = join(work, 'root');
  await populateRoot(work, root, repo.url, key, ['pinget-app'], env);
  const repoFile = join(root, 'etc/yum.repos.d/test.repo');
  await writeFile(repoFile, (await readFile(repoFile, 'utf8')) + sourceSection('pinget-test-source', srcRepo.url));
  withSources = join(work, 'SHA256SUMS-sources');
});

after(async () => {
  for (const s of [repo, srcRepo, koji]) await s?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('hash generate --sources pins exactly the .src.rpm of each installed binary, with its sha256, from the disabled source repo', async () => {
  const plain = await cli(['hash', 'generate', '--root', root]);
  assert.equal(plain.code, 0, plain.stderr);
  const res = await cli(['hash', 'generate', '--root', root, '--sources', '-o', withSources]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /using repo pinget-test-source \(.*test\.repo:\d+\), disabled there, for the source rpms/);
  const lock = parseLockfile(await readFile(withSources, 'utf8'));
  const binaries = parseLockfile(plain.stdout).entries;
  const sources = lock.entries.filter((e) => e.path.endsWith('.src.rpm'));
  assert.deepEqual(lock.entries.filter((e) => !e.path.endsWith('.src.rpm')), binaries, 'the binary lines are those of hash generate');
  // rpm's own word: the SOURCERPM of each installed package.
  const q = await runChecked('rpm', ['--root', root, ...DB, '-qa', '--qf', '%{NAME} %{SOURCERPM}\\n'], 'INTERNAL', { env });
  const expected = [...new Set(q.stdout.split('\n').filter((l) => l && !l.startsWith('gpg-pubkey ')).map((l) => l.split(' ')[1]))].sort();
  assert.deepEqual(sources.map((e) => e.path.split('/').pop()).sort(), expected);
  assert.equal(sources.length, 3);
  for (const e of sources) {
    const [name, version, release, arch, file] = e.path.split('/');
    assert.equal(arch, 'src');
    assert.equal(file, `${name}-${version}-${release}.src.rpm`);
    assert.equal(e.sha256, await sha(join(work, 'src-repo', 'Packages', file)), e.path);
  }
  assert.ok(!sources.some((e) => e.path.includes('pinget-unused')), 'only the sources of what is installed');

  // The source lines are not installed packages: hash verify sees no drift; hash update pins them again.
  const verify = await cli(['hash', 'verify', withSources, '--root', root]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const copy = join(work, 'SHA256SUMS-update');
  await writeFile(copy, await readFile(withSources));
  const update = await cli(['hash', 'update', copy, '--root', root]);
  assert.equal(update.code, 0, update.stderr);
  assert.equal(await readFile(copy, 'utf8'), await readFile(withSources, 'utf8'), 'hash update keeps the source lines');
});

test('lock --sources: what dnf would add, and the .src.rpm of each from the source repo', async () => {
  const out = join(work, 'SHA256SUMS-lock');
  const res = await cli(['lock', 'pinget-unused', '--root', root, '--sources', '-o', out]);
  assert.equal(res.code, 0, res.stderr);
  const lock = parseLockfile(await readFile(out, 'utf8'));
  assert.deepEqual(lock.entries.map((e) => e.path).sort(), ['pinget-unused/9/1/noarch/pinget-unused-9-1.noarch.rpm', 'pinget-unused/9/1/src/pinget-unused-9-1.src.rpm']);
  assert.equal(lock.entries.find((e) => e.path.endsWith('.src.rpm'))!.sha256, await sha(join(work, 'src-repo', 'Packages', 'pinget-unused-9-1.src.rpm')));
  assert.equal(lock.headers.lock, 'pinget-unused --sources');
});

test('download --sources fetches and verifies them from the source repo (they are source rpms); install ignores them', async () => {
  assert.ok(existsSync(withSources), 'needs the lockfile of the previous test');
  const out = join(work, 'dl');
  const without = await cli(['download', withSources, '--root', root, '-o', join(work, 'dl-bin')]);
  assert.equal(without.code, 0, without.stderr);
  assert.match(without.stderr, /leaving out 3 source package file\(s\); --sources fetches them too/);
  const before = srcRepo.requests.length;
  const res = await cli(['download', withSources, '--root', root, '-o', out, '--sources']);
  assert.equal(res.code, 0, res.stderr);
  assert.ok(srcRepo.requests.slice(before).some((r) => r.endsWith('.src.rpm')), 'fetched from the source repository');
  const lock = parseLockfile(await readFile(withSources, 'utf8'));
  for (const e of lock.entries) assert.equal(await sha(join(out, e.path)), e.sha256, e.path);
  const app = lock.entries.find((e) => e.path.includes('/src/pinget-app-'))!;
  const file = join(out, app.path);
  const q = await runChecked('rpm', ['-qp', '--nosignature', '--qf', '%{NAME} %{SOURCEPACKAGE} %{SOURCERPM}\\n', file], 'INTERNAL', { env });
  assert.equal(q.stdout.trim(), 'pinget-app 1 (none)', 'a source package: SOURCEPACKAGE set, no SOURCERPM of its own');
  const list = await runChecked('sh', ['-c', 'rpm2cpio "$1" | cpio -it --quiet', 'sh', file], 'INTERNAL', { env });
  assert.deepEqual(list.stdout.trim().split('\n').sort(), ['pinget-app-README', 'pinget-app.spec']);

  // install of the lockfile with source lines: the koji provider has no .src.rpm, so fetching one would fail.
  const fresh = join(work, 'fresh');
  await mkdir(join(fresh, 'etc'), { recursive: true });
  await writeFile(join(fresh, 'etc', 'os-release'), 'ID=fedora\nVERSION_ID=40\n');
  await runChecked('rpmkeys', ['--root', fresh, ...DB, '--import', key.publicKey], 'INTERNAL', { env });
  const inst = await cli(['install', withSources, '--root', fresh, '--provider', `${koji.url}/{{.Name}}`]);
  assert.equal(inst.code, 0, inst.stderr);
  const qa = await runChecked('rpm', ['--root', fresh, ...DB, '-qa', '--qf', '%{NAME}\\n'], 'INTERNAL', { env });
  assert.deepEqual(qa.stdout.split('\n').filter((l) => l.startsWith('pinget-')).sort(), ['pinget-app', 'pinget-liba', 'pinget-libc']);
});

test('diff and the SBOM show the .src.rpm lines', async () => {
  assert.ok(existsSync(withSources), 'needs the lockfile of the first test');
  const plain = join(work, 'SHA256SUMS-plain');
  const lock = parseLockfile(await readFile(withSources, 'utf8'));
  await writeFile(plain, (await readFile(withSources, 'utf8')).split('\n').filter((l) => !l.endsWith('.src.rpm')).join('\n'));
  const d = await runCli(['diff', plain, withSources, '--json']);
  assert.equal(d.code, 0, d.stderr);
  const text = d.stdout;
  for (const e of lock.entries.filter((x) => x.path.endsWith('.src.rpm'))) assert.ok(text.includes(e.path.split('/')[0]), `diff names ${e.path}`);
  const human = await runCli(['diff', plain, withSources]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /pinget-app/);
  assert.match(human.stdout, /src/);

  const sbom = await runCli(['sbom', withSources, '--format', 'cyclonedx']);
  assert.equal(sbom.code, 0, sbom.stderr);
  const bom = JSON.parse(sbom.stdout) as { components: { name: string; purl?: string; hashes?: { content: string }[] }[] };
  const srcPurls = bom.components.filter((c) => c.purl?.includes('arch=src')).map((c) => c.purl!.replace(/\?.*/, '')).sort();
  assert.deepEqual(srcPurls, ['pkg:rpm/fedora/pinget-app@2.0-3', 'pkg:rpm/fedora/pinget-liba@1.0-1', 'pkg:rpm/fedora/pinget-libc@0.5-2.fc40']);
});

test('no source repo, one without a source rpm, one that refuses or hangs: exit 4 naming it, nothing written', async () => {
  const partial = await serveDirectory(join(work, 'src-partial'));
  const hang = await serveDirectory(join(work, 'src-repo'), () => new Promise<boolean>(() => {}));
  try {
    const cases: [string, string, RegExp][] = [
      ['no-src', '', /has no source repository \(a \[\*-source\] section/],
      ['partial-src', sourceSection('pinget-partial-source', partial.url), /no source repository lists 1 source rpm\(s\): pinget-libc-0\.5-2\.fc40\.src\.rpm/],
    ];
    for (const [name, sections, reason] of cases) {
      const r = await rootWith(name, sections);
      const out = join(work, `never-${name}`);
      const res = await cli(['hash', 'generate', '--root', r, '--sources', '-o', out]);
      assert.equal(res.code, 4, `${name}: ${res.stderr}`);
      assert.match(res.stderr, reason, name);
      assert.doesNotMatch(res.stderr, /\n\s+at /);
      assert.equal(existsSync(out), false, `${name}: wrote ${out}`);
    }
    // A source repository that does not answer: exit 4 naming it.
    const r = await rootWith('gone-src', sourceSection('pinget-gone-source', 'http://127.0.0.1:9/nothing'));
    const res = await cli(['hash', 'generate', '--root', r, '--sources', '-o', join(work, 'never-gone')]);
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, /repo pinget-gone-source/);
    assert.equal(existsSync(join(work, 'never-gone')), false);
    // One that accepts the request and never answers: --timeout, then exit 4 naming it.
    const h = await rootWith('hang-src', sourceSection('pinget-hang-source', hang.url));
    const hung = await cli(['hash', 'generate', '--root', h, '--sources', '--timeout', '2', '-o', join(work, 'never-hang')], 'cache-hang');
    assert.equal(hung.code, 4, hung.stderr);
    assert.match(hung.stderr, /repo pinget-hang-source .*repomd\.xml/);
    assert.equal(existsSync(join(work, 'never-hang')), false);
  } finally {
    await partial.close();
    await hang.close();
  }
});

test('a liar: a source repo serving other bytes for a .src.rpm is exit 3; a tampered source repomd.xml is exit 3', async () => {
  assert.ok(existsSync(withSources), 'needs the lockfile of the first test');
  const liar = await serveDirectory(join(work, 'src-repo'), (_req, res, rel) => {
    if (!rel.endsWith('.src.rpm')) return false;
    res.writeHead(200).end('not the source rpm');
    return true;
  });
  const genuine = await readFile(join(work, 'src-repo', 'repodata', 'repomd.xml'), 'utf8');
  const tampered = await serveDirectory(join(work, 'src-repo'), (_req, res, rel) => {
    if (rel !== 'repodata/repomd.xml') return false;
    res.writeHead(200).end(genuine.replace(/<revision>\d+/, '<revision>1'));
    return true;
  });
  try {
    const r = await rootWith('liar', sourceSection('pinget-test-source', liar.url));
    const out = join(work, 'dl-liar');
    const res = await cli(['download', withSources, '--root', r, '-o', out, '--sources'], 'cache-liar');
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /\.src\.rpm/);
    assert.ok(!(await readdir(out).catch(() => [] as string[])).some((d) => d === 'pinget-app' && existsSync(join(out, 'pinget-app/2.0/3/src'))), 'no unverified source rpm laid out');

    const t = await rootWith('tampered', sourceSection('pinget-test-source', tampered.url));
    const gen = await cli(['hash', 'generate', '--root', t, '--sources', '-o', join(work, 'never-tampered')], 'cache-tampered');
    assert.equal(gen.code, 3, gen.stderr);
    assert.equal(existsSync(join(work, 'never-tampered')), false);
  } finally {
    await liar.close();
    await tampered.close();
  }
});

/**
 * `hash generate --sources` for Debian: the source packages of the pinned binaries from the signed Sources
 * indexes. Against a real apt repository built here (apt-ftparchive, gpg, dpkg-source, served on 127.0.0.1):
 * a missing Sources index is exit 4 naming it, an altered one exit 3, and the pinned files are those
 * apt-ftparchive listed. Against this machine's configured Debian mirror: a real bookworm package's source
 * pinned, fetched by `download --sources`, and unpacked by `dpkg-source -x`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAptRepo, hostArch, makeAptRoot, type AptRepo, type AptRoot } from './helpers/apt-repo.js';
import { runCli } from './helpers/cli.js';
import { startHostileServer } from './helpers/hostile-server.js';
import { run } from '../src/exec.js';
import { readLockfile } from '../src/lockfile.js';
import { sourceEntries, stanzasByName } from '../distros/debian/source-pins.js';

async function must(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.code}): ${res.stderr.trim()}`);
  return res.stdout;
}

let repo: AptRepo;
let root: AptRoot;
let work: string;

/** A format 1.0 native source package by dpkg-source -b, beside its binary in the pool. */
async function buildSource(name: string, version: string): Promise<void> {
  const noEpoch = version.replace(/^\d+:/, '');
  const tree = join(work, `${name}-${noEpoch.replace(/-.*$/, '')}`);
  await mkdir(join(tree, 'debian'), { recursive: true });
  await writeFile(join(tree, 'README'), `${name}\n`);
  await writeFile(join(tree, 'debian/control'), `Source: ${name}\nMaintainer: pinget tests <tests@example.invalid>\n\nPackage: ${name}\nArchitecture: any\nDescription: test\n test\n`);
  await writeFile(join(tree, 'debian/changelog'), `${name} (${version}) stable; urgency=low\n\n  * test\n\n -- pinget tests <tests@example.invalid>  Tue, 14 Nov 2023 22:13:20 +0000\n`);
  await writeFile(join(tree, 'debian/rules'), '#!/usr/bin/make -f\n');
  await must('dpkg-source', ['--format=1.0', '-b', tree], { cwd: work, env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
  const pool = join(repo.dir, 'pool/main', name[0], name);
  for (const f of await readdir(work)) if (f.startsWith(`${name}_`)) await writeFile(join(pool, f), await readFile(join(work, f)));
}

async function publishSources(): Promise<void> {
  const src = join(repo.dir, 'dists', repo.suite, 'main/source');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'Sources'), await must('apt-ftparchive', ['sources', 'pool'], { cwd: repo.dir }));
  await must('xz', ['-k', '-f', join(src, 'Sources')]);
  const arch = await hostArch();
  const release = await must(
    'apt-ftparchive',
    ['-o', `APT::FTPArchive::Release::Suite=${repo.suite}`, '-o', `APT::FTPArchive::Release::Codename=${repo.suite}`, '-o', 'APT::FTPArchive::Release::Components=main', '-o', `APT::FTPArchive::Release::Architectures=${arch} source`, 'release', `dists/${repo.suite}`],
    { cwd: repo.dir },
  );
  await writeFile(join(repo.dir, 'dists', repo.suite, 'Release'), release);
  await repo.resign();
}

before(async () => {
  repo = await buildAptRepo();
  root = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-app'] });
  work = await mkdtemp(join(tmpdir(), 'pinget-srcpkg-'));
});

after(async () => {
  await root?.close();
  await repo?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('hash generate --sources: no Sources index is exit 4 naming it; a signed one pins each .dsc and its files; an altered one is exit 3', async () => {
  const out = join(work, 'SHA256SUMS');
  const none = await runCli(['hash', 'generate', '--root', root.root, '--sources', '--cache', join(work, 'cache'), '-o', out]);
  assert.equal(none.code, 4, none.stderr);
  assert.match(none.stderr, /no signed Sources index lists 3 source package\(s\)/);
  assert.match(none.stderr, /main\/source\/Sources: not listed in the signed/);
  await assert.rejects(readFile(out), 'no lockfile without the sources asked for');

  // A hang: a second configured mirror that accepts the request and answers nothing costs --timeout, then exit 4.
  const hang = await startHostileServer({}, 'hang-before-headers');
  const hangList = join(root.root, 'etc/apt/sources.list.d/hang.list');
  try {
    await writeFile(hangList, `deb ${hang.url}/debian stable main\n`);
    const hung = await runCli(['hash', 'generate', '--root', root.root, '--sources', '--cache', join(work, 'cache'), '--timeout', '2', '--retries', '0', '-o', out], { timeoutMs: 120_000 });
    assert.equal(hung.code, 4, hung.stderr);
    assert.ok(hung.stderr.includes(`${hang.url}/debian/dists/stable/InRelease`), hung.stderr);
    await assert.rejects(readFile(out));
  } finally {
    await rm(hangList, { force: true });
    await hang.close();
  }

  await buildSource('pinget-app', '3.1-2');
  await buildSource('pinget-lib', '1:2.0-1');
  await buildSource('pinget-data', '1.0-1');
  await publishSources();
  const ok = await runCli(['hash', 'generate', '--root', root.root, '--sources', '--cache', join(work, 'cache'), '-o', out]);
  assert.equal(ok.code, 0, ok.stderr);
  const lock = await readLockfile(out);
  // A second run takes the verified index from the cache (under the sha256 the signed Release names): the
  // mirror's Sources are gone.
  const srcDir = join(repo.dir, 'dists', repo.suite, 'main/source');
  for (const f of ['Sources.xz', 'Sources']) await rename(join(srcDir, f), join(work, `${f}.aside`));
  try {
    const warm = await runCli(['hash', 'generate', '--root', root.root, '--sources', '--cache', join(work, 'cache'), '-o', join(work, 'warm')]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(await readFile(join(work, 'warm'), 'utf8'), await readFile(out, 'utf8'));
  } finally {
    for (const f of ['Sources.xz', 'Sources']) await rename(join(work, `${f}.aside`), join(srcDir, f));
  }
  // The reference: what apt-ftparchive wrote into the Sources index, file by file.
  const sources = await readFile(join(repo.dir, 'dists', repo.suite, 'main/source/Sources'), 'utf8');
  const expected: string[] = [];
  for (const stanza of sources.trim().split('\n\n')) {
    const dir = /^Directory: (.+)$/m.exec(stanza)![1];
    const sums = /^Checksums-Sha256:\n((?: .+\n?)+)/m.exec(stanza)![1];
    for (const line of sums.trim().split('\n')) {
      const [sha, , name] = line.trim().split(/\s+/);
      expected.push(`${sha}  ${dir}/${name}`);
    }
  }
  const got = lock.entries.filter((e) => !e.path.endsWith('.deb')).map((e) => `${e.sha256}  ${e.path}`);
  assert.deepEqual(got.sort(), expected.sort());
  assert.equal(got.filter((l) => l.endsWith('.dsc')).length, 3);
  assert.ok(got.some((l) => l.endsWith('pool/main/p/pinget-lib/pinget-lib_2.0-1.dsc')), 'the epoch is in the version, not the file name');
  assert.equal(lock.entries.filter((e) => e.path.endsWith('.deb')).length, 3);

  // A liar: the Sources index no longer matches the signed Release.
  const srcFile = join(repo.dir, 'dists', repo.suite, 'main/source/Sources.xz');
  const good = await readFile(srcFile);
  const text = sources.replace(/^( [0-9a-f]{64})/m, ` ${'0'.repeat(64)}`);
  await writeFile(join(work, 'Sources'), text);
  await must('xz', ['-k', '-f', join(work, 'Sources')]);
  await writeFile(srcFile, await readFile(join(work, 'Sources.xz')));
  // a cache of its own: the runs before cached the true index under the sha256 the Release names
  const liar = await runCli(['hash', 'generate', '--root', root.root, '--sources', '--cache', join(work, 'liar-cache'), '-o', join(work, 'liar')]);
  await writeFile(srcFile, good);
  assert.equal(liar.code, 3, liar.stderr);
  assert.match(liar.stderr, /main\/source\/Sources\.xz: .* served bytes that do not match/);
  await assert.rejects(readFile(join(work, 'liar')));
});

test('Sources stanzas: Directory and file names that would leave the pool are refused; a stanza without .dsc is refused', () => {
  const ok = new Map([
    ['package', 'x'],
    ['directory', 'pool/main/x/x'],
    ['checksums-sha256', `${'a'.repeat(64)} 10 x_1.dsc\n${'b'.repeat(64)} 20 x_1.tar.xz`],
  ]);
  assert.deepEqual(sourceEntries(ok, 'w').map((e) => e.path), ['pool/main/x/x/x_1.dsc', 'pool/main/x/x/x_1.tar.xz']);
  assert.throws(() => sourceEntries(new Map([...ok, ['directory', 'pool/../../etc']]), 'w'), /no usable Directory/);
  assert.throws(() => sourceEntries(new Map([...ok, ['directory', '/etc']]), 'w'), /no usable Directory/);
  assert.throws(() => sourceEntries(new Map([...ok, ['checksums-sha256', `${'a'.repeat(64)} 10 ../../x_1.dsc`]]), 'w'), /bad Checksums-Sha256/);
  assert.throws(() => sourceEntries(new Map([...ok, ['checksums-sha256', `${'a'.repeat(64)} 10 x_1.tar.xz`]]), 'w'), /lists no \.dsc/);
  // Garbage between stanzas pins nothing and does not stop the scan.
  const text = `Package: x\nVersion: 1\n\nPackage y broken\n\n\n\nPackage: y\nVersion: 2\nDirectory: pool/main/y/y\n`;
  const found = stanzasByName(text, new Set(['y', 'x']));
  assert.deepEqual([...found.keys()].sort(), ['x', 'y']);
  assert.equal(found.get('y')![0].get('version'), '2');
});

test("the source of a real bookworm package from this machine's mirror: pinned, downloaded with --sources, unpacked by dpkg-source -x", async () => {
  const q = await run('dpkg-query', ['-W', '-f', '${source:Package} ${source:Version}', 'hostname']);
  assert.equal(q.code, 0, 'hostname is installed (Priority: required)');
  const [source, version] = q.stdout.trim().split(' ');
  const dir = await mkdtemp(join(tmpdir(), 'pinget-srcreal-'));
  try {
    const lock = join(dir, 'SHA256SUMS');
    const gen = await runCli(['hash', 'generate', 'hostname', '--sources', '--cache', join(dir, 'cache'), '-o', lock]);
    assert.equal(gen.code, 0, gen.stderr);
    const entries = (await readLockfile(lock)).entries;
    const dsc = entries.find((e) => e.path.endsWith('.dsc'))!;
    assert.equal(dsc.path.split('/').pop(), `${source}_${version.replace(/^\d+:/, '')}.dsc`);
    const plain = await runCli(['download', lock, '--cache', join(dir, 'cache'), '-o', join(dir, 'bin')]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /leaving out \d+ source package file\(s\)/);
    await assert.rejects(readFile(join(dir, 'bin', dsc.path)));
    const dl = await runCli(['download', lock, '--sources', '--cache', join(dir, 'cache'), '-o', join(dir, 'all')]);
    assert.equal(dl.code, 0, dl.stderr);
    await must('sha256sum', ['-c', lock], { cwd: join(dir, 'all') });
    await must('dpkg-source', ['-x', join(dir, 'all', dsc.path), join(dir, 'unpacked')]);
    const changelog = await readFile(join(dir, 'unpacked/debian/changelog'), 'utf8');
    assert.ok(changelog.startsWith(`${source} (${version})`), changelog.slice(0, 80));
    // The SBOM shows the pinned source package, its files and the binary's source version.
    const sbom = await runCli(['sbom', lock]);
    assert.equal(sbom.code, 0, sbom.stderr);
    const bom = JSON.parse(sbom.stdout) as { components: { name: string; purl: string; pedigree?: { ancestors: { purl: string }[] }; externalReferences?: { url: string }[] }[] };
    const src = bom.components.find((c) => c.purl.includes('arch=source'))!;
    assert.equal(src.externalReferences!.length, entries.filter((e) => !e.path.endsWith('.deb')).length);
    const bin = bom.components.find((c) => c.name === 'hostname' && !c.purl.includes('arch=source'))!;
    assert.equal(bin.pedigree!.ancestors[0].purl, src.purl);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** The Debian adapter against a real apt repository, a root populated by real apt + dpkg, and dpkg --root installs. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianAdapter } from '../distros/debian/index.js';
import type { DistroInfo } from '../src/distro/types.js';
import { PingetError } from '../src/errors.js';
import { run } from '../src/exec.js';
import { silentLogger } from '../src/ui/log.js';
import { buildAptRepo, makeAptRoot, type AptRepo, type AptRoot } from './helpers/apt-repo.js';

let repo: AptRepo;
let aptRoot: AptRoot;
let info: DistroInfo;
const temps: string[] = [];
const log = silentLogger;

before(async () => {
  repo = await buildAptRepo();
  aptRoot = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-app'] });
  info = (await debianAdapter.detect(aptRoot.root))!;
});
after(async () => {
  await aptRoot?.close();
  await repo?.close();
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

async function copyRoot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-debcopy-'));
  temps.push(dir);
  await cp(aptRoot.root, dir, { recursive: true });
  return dir;
}

const installedNames = ['pinget-app', 'pinget-data', 'pinget-lib'];

async function dpkgSet(root: string): Promise<string> {
  return (await run('dpkg-query', [`--admindir=${join(root, 'var/lib/dpkg')}`, '-W', '-f', '${Package} ${Version} ${Architecture} ${Status}\n'])).stdout;
}

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp) {
  await assert.rejects(p, (e: unknown) => e instanceof PingetError && e.code === code && re.test(e.message));
}

test('detect reads os-release and the arch from the status file of a non-/ root', async () => {
  assert.equal(info.id, 'debian');
  assert.equal(info.versionId, '12');
  assert.equal(info.codename, 'bookworm');
  assert.equal(info.arch, repo.packages.find((p) => p.name === 'pinget-lib')!.arch);
});

test('generate: one entry per installed package, hashes equal to the .debs, snapshot from the signed Release', async () => {
  delete process.env.SOURCE_DATE_EPOCH;
  const res = await debianAdapter.generate(aptRoot.root, info, { log });
  const want = repo.packages.filter((p) => installedNames.includes(p.name)).map((p) => ({ sha256: p.sha256, path: p.path }));
  assert.deepEqual(res.entries, want.sort((a, b) => a.path.localeCompare(b.path)));
  assert.equal(res.headers.distro, `debian 12 (bookworm) ${info.arch}`);
  const release = await readFile(join(repo.dir, 'dists/stable/Release'), 'utf8');
  const date = new Date(/^Date: (.*)$/m.exec(release)![1]);
  assert.equal(res.headers.snapshot, date.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  process.env.SOURCE_DATE_EPOCH = '1795132800';
  try {
    assert.equal((await debianAdapter.generate(aptRoot.root, info, { log })).headers.snapshot, '2026-11-20T00:00:00Z');
  } finally {
    delete process.env.SOURCE_DATE_EPOCH;
  }
  const only = await debianAdapter.generate(aptRoot.root, info, { log, only: ['pinget-lib'] });
  assert.deepEqual(only.entries.map((e) => e.path), [repo.packages.find((p) => p.name === 'pinget-lib')!.path]);
  await rejectsWith(debianAdapter.generate(aptRoot.root, info, { log, only: ['pinget-extra'] }), 'BAD_INPUT', /not installed: pinget-extra/);
});

test('installed() and providers() read the root', async () => {
  const inst = await debianAdapter.installed(aptRoot.root, info);
  assert.deepEqual(inst.map((p) => `${p.name}=${p.version}`).sort(), ['pinget-app=3.1-2', 'pinget-data=1.0-1', 'pinget-lib=1:2.0-1']);
  assert.deepEqual(await debianAdapter.providers(aptRoot.root, info, {}), [{ template: `${repo.url}/{{.Name}}`, label: `apt mirror ${repo.url}` }]);
});

test('install into a fresh root gives the same dpkg package set and files; a second run skips', async () => {
  const res = await debianAdapter.generate(aptRoot.root, info, { log });
  const fresh = await mkdtemp(join(tmpdir(), 'pinget-debfresh-'));
  temps.push(fresh);
  const files = res.entries.map((entry) => ({ entry, file: join(repo.dir, entry.path) }));
  const rep = await debianAdapter.install(files, fresh, info, { log });
  assert.equal(rep.installed.length, 3);
  assert.equal(rep.skipped.length, 0);
  assert.equal(await dpkgSet(fresh), await dpkgSet(aptRoot.root));
  for (const n of installedNames) {
    const rel = `usr/share/pinget-test/${n}/README`;
    assert.equal(await readFile(join(fresh, rel), 'utf8'), await readFile(join(aptRoot.root, rel), 'utf8'));
  }
  const again = await debianAdapter.install(files, fresh, info, { log });
  assert.deepEqual([again.installed.length, again.skipped.length], [0, 3]);
});

test('dpkg failure -> PACKAGE_MANAGER with dpkg\'s words', async () => {
  const fresh = await mkdtemp(join(tmpdir(), 'pinget-debfail-'));
  temps.push(fresh);
  const app = repo.packages.find((p) => p.name === 'pinget-app')!;
  // pinget-app alone: its dependencies are missing, dpkg refuses to configure it.
  await rejectsWith(debianAdapter.install([{ entry: { sha256: app.sha256, path: app.path }, file: app.file }], fresh, info, { log }), 'PACKAGE_MANAGER', /dpkg.*(depend|pinget-lib)/);
});

test('a tampered Packages list -> INTEGRITY; with allowUnsigned it is read', async () => {
  const root = await copyRoot();
  const lists = join(root, 'var/lib/apt/lists');
  const name = (await readdirNames(lists)).find((n) => n.endsWith('_Packages'))!;
  await appendFile(join(lists, name), '\n');
  await rejectsWith(debianAdapter.generate(root, info, { log }), 'INTEGRITY', /sha256 does not match main\/binary-.*\/Packages/);
  const warned: string[] = [];
  const res = await debianAdapter.generate(root, info, { log: { ...silentLogger, warn: (m) => warned.push(m) }, allowUnsigned: true });
  assert.equal(res.entries.length, 3);
  assert.match(warned.join('\n'), /not checking/);
});

test('a tampered InRelease -> INTEGRITY', async () => {
  const root = await copyRoot();
  const lists = join(root, 'var/lib/apt/lists');
  const name = (await readdirNames(lists)).find((n) => n.endsWith('_InRelease'))!;
  const text = await readFile(join(lists, name), 'utf8');
  await writeFile(join(lists, name), text.replace('Suite: stable', 'Suite: stablE'));
  await rejectsWith(debianAdapter.generate(root, info, { log }), 'INTEGRITY', /InRelease: BAD signature/);
});

test('lists removed -> hashes from var/cache/apt/archives; neither -> BAD_INPUT naming the packages', async () => {
  const root = await copyRoot();
  await rm(join(root, 'var/lib/apt/lists'), { recursive: true });
  const res = await debianAdapter.generate(root, info, { log });
  const want = repo.packages.filter((p) => installedNames.includes(p.name)).map((p) => ({ sha256: p.sha256, path: p.path }));
  assert.deepEqual(res.entries, want.sort((a, b) => a.path.localeCompare(b.path)));
  assert.equal(res.headers.snapshot, undefined);
  await rm(join(root, 'var/cache/apt/archives'), { recursive: true });
  await rejectsWith(debianAdapter.generate(root, info, { log }), 'BAD_INPUT', /pinget-app:.*=3\.1-2.*pinget-lib:.*=1:2\.0-1.*apt-get update/);
});

async function readdirNames(dir: string): Promise<string[]> {
  return (await import('node:fs/promises')).readdir(dir);
}

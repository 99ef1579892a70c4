/**
 * `lock --sources` against the real Debian mirror (this machine's apt sources): on a minbase root of the machine's
 * release (mmdebstrap), `lock hello --sources` pins hello's .deb and the .dsc and files of its source package from
 * the signed Sources index, records --sources in its lock header, and `download --sources` fetches a set that
 * `dpkg-source -x` unpacks (it checks each file against the .dsc).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from './helpers/cli.js';
import { hostCodename, minbaseTarball } from './helpers/minbase.js';
import { run } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { inspectDebPath } from '../distros/debian/pool-path.js';

const inCI = process.env.CI === 'true';
const haveMmdebstrap = (await run('mmdebstrap', ['--version']).catch(() => undefined))?.code === 0;
const skip = !haveMmdebstrap && !inCI ? 'mmdebstrap is not installed (.ci/apt-packages/image.txt; under CI=true this fails)' : false;

let work: string;
let base: string;

before(async () => {
  if (skip) return;
  await mkdir(join(REPO_ROOT, 'tmp'), { recursive: true });
  work = await mkdtemp(join(REPO_ROOT, 'tmp', 'lock-sources-'));
  base = join(work, 'base');
  await mkdir(base);
  const res = await run('tar', ['-C', base, '-xf', await minbaseTarball(await hostCodename())]);
  assert.equal(res.code, 0, res.stderr);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('lock hello --sources pins the .dsc and its files of each locked binary; download --sources gives a set dpkg-source -x unpacks', { skip }, async () => {
  const out = join(work, 'SHA256SUMS');
  const cache = join(work, 'cache');
  const res = await runCli(['lock', 'hello', '--root', base, '--sources', '-o', out, '--cache', cache], { timeoutMs: 10 * 60_000 });
  assert.equal(res.code, 0, res.stderr);
  const lock = parseLockfile(await readFile(out, 'utf8'), out);
  assert.match(lock.headers.lock, /^hello --sources$/);
  const debs = lock.entries.filter((e) => e.path.endsWith('.deb'));
  const others = lock.entries.filter((e) => !e.path.endsWith('.deb'));
  assert.deepEqual(debs.map((e) => inspectDebPath(e.path)!.name), ['hello']);
  // the source package's files sit in its pool directory, which the binary's path names
  const dir = debs[0].path.slice(0, debs[0].path.lastIndexOf('/'));
  const dscs = others.filter((e) => e.path.endsWith('.dsc'));
  assert.deepEqual(dscs.map((e) => e.path.slice(0, e.path.lastIndexOf('/'))), [dir]);
  assert.ok(others.length >= 2 && others.every((e) => e.path.startsWith(`${dir}/hello_`)), others.map((e) => e.path).join(', '));

  const dl = join(work, 'dl');
  const down = await runCli(['download', out, '--root', base, '--sources', '-o', dl, '--cache', cache], { timeoutMs: 10 * 60_000 });
  assert.equal(down.code, 0, down.stderr);
  const unpacked = join(work, 'hello-src');
  const x = await run('dpkg-source', ['-x', join(dl, dscs[0].path), unpacked], { cwd: work });
  assert.equal(x.code, 0, x.stderr);
  assert.match(await readFile(join(unpacked, 'debian', 'control'), 'utf8'), /^Source: hello$/m);
  assert.ok((await stat(join(unpacked, 'debian', 'changelog'))).isFile());
  assert.ok((await readdir(unpacked)).length > 3, 'the upstream tree is there');

  // lock --update asks for the same again, sources included: nothing changed.
  const again = await runCli(['lock', '--update', out, '--root', base, '--cache', cache], { timeoutMs: 10 * 60_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /unchanged/);
});

test('lock --distro NAME:RELEASE --sources (an empty base): every locked binary has its source package pinned, from the host mirrors moved to the release', { skip }, async () => {
  const out = join(work, 'SHA256SUMS-empty');
  const res = await runCli(['lock', 'hello', '--distro', `debian:${await hostCodename()}`, '--sources', '--no-install-recommends', '-o', out, '--cache', join(work, 'cache')], { timeoutMs: 10 * 60_000 });
  assert.equal(res.code, 0, res.stderr);
  const lock = parseLockfile(await readFile(out, 'utf8'), out);
  const debs = lock.entries.filter((e) => e.path.endsWith('.deb'));
  const dirOf = (p: string) => p.slice(0, p.lastIndexOf('/'));
  const dscDirs = new Set(lock.entries.filter((e) => e.path.endsWith('.dsc')).map((e) => dirOf(e.path)));
  assert.ok(debs.length > 50, `the minbase set and hello: ${debs.length}`);
  assert.deepEqual(debs.filter((e) => !dscDirs.has(dirOf(e.path))).map((e) => e.path), [], 'a .dsc beside each binary\'s source');
  assert.deepEqual([...dscDirs].filter((d) => !debs.some((e) => dirOf(e.path) === d)), [], 'no source of a binary not locked');
});

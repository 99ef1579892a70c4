/**
 * `pinget diff` of Debian lockfiles that pin source packages (`lock --sources`, `hash generate --sources`):
 * each `.dsc` is the source package `NAME (source)` with its version, its tarballs are told under its change,
 * and a tarball that no change of its source explains stays a plain file in "Needs a look". Real data:
 * testdata/diff/debian-sources-{old,new}.SHA256SUMS (Debian 12 and 13 indexes, see testdata/diff/README.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT, runCli } from './helpers/cli.js';
import { run } from '../src/exec.js';
import { inspectDebSourcePath } from '../distros/debian/pool-path.js';
import type { LockfileDiff, PackageChange } from '../src/diff.js';

const DATA = join(REPO_ROOT, 'testdata', 'diff');
const OLD = join(DATA, 'debian-sources-old.SHA256SUMS');
const NEW = join(DATA, 'debian-sources-new.SHA256SUMS');

async function jsonDiff(a: string, b: string): Promise<LockfileDiff> {
  const res = await runCli(['diff', a, b, '--format', 'json']);
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout) as LockfileDiff;
}

async function withLockfile<T>(text: string, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-diff-src-'));
  try {
    const file = join(dir, 'SHA256SUMS');
    await writeFile(file, text);
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const source = (d: LockfileDiff, name: string): PackageChange | undefined => d.changes.find((c) => c.name === name && c.arch === 'source');

test('source file names: the .dsc gives name and version, tarballs and diffs the name, anything else nothing', () => {
  assert.deepEqual(inspectDebSourcePath('pool/main/h/hello/hello_2.10-3.dsc'), { name: 'hello', version: '2.10-3' });
  assert.deepEqual(inspectDebSourcePath('pool/main/g/gzip/gzip_1.12.orig.tar.xz.asc'), { name: 'gzip' });
  assert.deepEqual(inspectDebSourcePath('pool/main/b/base-files/base-files_12.4+deb12u15.tar.xz'), { name: 'base-files' });
  assert.deepEqual(inspectDebSourcePath('pool/main/f/foo/foo_1.0.orig-docs.tar.gz'), { name: 'foo' });
  assert.deepEqual(inspectDebSourcePath('pool/main/f/foo/foo_1.0-1.diff.gz'), { name: 'foo' });
  // not under its own source's pool directory, not in a pool, not a source file, garbage
  for (const p of ['pool/main/h/hello/evil_1.0.dsc', 'hello_2.10-3.dsc', 'dists/x/hello_2.10-3.dsc', 'pool/main/h/hello/hello_2.10-3_amd64.deb', 'pool/main/h/hello/hello_2.10.orig.tar.gz.sig', 'pool/main/h/hello/', '\u0000.dsc']) {
    assert.equal(inspectDebSourcePath(p), undefined, p);
  }
});

test('Debian 12 -> 13 with sources: each .dsc is its source package upgraded, its tarballs listed under it, none left as a plain file', async () => {
  const d = await jsonDiff(OLD, NEW);
  assert.deepEqual(d.otherAdded, []);
  assert.deepEqual(d.otherRemoved, []);
  assert.deepEqual(d.alerts, []);
  const hello = source(d, 'hello');
  assert.equal(hello?.kind, 'upgraded');
  assert.equal(hello?.oldVersion, '2.10-3');
  assert.equal(hello?.newVersion, '2.10-5');
  assert.equal(hello?.versionChange, 'revision');
  // the .orig.tar.gz and its .asc are the same file in both: neither came nor went
  assert.deepEqual(hello?.sourceFiles, { added: ['pool/main/h/hello/hello_2.10-5.debian.tar.xz'], removed: ['pool/main/h/hello/hello_2.10-3.debian.tar.xz'] });
  const gzip = source(d, 'gzip');
  assert.equal(gzip?.versionChange, 'upstream');
  assert.deepEqual(gzip?.sourceFiles, {
    added: ['pool/main/g/gzip/gzip_1.13-1+deb13u1.debian.tar.xz', 'pool/main/g/gzip/gzip_1.13.orig.tar.xz'],
    removed: ['pool/main/g/gzip/gzip_1.12-1.debian.tar.xz', 'pool/main/g/gzip/gzip_1.12.orig.tar.xz', 'pool/main/g/gzip/gzip_1.12.orig.tar.xz.asc'],
  });
  // a native package (3.0 (native)): one tarball
  assert.deepEqual(source(d, 'base-files')?.sourceFiles, { added: ['pool/main/b/base-files/base-files_13.8+deb13u8.tar.xz'], removed: ['pool/main/b/base-files/base-files_12.4+deb12u15.tar.xz'] });
  // binaries are still themselves
  assert.deepEqual(d.changes.filter((c) => c.arch === 'amd64').map((c) => `${c.name} ${c.kind}`), ['base-files upgraded', 'gzip upgraded', 'hello upgraded']);

  const text = await runCli(['diff', OLD, NEW]);
  assert.match(text.stdout, /^↑ upgraded +hello \(source\) 2\.10-3 -> 2\.10-5 +\[distro revision; source files: 1 added, 1 removed\]$/m);
  assert.doesNotMatch(text.stdout, /other files|file +pool/);
});

test('the pull-request comment as cmark-gfm renders it: source packages in the routine table with their files, nothing under "Needs a look"', async () => {
  const md = await runCli(['diff', OLD, NEW, '--format', 'markdown']);
  assert.equal(md.code, 0, md.stderr);
  const html = await run('cmark-gfm', ['-e', 'table'], { input: md.stdout, missingHint: 'run .ci/setup-test (Debian package cmark-gfm)' });
  assert.equal(html.code, 0, html.stderr);
  assert.doesNotMatch(html.stdout, /Needs a look|not a package/);
  const row = [...html.stdout.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) => m[1]).find((r) => r.includes('<code>gzip:source</code>'));
  assert.ok(row, html.stdout);
  assert.match(row, /source files: 2 added, 3 removed/);
  assert.equal([...row.matchAll(/<td>/g)].length, 5);
});

test('sources pinned for the first time are source packages added, with their files; a tarball dropped while its .dsc stays is a removed file that needs a look', async () => {
  const oldText = await readFile(OLD, 'utf8');
  const sourceLines = oldText.split('\n').filter((l) => !l.startsWith('#') && l && !l.endsWith('.deb')).length;
  assert.equal(sourceLines, 10);
  await withLockfile(oldText.split('\n').filter((l) => l.startsWith('#') || l.endsWith('.deb')).join('\n') + '\n', async (without) => {
    const d = await jsonDiff(without, OLD);
    assert.deepEqual(d.changes.map((c) => `${c.kind} ${c.name} ${c.arch} ${c.newVersion}`), ['added base-files source 12.4+deb12u15', 'added gzip source 1.12-1', 'added hello source 2.10-3']);
    assert.equal(source(d, 'gzip')?.sourceFiles?.added.length, 3);
    assert.deepEqual(d.otherAdded, []);
  });
  // the .dsc names the tarball by its checksum: a lockfile keeping the .dsc without it cannot be unpacked
  await withLockfile(oldText.replace(/^.*gzip_1\.12\.orig\.tar\.xz\n/m, ''), async (dropped) => {
    const d = await jsonDiff(OLD, dropped);
    assert.deepEqual(d.changes, []);
    assert.deepEqual(d.otherRemoved, ['pool/main/g/gzip/gzip_1.12.orig.tar.xz']);
    const md = await runCli(['diff', OLD, dropped, '--format', 'markdown']);
    assert.match(md.stdout, /Needs a look[\s\S]*removed file \| `pool\/main\/g\/gzip\/gzip_1\.12\.orig\.tar\.xz`/);
  });
  // a .dsc outside its source's directory is no source package of pinget's reading: a plain file
  await withLockfile(`${oldText}${'0'.repeat(64)}  pool/main/g/gzip/evil_1.0.dsc\n`, async (evil) => {
    const d = await jsonDiff(OLD, evil);
    assert.deepEqual(d.changes, []);
    assert.deepEqual(d.otherAdded, ['pool/main/g/gzip/evil_1.0.dsc']);
  });
});

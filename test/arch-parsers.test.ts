/** The Arch adapter's pure parts and the Arch Linux Archive's URL building, on fixtures in the real formats. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/cli.js';
import { packageOf, parseDesc } from '../distros/arch/desc.js';
import { parseSyncDb } from '../distros/arch/sync-db.js';
import { inspectArchPath, parseArchPath, parsePackageFilename } from '../distros/arch/paths.js';
import { databaseSigLevel, expandServer, parsePacmanConf } from '../distros/arch/pacman-conf.js';
import { pacmanFailure, parsePrint, parseTable } from '../distros/arch/pacman-resolve.js';
import { checkTargets } from '../distros/arch/resolve.js';
import { mirrorProviders } from '../distros/arch/mirrors.js';
import { planPackages } from '../distros/arch/plan.js';
import { snapshotOf } from '../distros/arch/generate.js';
import { optionsForInstall } from '../distros/arch/install.js';
import { archArchiveUrls, archivePackageUrl, archiveSnapshotUrls, ARCH_ARCHIVE_BASE } from '../src/fetch/archives/arch.js';
import { createProvider } from '../src/fetch/providers.js';
import { silentLogger } from '../src/ui/log.js';
import type { FetchTarget } from '../src/fetch/types.js';

const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'testdata', 'arch', name));

test('desc: local db record with multi-value keys', () => {
  const rec = parseDesc(fixture('local-desc').toString('utf8'));
  assert.deepEqual(rec.DEPENDS, ['glibc', 'zlib>=1.3']);
  assert.deepEqual(packageOf(rec), { name: 'beta', version: '2:0.5-3', arch: 'x86_64', filename: undefined, sha256: undefined, pgpsig: undefined, builddate: 1700100000, licences: ['MIT'], base: 'beta' });
});

test('desc: CRLF, no final newline, uppercase hash is lowered', () => {
  const pkg = packageOf(parseDesc(fixture('sync-desc-crlf').toString('utf8')));
  assert.equal(pkg?.name, 'alpha');
  assert.equal(pkg?.arch, 'any');
  assert.equal(pkg?.filename, 'alpha-1.0-1-any.pkg.tar.zst');
  assert.equal(pkg?.sha256, 'ab4e3c0f6e3b7b1e0c9c0f2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60');
  assert.equal(pkg?.pgpsig, 'iHUEABYKAB0WIQ');
  assert.equal(packageOf(parseDesc('%DESC%\nno name\n')), undefined);
});

test('desc: only %KEY% of A-Z, 0-9 and _ opens a block; a blank line ends it; lines outside a block are dropped', () => {
  const rec = parseDesc('stray\n%NAME%\nx\r\n\nlost\n%lower%\nstill-name\n%%\nmore\n%A_1%\n%NOT KEY%\n\n%NAME%\ny');
  assert.deepEqual(rec, { NAME: ['x', 'y'], A_1: ['%NOT KEY%'] });
  assert.deepEqual(parseDesc(''), {});
});

test('sync db: gzip and zstd tars give the same records; garbage is BAD_INPUT', async () => {
  const gz = await parseSyncDb(fixture('tiny.db.tar.gz'), 'tiny.db');
  const zst = await parseSyncDb(fixture('tiny.db.tar.zst'), 'tiny.db');
  assert.deepEqual(gz, zst);
  assert.deepEqual(gz.map((p) => `${p.name} ${p.version} ${p.filename}`).sort(), [
    'alpha 1.0-1 alpha-1.0-1-any.pkg.tar.zst',
    'beta 2:0.5-3 beta-2:0.5-3-x86_64.pkg.tar.zst',
  ]);
  await assert.rejects(parseSyncDb(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 'bad.db'), { code: 'BAD_INPUT' });
});

test('package file names: hyphenated names, epochs, every PKGEXT; others refused', () => {
  assert.deepEqual(parsePackageFilename('python-setuptools-1:69.5.1-1-any.pkg.tar.zst'), { name: 'python-setuptools', version: '1:69.5.1-1', arch: 'any' });
  assert.deepEqual(parsePackageFilename('lib32-glibc-2.39+r52+gf8e4623421-1-x86_64.pkg.tar.xz'), {
    name: 'lib32-glibc',
    version: '2.39+r52+gf8e4623421-1',
    arch: 'x86_64',
  });
  assert.equal(parsePackageFilename('awesome-3.5.0-1-i686.pkg.tar')?.arch, 'i686');
  assert.equal(parsePackageFilename('hello_2.10-2_amd64.deb'), undefined);
  assert.equal(parsePackageFilename('awesome-4.3-2-x86_64.pkg.tar.zst.sig'), undefined);
});

test('lockfile paths: pinget mirror layout and repro-get archive layout; signatures and strangers are not packages', () => {
  assert.deepEqual(parseArchPath('core/os/x86_64/pacman-6.1.0-3-x86_64.pkg.tar.zst'), {
    ref: { name: 'pacman', version: '6.1.0-3', arch: 'x86_64' },
    repo: 'core',
    repoArch: 'x86_64',
    filename: 'pacman-6.1.0-3-x86_64.pkg.tar.zst',
  });
  assert.deepEqual(inspectArchPath('a/awesome/awesome-4.3-2-x86_64.pkg.tar.zst'), { name: 'awesome', version: '4.3-2', arch: 'x86_64' });
  assert.equal(inspectArchPath('a/awesome/awesome-4.3-2-x86_64.pkg.tar.zst.sig'), undefined);
  assert.equal(inspectArchPath('b/awesome/awesome-4.3-2-x86_64.pkg.tar.zst'), undefined);
  assert.equal(inspectArchPath('pool/main/h/hello/hello_2.10-2_amd64.deb'), undefined);
  assert.equal(inspectArchPath('hello/2.10/2.fc40/x86_64/hello-2.10-2.fc40.x86_64.rpm'), undefined);
});

test('pacman.conf: Include files read from the root, options, servers in order, commented sections ignored', () => {
  const includes: string[] = [];
  const conf = parsePacmanConf(fixture('pacman.conf').toString('utf8'), (p) => {
    includes.push(p);
    return p === '/etc/pacman.d/mirrorlist' ? fixture('mirrorlist').toString('utf8') : undefined;
  });
  assert.deepEqual(includes, ['/etc/pacman.d/mirrorlist', '/etc/pacman.d/mirrorlist']);
  assert.deepEqual(conf.repos.map((r) => r.name), ['core', 'extra', 'custom']);
  assert.deepEqual(conf.repos[0].servers, [
    'https://mirror.example.invalid/archlinux/$repo/os/$arch',
    'http://other.example.invalid/arch/$repo/os/$arch/',
  ]);
  assert.deepEqual(conf.repos[2].sigLevel, ['Optional', 'TrustAll']);
  assert.deepEqual(conf.options.Architecture, ['auto']);
  assert.deepEqual(conf.options.NoExtract, ['usr/share/man/*', 'usr/share/doc/*']);
  assert.equal(expandServer(conf.repos[2].servers[1], 'custom', 'x86_64'), 'http://127.0.0.1:8080/custom/x86_64');

  assert.deepEqual(mirrorProviders(conf, 'x86_64').map((s) => s.template), [
    'https://mirror.example.invalid/archlinux/{{.Name}}',
    'http://other.example.invalid/arch/{{.Name}}',
    'file:///home/custompkgs/{{.Basename}}',
    'http://127.0.0.1:8080/custom/x86_64/{{.Basename}}',
  ]);
});

test('install config keeps NoExtract and friends, drops paths and includes, and can turn signature checks off', () => {
  const text = optionsForInstall(fixture('pacman.conf').toString('utf8'), true);
  assert.match(text, /^NoExtract\s+= usr\/share\/man\/\* usr\/share\/doc\/\*$/m);
  assert.doesNotMatch(text, /CacheDir|Include|SigLevel    =|Server/);
  assert.match(text, /^LocalFileSigLevel = Never$/m);
  assert.doesNotMatch(optionsForInstall(fixture('pacman.conf').toString('utf8'), false), /Never/);
});

test('planning: the first repo with the installed version wins; else the cache; else missing', () => {
  const pkg = (name: string, version: string, extra: object = {}) => ({ name, version, arch: 'x86_64', ...extra });
  const plan = planPackages({
    installed: [pkg('a', '1-1'), pkg('b', '2-1'), pkg('c', '3-1'), pkg('d', '4-1')],
    repos: [
      { name: 'core', packages: [pkg('a', '1-1', { filename: 'a-1-1-x86_64.pkg.tar.zst', sha256: 'a'.repeat(64) }), pkg('b', '2-2', { filename: 'b-2-2-x86_64.pkg.tar.zst', sha256: 'b'.repeat(64) })] },
      { name: 'extra', packages: [pkg('a', '1-1', { filename: 'a-1-1-x86_64.pkg.tar.zst', sha256: 'c'.repeat(64) })] },
    ],
    cache: new Map([
      ['b-2-1-x86_64.pkg.tar.zst', '/cache/b-2-1-x86_64.pkg.tar.zst'],
      ['d-4-0-x86_64.pkg.tar.zst', '/cache/d-4-0-x86_64.pkg.tar.zst'],
    ]),
    arch: 'x86_64',
  });
  assert.deepEqual(plan.planned.map((p) => [p.path, p.sha256]), [
    ['core/os/x86_64/a-1-1-x86_64.pkg.tar.zst', 'a'.repeat(64)],
    ['b/b/b-2-1-x86_64.pkg.tar.zst', undefined],
  ]);
  assert.deepEqual(plan.missing.map((p) => p.name), ['c', 'd']);
  const only = planPackages({ installed: [pkg('a', '1-1')], repos: [], cache: new Map(), arch: 'x86_64', only: ['a', 'zz'] });
  assert.deepEqual(only.unknown, ['zz']);
});

test('snapshot header: SOURCE_DATE_EPOCH, else the newest BUILDDATE of the sync dbs, never the clock', () => {
  const repos = [{ packages: [{ name: 'a', version: '1', arch: 'any', builddate: 1700000000 }, { name: 'b', version: '1', arch: 'any', builddate: 1700300000 }] }];
  assert.equal(snapshotOf({ SOURCE_DATE_EPOCH: '0' }, repos), '1970-01-01T00:00:00Z');
  assert.equal(snapshotOf({}, repos), '2023-11-18T09:33:20Z');
  assert.equal(snapshotOf({}, []), undefined);
  assert.throws(() => snapshotOf({ SOURCE_DATE_EPOCH: 'yesterday' }, repos), { code: 'USAGE' });
});

const target = (path: string, headers: Record<string, string> = {}, ref?: FetchTarget['ref']): FetchTarget => ({ path, sha256: '0'.repeat(64), headers, ref });

test('Arch Linux Archive URLs match recorded real archive paths', () => {
  // Recorded from the ArchWiki "Arch Linux Archive" page (packages/ tree and the restore-to-a-date Server line).
  assert.equal(
    archivePackageUrl(ARCH_ARCHIVE_BASE, target('a/awesome/awesome-4.3-2-x86_64.pkg.tar.zst')),
    'https://archive.archlinux.org/packages/a/awesome/awesome-4.3-2-x86_64.pkg.tar.zst',
  );
  assert.equal(
    archivePackageUrl(ARCH_ARCHIVE_BASE, target('a/awesome/awesome-4.3-2-x86_64.pkg.tar.zst.sig')),
    'https://archive.archlinux.org/packages/a/awesome/awesome-4.3-2-x86_64.pkg.tar.zst.sig',
  );
  assert.deepEqual(archiveSnapshotUrls(ARCH_ARCHIVE_BASE, target('core/os/x86_64/pacman-4.1.2-5-x86_64.pkg.tar.xz', { snapshot: '2014-03-30T12:00:00Z' })), [
    'https://archive.archlinux.org/repos/2014/03/30/core/os/x86_64/pacman-4.1.2-5-x86_64.pkg.tar.xz',
    'https://archive.archlinux.org/repos/2014/03/31/core/os/x86_64/pacman-4.1.2-5-x86_64.pkg.tar.xz',
  ]);
  // the name comes from target.ref (the adapter's inspect) and the epoch colon is percent-encoded
  assert.deepEqual(
    archArchiveUrls(
      'http://127.0.0.1:1',
      target('extra/os/x86_64/python-setuptools-1:69.5.1-1-any.pkg.tar.zst', { snapshot: '2024-02-29T23:59:59Z' }, { name: 'python-setuptools', version: '1:69.5.1-1', arch: 'any' }),
    ),
    [
      'http://127.0.0.1:1/packages/p/python-setuptools/python-setuptools-1%3a69.5.1-1-any.pkg.tar.zst',
      'http://127.0.0.1:1/repos/2024/02/29/extra/os/x86_64/python-setuptools-1%3a69.5.1-1-any.pkg.tar.zst',
      'http://127.0.0.1:1/repos/2024/03/01/extra/os/x86_64/python-setuptools-1%3a69.5.1-1-any.pkg.tar.zst',
    ],
  );
  assert.deepEqual(archArchiveUrls(ARCH_ARCHIVE_BASE, target('pool/main/h/hello/hello_2.10-2_amd64.deb', { snapshot: '2024-01-01T00:00:00Z' })), []);
  assert.deepEqual(archiveSnapshotUrls(ARCH_ARCHIVE_BASE, target('core/os/x86_64/a-1-1-any.pkg.tar.zst')), []);
});

test('arch-archive+URL templates make the archive provider; a 404 everywhere is NOT_FOUND', async () => {
  const p = createProvider('arch-archive+http://127.0.0.1:9/', { log: silentLogger, timeoutMs: 2000, retries: 0 });
  assert.equal(p.label, 'arch-archive+http://127.0.0.1:9');
  await assert.rejects(p.open(target('pool/x.deb'), new AbortController().signal), { code: 'NOT_FOUND' });
});

test('database SigLevel: built-in Optional, then [options], then the repository, left to right; Package* tokens do not count', () => {
  const conf = parsePacmanConf('[options]\nSigLevel = Required DatabaseOptional\n[core]\n[custom]\nSigLevel = PackageNever DatabaseRequired\n[off]\nSigLevel = Never\n[none]\n');
  const level = (name: string) => databaseSigLevel(conf, conf.repos.find((r) => r.name === name)!);
  assert.equal(level('core'), 'Optional');
  assert.equal(level('custom'), 'Required');
  assert.equal(level('off'), 'Never');
  const bare = parsePacmanConf('[core]\n');
  assert.equal(databaseSigLevel(bare, bare.repos[0]), 'Optional');
});

test('lock: pacman --print lines, its failures in one line, and the targets it takes', () => {
  assert.deepEqual(parsePrint('core glibc 2.39-1\nextra beta 2:0.5-3\n\n'), [
    { repo: 'core', name: 'glibc', version: '2.39-1' },
    { repo: 'extra', name: 'beta', version: '2:0.5-3' },
  ]);
  assert.throws(() => parsePrint('http://mirror/core/os/x86_64/glibc-2.39-1-x86_64.pkg.tar.zst\n'), /does not understand/);
  const missing = pacmanFailure('', 'error: target not found: foo\nerror: target not found: bar\n', ['core', 'extra']);
  assert.equal(missing.message, "no package foo, bar in the base's repositories ([core] [extra])");
  assert.equal(missing.exitCode, 2);
  const conflict = pacmanFailure(':: rival and gamma are in conflict. Remove gamma? [y/N] \n:: rival and gamma are in conflict\n', 'error: unresolvable package conflicts detected\nerror: failed to prepare transaction (conflicting dependencies)\n', ['core']);
  assert.equal(conflict.message, 'pacman cannot install the request: unresolvable package conflicts detected: rival and gamma are in conflict');
  // libalpm's reason for an error that ends in a colon comes on the next line; it must not be lost.
  const init = pacmanFailure('', 'error: failed to initialize alpm library:\n(database is incorrect version: /x/db/)\n', ['core']);
  assert.equal(init.message, 'pacman cannot install the request: failed to initialize alpm library: (database is incorrect version: /x/db/)');
  for (const ok of ['glibc', 'core/glibc', 'python>=3.12', 'libstdc++', 'gtk2=2.24.33-1', 'r', '0ad']) checkTargets([ok]);
  for (const bad of ['-Syu', '--config=/x', 'a b', '../etc', 'x;y', '']) assert.throws(() => checkTargets([bad]), /not a pacman target/, bad);
});

test("pacman -S's VerbosePkgLists table: new installs, an upgrade's two versions, a shrinking package; a liar is INTERNAL", () => {
  // As pacman 6.0 prints it when LC_ALL=C and stdout is no terminal (the upgrade row has both version columns).
  const table = [
    'resolving dependencies...',
    'looking for conflicting packages...',
    '',
    'Package (3)         Old Version  New Version  Net Change  Download Size',
    '',
    'core/glibc          2.38-7       2.39-1        -0.15 MiB       9.72 MiB',
    'extra/lib32-foo                  1:2.0-3        0.02 MiB       0.00 MiB',
    'pingettest/alpha                 1.0-1          0.00 MiB       0.00 MiB',
    '',
    'Total Download Size:   9.72 MiB',
    '',
    ':: Proceed with installation? [Y/n] ',
  ].join('\n');
  assert.deepEqual(parseTable(table, false), [
    { repo: 'core', name: 'glibc', version: '2.39-1' },
    { repo: 'extra', name: 'lib32-foo', version: '1:2.0-3' },
    { repo: 'pingettest', name: 'alpha', version: '1.0-1' },
  ]);
  assert.deepEqual(parseTable(' there is nothing to do\n', true), []);
  assert.throws(() => parseTable(' there is nothing to do\n', false), (e: Error & { code?: string }) => e.code === 'INTERNAL');
  assert.throws(() => parseTable(table.replace('Package (3)', 'Package (4)'), false), /announced 4 packages and listed 3/);
  assert.throws(() => parseTable(table.replace('core/glibc', 'glibc'), false), /does not understand/);
});

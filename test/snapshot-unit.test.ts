/** Pure parts of the snapshot archives: timestamps, templates, the mr/ API answer, the default archive tail. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/cli.js';
import { PingetError } from '../src/errors.js';
import { createProvider } from '../src/fetch/providers.js';
import { silentLogger } from '../src/ui/log.js';
import { archiveNames, archiveProviders } from '../src/fetch/archives/index.js';
import { debianArchiveForPath, parseBinfiles, pickCandidates, refFromDebPath } from '../src/fetch/archives/debian-snapshot-api.js';
import { lockfileArch, parseResolverTemplate, snapshotTimestamp } from '../src/fetch/archives/types.js';
import { ubuntuArchives } from '../src/fetch/archives/ubuntu-snapshot.js';

const DATA = join(REPO_ROOT, 'testdata', 'snapshot');
const ctx = { log: silentLogger, timeoutMs: 5000, retries: 0 };

test('snapshot header -> archive timestamp, in UTC whatever the form', () => {
  assert.equal(snapshotTimestamp('2026-11-20T00:00:00Z'), '20261120T000000Z');
  assert.equal(snapshotTimestamp('2024-03-01T05:04:00+02:00'), '20240301T030400Z');
  assert.equal(snapshotTimestamp('2024-03-01T03:04:00'), '20240301T030400Z');
  assert.equal(snapshotTimestamp('2024-03-01'), '20240301T000000Z');
  assert.equal(snapshotTimestamp('20240301T030400Z'), '20240301T030400Z');
  assert.equal(snapshotTimestamp('1704067200'), '20240101T000000Z');
  assert.equal(snapshotTimestamp('last tuesday'), undefined);
  assert.equal(snapshotTimestamp('2024-13-45T99:00:00Z'), undefined);
  assert.equal(snapshotTimestamp(undefined), undefined);
});

test('resolver templates: name+base, trailing slashes dropped, other schemes left alone', () => {
  assert.deepEqual(parseResolverTemplate('debian-snapshot+https://snapshot.example/'), { name: 'debian-snapshot', base: 'https://snapshot.example' });
  assert.equal(parseResolverTemplate('https://deb.example/debian'), undefined);
  assert.equal(parseResolverTemplate('debian-snapshot+ftp://x'), undefined);
  assert.equal(parseResolverTemplate('debian-snapshot+https://x/{{.Name}}'), undefined);
});

test('createProvider claims the resolver schemes it registered', () => {
  for (const name of ['debian-snapshot', 'ubuntu-snapshot', 'ubuntu-launchpad', 'arch-archive']) {
    const p = createProvider(`${name}+http://127.0.0.1:9/base/`, ctx);
    assert.equal(p.label, `${name}+http://127.0.0.1:9/base`);
  }
  assert.throws(() => createProvider('nosuch-archive+http://127.0.0.1:9', ctx), (e: unknown) => e instanceof PingetError && e.code === 'USAGE');
});

test('binfiles answer: records per file, arch filter, the lockfile name and archive first', async () => {
  const json = JSON.parse(await readFile(join(DATA, 'debian/mr/binary/libhello1/1:2.0-1+deb12u1/binfiles'), 'utf8'));
  const files = parseBinfiles(json);
  assert.equal(files.length, 2);
  assert.deepEqual(
    files.map((f) => [f.architecture, f.archive, f.dir, f.firstSeen]),
    [
      ['arm64', 'debian-security', 'pool/updates/main/h/hello', '20231215T120000Z'],
      ['amd64', 'debian-security', 'pool/updates/main/h/hello', '20231215T120000Z'],
    ],
  );
  const path = 'pool/updates/main/h/hello/libhello1_2.0-1+deb12u1_amd64.deb';
  const picked = pickCandidates(files, { name: 'libhello1', version: '1:2.0-1+deb12u1', arch: 'amd64' }, path);
  assert.deepEqual(picked.map((f) => f.name), ['libhello1_2.0-1+deb12u1_amd64.deb']);
  assert.equal(picked[0].sha1, json.result[1].hash);
  assert.deepEqual(pickCandidates(files, { name: 'libhello1', version: '1:2.0-1+deb12u1', arch: 's390x' }, path), []);
});

test('binfiles answer: hostile or odd fields are dropped, a second place of the same file ranks by the path', () => {
  const sha = 'a'.repeat(40);
  const other = 'b'.repeat(40);
  const files = parseBinfiles({
    result: [
      { architecture: 'amd64', hash: sha },
      { architecture: 'amd64', hash: '../../etc/passwd' },
      { architecture: 'amd64', hash: other },
    ],
    fileinfo: {
      [sha]: [
        { name: 'x_1_amd64.deb', archive_name: 'debian-ports', path: '/pool/main/x/x', run: '20100215T155930Z', size: 3 },
        { name: 'x_1_amd64.deb', archive_name: 'debian', path: '/pool/main/x/x', first_seen: 'yesterday' },
      ],
      [other]: [{ name: '../x_1_amd64.deb', archive_name: 'debian', path: '/pool/main/x/x' }],
    },
  });
  assert.deepEqual(
    files.map((f) => [f.sha1.slice(0, 1), f.archive, f.firstSeen]),
    [
      ['a', 'debian-ports', '20100215T155930Z'],
      ['a', 'debian', undefined],
    ],
  );
  const picked = pickCandidates(files, { name: 'x', version: '1', arch: 'amd64' }, 'pool/main/x/x/x_1_amd64.deb');
  assert.equal(picked.length, 1);
  assert.equal(picked[0].archive, 'debian', 'the place in the lockfile archive wins');
  assert.deepEqual(parseBinfiles('not json'), []);
  assert.deepEqual(parseBinfiles({ result: 'x' }), []);
});

test('archive of a path, ref from a file name, Ubuntu archive per architecture', () => {
  assert.equal(debianArchiveForPath('pool/updates/main/o/openssl/libssl3_3.0.15-1~deb12u1_amd64.deb'), 'debian-security');
  assert.equal(debianArchiveForPath('pool/main/h/hello/hello_2.10-2_amd64.deb'), 'debian');
  assert.deepEqual(refFromDebPath('pool/main/h/hello/hello_2.10-2_amd64.deb'), { name: 'hello', version: '2.10-2', arch: 'amd64' });
  assert.equal(refFromDebPath('pool/main/h/hello/README'), undefined);
  assert.deepEqual(ubuntuArchives('amd64', undefined), ['ubuntu']);
  assert.deepEqual(ubuntuArchives('riscv64', 'riscv64'), ['ubuntu-ports']);
  assert.deepEqual(ubuntuArchives('all', 'arm64'), ['ubuntu-ports']);
  assert.deepEqual(ubuntuArchives('all', undefined), ['ubuntu', 'ubuntu-ports']);
  assert.equal(lockfileArch({ distro: 'ubuntu 24.04 (noble) arm64' }), 'arm64');
  assert.equal(lockfileArch({ arch: 'amd64', distro: 'ubuntu 24.04 (noble) arm64' }), 'amd64');
});

test('archive tail per distro, with base URLs overridden by archive name or distro id', () => {
  assert.deepEqual(
    archiveProviders('debian', {}).map((s) => s.template),
    ['debian-snapshot+https://snapshot.debian.org'],
  );
  assert.deepEqual(
    archiveProviders('debian', {}, { 'debian-snapshot': 'http://mirror.internal/snap/' }).map((s) => s.template),
    ['debian-snapshot+http://mirror.internal/snap'],
  );
  assert.deepEqual(archiveProviders('debian', {}, { debian: 'http://m/s' }).map((s) => s.template), ['debian-snapshot+http://m/s']);
  // Ubuntu's dated trees only with a date; Launchpad always.
  assert.deepEqual(archiveProviders('ubuntu', {}).map((s) => s.template), ['ubuntu-launchpad+https://launchpad.net']);
  assert.deepEqual(
    archiveProviders('ubuntu', { snapshot: '2024-03-01T03:04:00Z' }, { 'ubuntu-launchpad': 'http://lp.internal' }).map((s) => s.template),
    ['ubuntu-snapshot+https://snapshot.ubuntu.com', 'ubuntu-launchpad+http://lp.internal'],
  );
  assert.deepEqual(
    archiveProviders('fedora', {}, { fedora: 'http://koji.internal/' }).map((s) => s.template),
    ['http://koji.internal/packages/{{.Name}}'],
  );
  assert.deepEqual(archiveProviders('arch', {}, { arch: 'http://ala.internal' }).map((s) => s.template), ['arch-archive+http://ala.internal']);
  assert.deepEqual(archiveProviders('alpine', {}), []);
  assert.deepEqual(archiveProviders('nosuch', {}), []);
  assert.throws(() => archiveProviders('debian', {}, { debian: 'file:///srv' }), (e: unknown) => e instanceof PingetError && e.code === 'USAGE');
  assert.ok(archiveNames().includes('debian-snapshot') && archiveNames().includes('debian'));
});

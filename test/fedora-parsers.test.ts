/** The Fedora adapter's pure parsers and the dnf5 cache layout, on fixtures in testdata/fedora/. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCachedRepos, loadCachedRepo } from '../distros/fedora/dnf-cache.js';
import { fedoraAdapter } from '../distros/fedora/index.js';
import { evrString, inspectKojiPath, kojiPath, parseSourceRpm } from '../distros/fedora/nevra.js';
import { expandVars, parseRepoFile, repoVars } from '../distros/fedora/repo-files.js';
import { parseRepomd } from '../distros/fedora/repodata.js';
import { parseRpmQuery } from '../distros/fedora/rpmdb.js';
import { isPingetError } from '../src/errors.js';

const FIXTURE = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'testdata', 'fedora', 'dnf5-root');

test('Koji paths from binary and source rpm names, and back', () => {
  const p = { name: 'python3-libs', epoch: '', version: '3.12.3', release: '2.fc40', arch: 'x86_64' };
  const path = kojiPath(p, 'python3.12-3.12.3-2.fc40.src.rpm');
  assert.equal(path, 'python3.12/3.12.3/2.fc40/x86_64/python3-libs-3.12.3-2.fc40.x86_64.rpm');
  assert.deepEqual(inspectKojiPath(path!), { name: 'python3-libs', version: '3.12.3-2.fc40', arch: 'x86_64' });
  assert.deepEqual(parseSourceRpm('glibc-2.39-8.fc40.nosrc.rpm'), { name: 'glibc', version: '2.39', release: '8.fc40' });
  assert.equal(kojiPath(p, '(none)'), undefined);
  assert.equal(inspectKojiPath('pool/main/h/hello/hello_2.10-2_amd64.deb'), undefined);
  assert.equal(inspectKojiPath('a/1/1/noarch/b-1-1.x86_64.rpm'), undefined, 'arch directory must match the file');
  assert.equal(evrString({ epoch: '2', version: '1.0', release: '3' }), '2:1.0-3');
  assert.equal(evrString({ epoch: '', version: '1.0', release: '3' }), '1.0-3');
});

test('rpm -qa output: epochs, (none) source rpm, gpg-pubkey dropped, sorted', () => {
  const out = parseRpmQuery(
    'zlib\t0\t1.3\t1.fc40\tx86_64\tzlib-1.3-1.fc40.src.rpm\n' +
      'gpg-pubkey\t0\ta15b79cc\t63d04c2c\t(none)\t(none)\n' +
      'bind-libs\t32\t9.18.26\t1.fc40\tx86_64\tbind-9.18.26-1.fc40.src.rpm\n',
  );
  assert.deepEqual(out.map((p) => `${p.name}:${p.epoch}:${p.sourceRpm}`), ['bind-libs:32:bind-9.18.26-1.fc40.src.rpm', 'zlib::zlib-1.3-1.fc40.src.rpm']);
  assert.throws(() => parseRpmQuery('broken line\n'), (e) => isPingetError(e));
});

test('.repo files: CRLF, continued baseurl lists, variables, disabled repos', () => {
  const text = '[main]\ngpgcheck=1\n\n[updates]\r\nname=Fedora $releasever - $basearch\r\nbaseurl=http://a/$releasever/$basearch/\r\n  http://b/${releasever}/\r\n' +
    '# comment\r\nenabled=0\r\nrepo_gpgcheck=1\r\ngpgkey=file:///k1, file:///k2\r\n';
  const [repo] = parseRepoFile(text, '/etc/yum.repos.d/x.repo', repoVars('40', 'x86_64'));
  assert.equal(repo.id, 'updates');
  assert.equal(repo.name, 'Fedora 40 - x86_64');
  assert.deepEqual(repo.baseurls, ['http://a/40/x86_64/', 'http://b/40/']);
  assert.equal(repo.enabled, false);
  assert.equal(repo.repoGpgcheck, true);
  assert.deepEqual(repo.gpgkeys, ['file:///k1', 'file:///k2']);
  assert.equal(repo.source, '/etc/yum.repos.d/x.repo:4');
  assert.equal(expandVars('$releasever_major/$nope', repoVars('9.4', 'aarch64')), '9/$nope');
});

test('repomd.xml: data entries with checksums and timestamps; garbage is a clear error', () => {
  const md = parseRepomd(
    '<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>7</revision><data type="primary"><checksum type="sha256">AB</checksum>' +
      '<location href="repodata/x-primary.xml.zst"/><timestamp>1718000000</timestamp></data></repomd>',
    'repomd.xml',
  );
  assert.deepEqual(md.data[0], { type: 'primary', href: 'repodata/x-primary.xml.zst', checksumType: 'sha256', checksum: 'ab', openChecksumType: undefined, openChecksum: undefined, timestamp: 1718000000 });
  assert.throws(() => parseRepomd('<html/>', 'repomd.xml'), /no <repomd> element/);
});

test('dnf5 cache layout with zstd primary.xml: found, checked against repomd.xml, parsed', async () => {
  const repos = await findCachedRepos(FIXTURE);
  assert.deepEqual(repos.map((r) => [r.id, r.layout]), [['fedora', 'dnf5']]);
  const loaded = await loadCachedRepo(FIXTURE, repos[0], undefined, {});
  assert.ok(loaded);
  assert.deepEqual(loaded.packages.map((p) => `${p.name}-${p.version}-${p.release}.${p.arch} ${p.sourceRpm}`).sort(), [
    'appb-2.0-3.noarch appb-2.0-3.src.rpm',
    'liba-1.0-1.x86_64 liba-1.0-1.src.rpm',
  ]);
  assert.ok(loaded.packages.every((p) => /^[0-9a-f]{64}$/.test(p.checksum) && p.href.endsWith('.rpm')));
  assert.equal(loaded.timestamp, 1718000000);
});

test('a changed zstd primary.xml no longer matches repomd.xml: INTEGRITY', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-fedora-fixture-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(FIXTURE, dir, { recursive: true });
  const [repo] = await findCachedRepos(dir);
  const name = (await readdir(join(repo.dir, 'repodata'))).find((n) => n.endsWith('.zst'))!;
  await writeFile(join(repo.dir, 'repodata', name), Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
  await assert.rejects(loadCachedRepo(dir, repo, undefined, {}), (e) => isPingetError(e) && e.code === 'INTEGRITY');
});

test('RHEL-likes are detected through ID_LIKE; providers come from enabled repos with variables expanded', async () => {
  const info = await fedoraAdapter.detect(FIXTURE);
  assert.equal(info?.osId, 'rocky');
  assert.equal(info?.versionId, '9.4');
  const specs = await fedoraAdapter.providers(FIXTURE, { ...info!, arch: 'x86_64' }, {});
  assert.deepEqual(specs.map((s) => s.template), [
    'rpm-md+http://127.0.0.1:9/fedora/9.4/Everything/x86_64/os/',
    'rpm-md+http://127.0.0.1:9/mirror2/9.4/x86_64/',
  ]);
});

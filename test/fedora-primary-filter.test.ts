/** primary.xml read for the installed names only: other packages' blocks are skipped before XML parsing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { findCachedRepos, loadCachedRepo } from '../distros/fedora/dnf-cache.js';
import { parsePrimary } from '../distros/fedora/repodata.js';
import { REPO_ROOT } from './helpers/cli.js';

const FIXTURE = join(REPO_ROOT, 'testdata/fedora/dnf5-root');

test('loadCachedRepo with wanted names keeps only those packages, checked as before', async () => {
  const [repo] = await findCachedRepos(FIXTURE);
  const loaded = await loadCachedRepo(FIXTURE, repo, undefined, { wanted: (n) => n === 'liba' });
  assert.deepEqual(loaded?.packages.map((p) => `${p.name}-${p.version}-${p.release}.${p.arch}`), ['liba-1.0-1.x86_64']);
});

test('parsePrimary: the filter sees the package name, not the names of its dependencies', () => {
  const xml = `<?xml version="1.0"?><metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="2">
<package type="rpm"><name>app</name><arch>x86_64</arch><version epoch="0" ver="1" rel="1"/><checksum type="sha256" pkgid="YES">${'a'.repeat(64)}</checksum><location href="Packages/a/app-1-1.x86_64.rpm"/><format><rpm:sourcerpm>app-1-1.src.rpm</rpm:sourcerpm><rpm:requires><rpm:entry name="lib"/></rpm:requires></format></package>
<package type="rpm"><name>lib</name><arch>x86_64</arch><version epoch="2" ver="3" rel="4"/><checksum type="sha256" pkgid="YES">${'b'.repeat(64)}</checksum><location href="Packages/l/lib-3-4.x86_64.rpm"/><format><rpm:sourcerpm>lib-3-4.src.rpm</rpm:sourcerpm></format></package>
</metadata>`;
  assert.deepEqual(parsePrimary(xml, 'p').map((p) => p.name), ['app', 'lib']);
  const only = parsePrimary(xml, 'p', (n) => n === 'lib');
  assert.deepEqual(only.map((p) => [p.name, p.epoch, p.href]), [['lib', '2', 'Packages/l/lib-3-4.x86_64.rpm']]);
});

/**
 * The pure parts of --sources: which .src.rpm a Koji path names (one per source rpm, however many binaries it
 * built), which repo sections are source repositories, and a Packages stanza's source package (Debian policy
 * 5.6.1: `Source: name (version)` when the versions differ, `Source: name`, or none when named as the binary).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sourceRpmsOf } from '../distros/fedora/source-pins.js';
import { isSourceRepo, parseRepoFile, repoVars } from '../distros/fedora/repo-files.js';
import { sourceOfStanza } from '../distros/debian/source-pins.js';

const h = 'a'.repeat(64);

test('sourceRpmsOf: one .src.rpm per source rpm, from Koji paths only; source lines and other paths are skipped', () => {
  const got = sourceRpmsOf([
    { sha256: h, path: 'glibc/2.39/17.fc40/x86_64/glibc-2.39-17.fc40.x86_64.rpm' },
    { sha256: h, path: 'glibc/2.39/17.fc40/x86_64/glibc-common-2.39-17.fc40.x86_64.rpm' },
    { sha256: h, path: 'glibc/2.39/17.fc40/noarch/glibc-langpack-en-2.39-17.fc40.noarch.rpm' },
    { sha256: h, path: 'bash/5.2.26/3.fc40/src/bash-5.2.26-3.fc40.src.rpm' },
    { sha256: h, path: 'pool/main/h/hello/hello_2.10-3_amd64.deb' },
    { sha256: h, path: 'glibc/2.39/17.fc40/x86_64/not-an-rpm.txt' },
  ]);
  assert.deepEqual(got, [{ name: 'glibc', version: '2.39', release: '17.fc40', file: 'glibc-2.39-17.fc40.src.rpm' }]);
});

test('isSourceRepo: the [*-source] sections of a Fedora-style repo file, enabled or not', () => {
  const text = [
    '[fedora]', 'metalink=https://mirrors.example.invalid/metalink?repo=fedora-$releasever&arch=$basearch', 'enabled=1',
    '[fedora-debuginfo]', 'metalink=https://mirrors.example.invalid/metalink?repo=fedora-debug-$releasever&arch=$basearch', 'enabled=0',
    '[fedora-source]', 'metalink=https://mirrors.example.invalid/metalink?repo=fedora-source-$releasever&arch=$basearch', 'enabled=0',
    '[updates-testing-source]', 'baseurl=https://mirrors.example.invalid/updates/testing/$releasever/Everything/source/tree/', 'enabled=0', '',
  ].join('\n');
  const repos = parseRepoFile(text, '/etc/yum.repos.d/fedora.repo', repoVars('40', 'x86_64'));
  assert.deepEqual(repos.filter(isSourceRepo).map((r) => [r.id, r.enabled]), [['fedora-source', false], ['updates-testing-source', false]]);
  assert.equal(repos.find((r) => r.id === 'fedora-source')!.metalink, 'https://mirrors.example.invalid/metalink?repo=fedora-source-40&arch=x86_64');
});

test('sourceOfStanza: Source with a version, Source alone, no Source; an unreadable one is unknown', () => {
  const st = (fields: Record<string, string>) => new Map(Object.entries(fields));
  assert.deepEqual(sourceOfStanza(st({ package: 'libc6', version: '2.36-9+deb12u4', source: 'glibc' })), { name: 'glibc', version: '2.36-9+deb12u4' });
  assert.deepEqual(sourceOfStanza(st({ package: 'libcap2', version: '1:2.66-4+deb12u3+b1', source: 'libcap2 (1:2.66-4+deb12u3)' })), { name: 'libcap2', version: '1:2.66-4+deb12u3' });
  assert.deepEqual(sourceOfStanza(st({ package: 'hello', version: '2.10-3' })), { name: 'hello', version: '2.10-3' });
  assert.equal(sourceOfStanza(st({ package: 'x', version: '1', source: 'Not A Name (' })), undefined, 'unreadable: unknown, not guessed');
  assert.equal(sourceOfStanza(st({ package: 'x' })), undefined);
});

/**
 * When dpkg refuses a package during install, the error carries dpkg's own reason (the indented line under
 * its "error processing archive" line, named by the pool file's name), not the tail of its output. Real
 * dpkg on a scratch root, with .debs built here by dpkg-deb: one that ships a file another installed package
 * owns, and one that declares a conflict with an installed package.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installDebs } from '../distros/debian/install.js';
import { PingetError } from '../src/errors.js';
import { silentLogger } from '../src/ui/log.js';
import type { LocalFile } from '../src/distro/types.js';
import { EPOCH, must } from './helpers/deb-fixtures.js';

let tmp: string;
let root: string;

/** A .deb of `name` 1 shipping usr/share/pgt/FILE, with extra control fields. */
async function deb(name: string, file: string, control = ''): Promise<LocalFile> {
  const tree = join(tmp, 'tree', name);
  await mkdir(join(tree, 'DEBIAN'), { recursive: true });
  await mkdir(join(tree, 'usr/share/pgt'), { recursive: true });
  await writeFile(join(tree, 'usr/share/pgt', file), `${name}\n`);
  await writeFile(join(tree, 'DEBIAN/control'), `Package: ${name}\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.invalid>\n${control}Description: test\n`);
  const path = `pool/main/p/${name}/${name}_1_all.deb`;
  const out = join(tmp, 'cache', `${name}.blob`);
  await mkdir(join(tmp, 'cache'), { recursive: true });
  await must('dpkg-deb', ['--root-owner-group', '--build', tree, out], { env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH } });
  return { entry: { sha256: '0'.repeat(64), path }, file: out };
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-dpkg-reason-'));
  root = join(tmp, 'root');
  await mkdir(root);
  const report = await installDebs([await deb('pgt-owner', 'shared')], root, { log: silentLogger });
  assert.deepEqual(report.installed.map((r) => r.name), ['pgt-owner']);
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function refusal(files: LocalFile[]): Promise<PingetError> {
  try {
    await installDebs(files, root, { log: silentLogger });
  } catch (e) {
    assert.ok(e instanceof PingetError, String(e));
    return e;
  }
  assert.fail('dpkg installed what it should have refused');
}

test('a .deb that overwrites another package\'s file: the error says which file and which package', async () => {
  const e = await refusal([await deb('pgt-overwriter', 'shared')]);
  assert.equal(e.code, 'PACKAGE_MANAGER');
  assert.match(e.message, /^dpkg --install failed \(exit 1\): dpkg: error processing archive pgt-overwriter_1_all\.deb \(--install\): trying to overwrite '\/usr\/share\/pgt\/shared', which is also in package pgt-owner 1/);
  assert.doesNotMatch(e.message, /pinget-dpkg-/, 'no temporary path');
  assert.equal(e.message.split('\n').length, 1);
});

test('a .deb that conflicts with an installed package: the error names the conflict', async () => {
  const e = await refusal([await deb('pgt-rival', 'own', 'Conflicts: pgt-owner\n')]);
  assert.match(e.message, /pgt-rival conflicts with pgt-owner/);
  assert.match(e.message, /conflicting packages - not installing pgt-rival/);
});

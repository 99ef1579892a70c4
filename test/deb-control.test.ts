/**
 * distros/debian/deb-control.ts reads a .deb's control fields in-process: the same Package, Version and
 * Architecture as `dpkg-deb -f` for every control.tar compression dpkg-deb writes, and BAD_INPUT for
 * files that are not packages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/exec.js';
import { isPingetError } from '../src/errors.js';
import { debControl } from '../distros/debian/install.js';
import { readDebControlFields } from '../distros/debian/deb-control.js';

async function buildDeb(dir: string, compression: string, name: string, scriptBytes = 0): Promise<string> {
  const tree = join(dir, `tree-${compression}`);
  await mkdir(join(tree, 'DEBIAN'), { recursive: true });
  await mkdir(join(tree, 'usr/share/doc'), { recursive: true });
  await writeFile(join(tree, 'usr/share/doc/x'), 'payload\n');
  await writeFile(
    join(tree, 'DEBIAN/control'),
    `Package: ${name}\nVersion: 1:2.3-4+b1\nArchitecture: amd64\nMaintainer: t <t@invalid>\nDescription: a test\n two lines\n`,
  );
  await writeFile(join(tree, 'DEBIAN/postinst'), `#!/bin/sh\n${'# '.padEnd(scriptBytes, 'x')}\nexit 0\n`, { mode: 0o755 });
  const deb = join(dir, `${name}.deb`);
  const r = await run('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', tree, deb]);
  assert.equal(r.code, 0, r.stderr);
  return deb;
}

test('control fields read in-process equal dpkg-deb -f for gzip, xz, zstd and plain control.tar', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-deb-control-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const z of ['gzip', 'xz', 'zstd', 'none']) {
    const deb = await buildDeb(dir, z, `pkg-${z}`);
    const ref = await run('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture']);
    const want = Object.fromEntries(ref.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    assert.deepEqual(await debControl(deb, deb), { name: want.package, version: want.version, arch: want.architecture }, z);
    assert.equal((await readDebControlFields(deb)).get('description'), 'a test\ntwo lines');
  }
});

test('a control member larger than the head read first (64 KiB) is read whole from the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-deb-control-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const deb = await buildDeb(dir, 'none', 'big-control', 300 * 1024);
  const size = (await readFile(deb)).length;
  assert.ok(size > 300 * 1024, `${size} bytes`);
  assert.deepEqual(await debControl(deb, deb), { name: 'big-control', version: '1:2.3-4+b1', arch: 'amd64' });
  // Cut inside the control member, past the head: a truncated member, not a parse of whatever is there.
  const cut = join(dir, 'cut.deb');
  await writeFile(cut, (await readFile(deb)).subarray(0, 200 * 1024));
  await assert.rejects(readDebControlFields(cut), /truncated control member/);
});

test('a file that is not a .deb, or a truncated one, is BAD_INPUT naming the lockfile path', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-deb-control-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const deb = await buildDeb(dir, 'gzip', 'whole');
  const bytes = await readFile(deb);
  const cases: [string, Buffer][] = [
    ['random', Buffer.from('not an archive at all\n')],
    ['ar-only', Buffer.from('!<arch>\n')],
    ['truncated', bytes.subarray(0, 200)],
  ];
  for (const [label, data] of cases) {
    const f = join(dir, label);
    await writeFile(f, data);
    await assert.rejects(debControl(f, `pool/main/x/${label}.deb`), (e: unknown) => {
      assert.ok(isPingetError(e) && e.code === 'BAD_INPUT', String(e));
      assert.match((e as Error).message, new RegExp(`^pool/main/x/${label}\\.deb: not a readable \\.deb \\(`));
      return true;
    });
  }
});

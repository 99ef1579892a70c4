/**
 * Alpine roots in the real installed-db format: `hash verify --deep` checks each installed file against its
 * Z: checksum (exit 1 naming a changed file; etc/ is apk's protected configuration), and `hash verify`
 * reports a package whose installed C: identity is not the pinned build's (another build of the same version).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseInstalledFiles } from '../distros/alpine/installed-files.js';
import { apkDbRecord, buildApk, makeAlpineRoot, type BuiltApk } from './helpers/apk-repo.js';
import { runCli } from './helpers/cli.js';

let tmp: string;
let musl: BuiltApk;
let conf: BuiltApk;
const FILES: Record<string, Record<string, string>> = {
  musl: { 'lib/ld-musl-x86_64.so.1': 'the loader\n', 'usr/lib/libc.so': 'the c library\n' },
  conf: { 'etc/conf.d/x': 'setting=1\n', 'usr/bin/x': '#!/bin/sh\n' },
};

const q1 = (s: string) => 'Q1' + createHash('sha1').update(s).digest('base64');

/** installed-db lines for a package's files, grouped by directory as apk writes them. */
function fileLines(files: Record<string, string>): string[] {
  const out: string[] = [];
  let dir: string | undefined;
  for (const path of Object.keys(files).sort()) {
    const d = dirname(path);
    if (d !== dir) out.push(`F:${d}`);
    dir = d;
    out.push(`R:${path.slice(d.length + 1)}`, 'a:0:0:755', `Z:${q1(files[path])}`);
  }
  return out;
}

async function root(name: string): Promise<string> {
  const dir = join(tmp, name);
  await makeAlpineRoot(dir, { repositories: ['http://127.0.0.1:9/alpine/v3.20/main'], installed: [] });
  await writeFile(join(dir, 'lib/apk/db/installed'), [apkDbRecord(musl, fileLines(FILES.musl)), apkDbRecord(conf, fileLines(FILES.conf))].join('\n') + '\n');
  for (const files of Object.values(FILES)) {
    for (const [path, body] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), body);
    }
  }
  return dir;
}

async function lockfile(name: string, identities: string): Promise<string> {
  const file = join(tmp, name);
  const lines = [musl, conf].map((p) => `${p.sha256}  v3.20/main/x86_64/${p.fileName}`).sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
  await writeFile(file, `# distro: alpine 3.20.3 x86_64\n# apk-identity: ${identities}\n${lines.join('\n')}\n`);
  return file;
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-deep-apk-'));
  musl = await buildApk({ name: 'musl', version: '1.2.5-r0', files: FILES.musl });
  conf = await buildApk({ name: 'conf', version: '1.0-r0', files: FILES.conf });
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('installed db file lists: F: directories, R: files, Z: checksums', () => {
  const files = parseInstalledFiles(`P:a\nV:1\nF:usr/bin\nR:x\nZ:Q1abc=\nR:y\nF:etc\nR:z\na:0:0:644\nZ:Q2def=\n\nP:b\nV:2\n`);
  assert.deepEqual(files.get('a'), [
    { path: 'usr/bin/x', checksum: 'Q1abc=' },
    { path: 'usr/bin/y' },
    { path: 'etc/z', checksum: 'Q2def=' },
  ]);
  assert.deepEqual(files.get('b'), []);
});

test('hash verify --deep: a changed file is exit 1 naming it; an edited etc/ file is not drift', async () => {
  const r = await root('changed');
  const lock = await lockfile('SHA256SUMS-changed', `musl-1.2.5-r0.apk=${musl.identity} conf-1.0-r0.apk=${conf.identity}`);
  const args = ['hash', 'verify', lock, '--root', r, '--deep', '--cache', join(tmp, 'cache')];
  const ok = await runCli(args);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  await writeFile(join(r, 'etc/conf.d/x'), 'setting=2\n');
  assert.equal((await runCli(args)).code, 0);
  await writeFile(join(r, 'usr/lib/libc.so'), 'not the c library\n');
  const bad = await runCli(args);
  assert.equal(bad.code, 1, bad.stderr + bad.stdout);
  assert.match(bad.stdout, /^file +musl +\/usr\/lib\/libc\.so: content differs from the apk database's checksum/m);
  assert.doesNotMatch(bad.stdout, /etc\/conf\.d/);
});

test("hash verify: the installed C: identity is not the pinned build's: exit 1 (rebuilt), without --deep", async () => {
  const r = await root('rebuilt');
  const other = await buildApk({ name: 'musl', version: '1.2.5-r0', files: { 'lib/ld-musl-x86_64.so.1': 'another build\n' } });
  const lock = await lockfile('SHA256SUMS-rebuilt', `musl-1.2.5-r0.apk=${other.identity} conf-1.0-r0.apk=${conf.identity}`);
  const res = await runCli(['hash', 'verify', lock, '--root', r, '--cache', join(tmp, 'cache')]);
  assert.equal(res.code, 1, res.stderr + res.stdout);
  assert.match(res.stdout, new RegExp(`^rebuilt +musl:x86_64 +1\\.2\\.5-r0 installed, but not the pinned build: the installed build is C:${musl.identity.replace(/[+/]/g, '\\$&')}`, 'm'));
  assert.doesNotMatch(res.stdout, /conf/);
});

test('install: a package at the pinned version but another build is not skipped as installed', async () => {
  const r = await root('install-rebuilt');
  const other = await buildApk({ name: 'musl', version: '1.2.5-r0', files: { 'lib/ld-musl-x86_64.so.1': 'another build\n' } });
  const mirror = join(tmp, 'mirror-rebuilt', 'v3.20/main/x86_64');
  await mkdir(mirror, { recursive: true });
  await writeFile(join(mirror, other.fileName), other.bytes);
  const file = join(tmp, 'SHA256SUMS-install');
  await writeFile(file, `# distro: alpine 3.20.3 x86_64\n# apk-identity: musl-1.2.5-r0.apk=${other.identity}\n${other.sha256}  v3.20/main/x86_64/${other.fileName}\n`);
  const res = await runCli(['install', file, '--root', r, '--cache', join(tmp, 'cache-install'), '--provider', `file://${join(tmp, 'mirror-rebuilt')}/{{.Name}}`], {
    env: { PATH: '/nonexistent' },
  });
  assert.match(res.stderr, /musl 1\.2\.5-r0: installed, but not the pinned build .*; installing the pinned one/);
  // handed to apk (absent here: exit 4 saying so) instead of "1 already at the pinned version", exit 0
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /apk-tools is needed/);
});

test('install: several packages at the pinned version but other builds are one warning line, each reason with --verbose', async () => {
  const r = await root('install-rebuilt-two');
  const others = [
    await buildApk({ name: 'musl', version: '1.2.5-r0', files: { 'lib/ld-musl-x86_64.so.1': 'another build\n' } }),
    await buildApk({ name: 'conf', version: '1.0-r0', files: { 'etc/conf.d/x': 'setting=other\n' } }),
  ];
  const mirror = join(tmp, 'mirror-rebuilt-two', 'v3.20/main/x86_64');
  await mkdir(mirror, { recursive: true });
  for (const o of others) await writeFile(join(mirror, o.fileName), o.bytes);
  const file = join(tmp, 'SHA256SUMS-install-two');
  await writeFile(
    file,
    `# distro: alpine 3.20.3 x86_64\n# apk-identity: ${others.map((o) => `${o.spec.name}-${o.spec.version}.apk=${o.identity}`).join(' ')}\n` +
      others.map((o) => `${o.sha256}  v3.20/main/x86_64/${o.fileName}\n`).join(''),
  );
  const args = ['install', file, '--root', r, '--cache', join(tmp, 'cache-install-two'), '--provider', `file://${join(tmp, 'mirror-rebuilt-two')}/{{.Name}}`];
  const res = await runCli(args, { env: { PATH: '/nonexistent' } });
  const warnings = res.stderr.split('\n').filter((l) => /not the pinned build/.test(l));
  assert.equal(warnings.length, 1, res.stderr);
  assert.match(warnings[0], /2 packages installed, but not the pinned builds: (musl 1\.2\.5-r0, conf 1\.0-r0|conf 1\.0-r0, musl 1\.2\.5-r0); installing the pinned ones \(each one's reason with --verbose\)/);
  assert.equal(res.code, 4, res.stderr);
  const verbose = await runCli([...args, '--verbose'], { env: { PATH: '/nonexistent' } });
  assert.match(verbose.stderr, /^ +musl 1\.2\.5-r0: the installed build is C:/m);
  assert.match(verbose.stderr, /^ +conf 1\.0-r0: the installed build is C:/m);
});

/** Pure parsers of the Debian adapter, decompression of real CLI output, and OpenPGP checks of real gpg signatures. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLists, scanPackages } from '../distros/debian/apt-lists.js';
import { parseDpkgStatus } from '../distros/debian/dpkg-status.js';
import { guessPoolPath, inspectDebPath } from '../distros/debian/pool-path.js';
import { checkIndex, parseRelease } from '../distros/debian/release.js';
import { debMirrors, listPrefix, parseDeb822Sources, parseOneLineSources, uriToListName } from '../distros/debian/sources.js';
import { decompress, sniffCompression } from '../src/decompress.js';
import { PingetError } from '../src/errors.js';
import { run } from '../src/exec.js';
import { loadKeys, verifyCleartext, verifyDetached } from '../src/verify/openpgp.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { REPO_ROOT } from './helpers/cli.js';
import { packWithRealTools } from './helpers/compress.js';

const data = (f: string) => readFile(join(REPO_ROOT, 'testdata/debian', f), 'utf8');
const tmp: string[] = [];
after(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});

test('dpkg status: CRLF, continuation lines, multi-arch twice, epochs, hold, non-installed states, no trailing newline', async () => {
  const pkgs = parseDpkgStatus(await data('status-crlf'));
  assert.deepEqual(
    pkgs.map((p) => [p.name, p.version, p.arch, p.source, p.sourceVersion, p.component]),
    [
      ['zlib1g', '1:1.2.13.dfsg-1', 'amd64', 'zlib', '1:1.2.13.dfsg-1', 'main'],
      ['zlib1g', '1:1.2.13.dfsg-1', 'i386', 'zlib', '1:1.2.13.dfsg-1', 'main'],
      ['tzdata', '2024a-1+b1', 'all', 'tzdata-src', '2024a-1', 'contrib'],
    ],
  );
  assert.equal(pkgs[0].multiArch, 'same');
  assert.throws(() => parseDpkgStatus('Package: x\nStatus: install ok installed\nVersion: 1\n'), /without Architecture/);
  assert.throws(() => parseDpkgStatus(' orphan continuation\n'), /continuation line/);
});

test('Packages scan: only wanted (name, version, arch), Architecture: all, epochs, sha256 lowercased', async () => {
  const bytes = Buffer.from(await data('Packages'));
  assert.equal(scanPackages(bytes).length, 3);
  const want = new Set(['zlib1g\x001:1.2.13.dfsg-1\x00amd64', 'tzdata\x002024a-0+deb12u1\x00all', 'hello\x002.10-2\x00amd64']);
  assert.deepEqual(scanPackages(bytes, want), [
    { name: 'tzdata', version: '2024a-0+deb12u1', arch: 'all', filename: 'pool/main/t/tzdata/tzdata_2024a-0+deb12u1_all.deb', sha256: '0'.repeat(63) + '1' },
    { name: 'zlib1g', version: '1:1.2.13.dfsg-1', arch: 'amd64', filename: 'pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb', sha256: 'abcdef' + '0'.repeat(57) + '2' },
  ]);
  assert.equal(scanPackages(Buffer.from((await data('Packages')).replace(/\n/g, '\r\n')), want).length, 2);
});

test('lists are linked to their release file; Release hashes are checked for the stored or the plain form', () => {
  const lists = planLists(['h_debian_dists_bookworm_InRelease', 'h_debian_dists_bookworm_main_binary-amd64_Packages.lz4', 'h_debian_dists_bookworm_main_i18n_Translation-en', 'lock', 'flat_Packages.xz', 'flat_Release']);
  assert.deepEqual(lists, [
    { name: 'h_debian_dists_bookworm_main_binary-amd64_Packages.lz4', releasePrefix: 'h_debian_dists_bookworm', relPath: 'main/binary-amd64/Packages', ext: '.lz4' },
    { name: 'flat_Packages.xz', releasePrefix: 'flat', relPath: 'Packages', ext: '.xz' },
  ]);
  const plain = Buffer.from('Package: a\n');
  const xz = Buffer.from('pretend-xz');
  const rel = parseRelease(
    `Origin: Debian\nDate: Sat, 11 Jul 2026 09:37:51 UTC\nSHA256:\n ${sha256Bytes(plain)} ${plain.length} main/binary-amd64/Packages\n ${sha256Bytes(xz)} ${xz.length} main/binary-amd64/Packages.xz\n`,
  );
  assert.equal(rel.date?.toISOString(), '2026-07-11T09:37:51.000Z');
  checkIndex(rel, 'R', 'main/binary-amd64/Packages', '.lz4', Buffer.from('lz4 bytes'), plain, 'L');
  checkIndex(rel, 'R', 'main/binary-amd64/Packages', '.xz', xz, Buffer.from('whatever'), 'L');
  assert.throws(() => checkIndex(rel, 'R', 'main/binary-amd64/Packages', '', Buffer.from('x'), Buffer.from('x'), 'L'), (e: unknown) => e instanceof PingetError && e.code === 'INTEGRITY');
  assert.throws(() => checkIndex(rel, 'R', 'contrib/binary-amd64/Packages', '', plain, plain, 'L'), /not listed/);
});

test('sources: one-line with options and comments, deb822 multi-URI/suite with inline key, Enabled: no, deb-src skipped', async () => {
  const one = parseOneLineSources(await data('sources.list'), 'sources.list');
  assert.equal(one.length, 3);
  assert.deepEqual(one[0].options, { arch: 'amd64', 'signed-by': '/usr/share/keyrings/x.gpg' });
  assert.equal(one[0].signedBy, '/usr/share/keyrings/x.gpg');
  assert.deepEqual(one[0].components, ['main', 'contrib']);
  assert.equal(one[0].origin, 'sources.list:2');
  const d = parseDeb822Sources(await data('two.sources'), 'two.sources');
  assert.equal(d.length, 2);
  assert.deepEqual(d[0].uris, ['http://a.example.invalid/debian', 'https://b.example.invalid/debian']);
  assert.deepEqual(d[0].suites, ['bookworm', 'bookworm-updates']);
  assert.match(d[0].signedBy!, /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBF/);
  assert.deepEqual(debMirrors([...one, ...d]), [
    'http://mirror.example.invalid/debian',
    'http://user:pw@mirror.example.invalid/debian-security',
    'http://a.example.invalid/debian',
    'https://b.example.invalid/debian',
  ]);
  assert.throws(() => parseOneLineSources('deb http://x\n', 'f.list'), /f\.list:1: malformed/);
  assert.equal(uriToListName('http://user:pw@h.example:8080/a_b~c/'), 'h.example:8080_a%5fb%7ec_');
  assert.equal(listPrefix('http://h/debian/', 'bookworm'), 'h_debian_dists_bookworm');
  assert.equal(listPrefix('http://h/repo', './'), 'h_repo');
});

test('inspect: pool paths, epochs (%3a), udeb/ddeb, and what is not a Debian path', () => {
  assert.deepEqual(inspectDebPath('pool/main/h/hello/hello_2.10-3_amd64.deb'), { name: 'hello', version: '2.10-3', arch: 'amd64' });
  assert.deepEqual(inspectDebPath('pool/main/b/busybox/busybox_1%3a1.35.0-4_amd64.deb'), { name: 'busybox', version: '1:1.35.0-4', arch: 'amd64' });
  assert.deepEqual(inspectDebPath('pool/main/d/d-i/di-utils_1.2_amd64.udeb'), { name: 'di-utils', version: '1.2', arch: 'amd64' });
  assert.deepEqual(inspectDebPath('pool/main/h/hello/hello-dbgsym_2.10-3_arm64.ddeb'), { name: 'hello-dbgsym', version: '2.10-3', arch: 'arm64' });
  assert.equal(inspectDebPath('v3.20/main/x86_64/hello-2.10-r0.apk'), undefined);
  assert.equal(inspectDebPath('hello/2.10/1.fc40/x86_64/hello-2.10-1.fc40.x86_64.rpm'), undefined);
  assert.equal(guessPoolPath({ name: 'libz1', version: '1:1.3-1', arch: 'amd64', source: 'libzz', component: 'main' }), 'pool/main/libz/libzz/libz1_1.3-1_amd64.deb');
});

test('decompress: gzip, xz, lz4, zstd made by the real CLIs; sniffing; plain passthrough; corrupt input', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-decomp-'));
  tmp.push(dir);
  // Large and repetitive enough for LZ4 matches, overlapping matches and several (linked) blocks.
  const lines: string[] = [];
  for (let i = 0; i < 30000; i++) lines.push(`Package: pkg${i % 977}\nVersion: ${i}.${i % 13}\nDescription: ${'abc'.repeat(i % 40)}\n`);
  const plain = Buffer.from(lines.join('\n'));
  const packs = await packWithRealTools(dir, plain, [
    ['gzip', ['-k', '-9'], '.gz'],
    ['xz', ['-k'], '.xz'],
    ['lz4', ['-q', '-f'], '.lz4'],
    ['lz4', ['-q', '-f', '--content-size', '-BD', '--no-frame-crc'], '.lz4'],
    ['zstd', ['-q', '-k'], '.zst'],
  ]);
  for (const { cmd, args, ext, packed } of packs) {
    assert.ok(packed.length < plain.length);
    assert.equal(sniffCompression(packed), { '.gz': 'gzip', '.xz': 'xz', '.lz4': 'lz4', '.zst': 'zstd' }[ext]);
    assert.ok((await decompress(packed, `Packages${ext}`)).equals(plain), `${cmd} ${args.join(' ')}`);
  }
  assert.ok((await decompress(plain, 'Packages')).equals(plain));
  assert.equal(sniffCompression(plain), undefined);
  const gz = await readFile(join(dir, 'P.gz'));
  await assert.rejects(decompress(gz.subarray(0, 100), 'x.gz'), (e: unknown) => e instanceof PingetError && e.code === 'BAD_INPUT' && /x\.gz/.test(e.message));
});

test('openpgp: good, tampered and unknown-key signatures made by real gpg, binary and armored keyrings', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-pgp-'));
  tmp.push(dir);
  const homes = [join(dir, 'g1'), join(dir, 'g2')];
  const gpg = async (home: string, args: string[]) => {
    const res = await run('gpg', ['--batch', '--yes', ...args], { env: { ...process.env, GNUPGHOME: home } });
    assert.equal(res.code, 0, res.stderr);
    return res.stdout;
  };
  try {
    for (const [i, h] of homes.entries()) {
      await mkdir(h, { mode: 0o700 });
      await gpg(h, ['--passphrase', '', '--quick-gen-key', `k${i} <k${i}@example.invalid>`, i === 0 ? 'rsa2048' : 'ed25519', 'sign', 'never']);
    }
    await gpg(homes[0], ['--output', join(dir, 'k0.gpg'), '--export']);
    await writeFile(join(dir, 'k1.asc'), await gpg(homes[1], ['--armor', '--export']));
    await writeFile(join(dir, 'empty.gpg'), '');
    await writeFile(join(dir, 'Release'), 'Origin: test\nSuite: stable\n');
    await gpg(homes[0], ['--clearsign', '-o', join(dir, 'InRelease'), join(dir, 'Release')]);
    await gpg(homes[0], ['--detach-sign', '-o', join(dir, 'Release.gpg'), join(dir, 'Release')]);

    const k0 = await loadKeys([join(dir, 'k0.gpg'), join(dir, 'empty.gpg'), join(dir, 'missing.gpg')]);
    const k1 = await loadKeys([join(dir, 'k1.asc')]);
    assert.deepEqual([k0.length, k1.length], [1, 1]);
    const inRelease = await readFile(join(dir, 'InRelease'), 'utf8');
    const release = await readFile(join(dir, 'Release'));
    const sig = await readFile(join(dir, 'Release.gpg'));
    assert.equal(await verifyCleartext(inRelease, k0, 'InRelease'), 'Origin: test\nSuite: stable\n'.trimEnd());
    await verifyDetached(release, sig, [...k1, ...k0], 'Release.gpg');
    const integrity = (re: RegExp) => (e: unknown) => e instanceof PingetError && e.code === 'INTEGRITY' && re.test(e.message);
    await assert.rejects(verifyCleartext(inRelease.replace('stable', 'stablE'), k0, 'InRelease'), integrity(/InRelease: BAD signature/));
    await assert.rejects(verifyDetached(Buffer.concat([release, Buffer.from('x')]), sig, k0, 'Release.gpg'), integrity(/Release\.gpg: BAD signature/));
    await assert.rejects(verifyCleartext(inRelease, k1, 'InRelease'), integrity(/InRelease: signed by unknown key/));
    await assert.rejects(verifyDetached(release, sig, [], 'Release.gpg'), integrity(/unknown key/));
    await assert.rejects(verifyCleartext('Origin: test\n', k0, 'InRelease'), integrity(/not an OpenPGP cleartext-signed/));
  } finally {
    for (const h of homes) await run('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: h } });
  }
});

/**
 * pinget sbom: CycloneDX 1.6 valid by @cyclonedx/cyclonedx-library's own schema validator, SPDX 2.3 valid by
 * the official JSON schema (testdata/sbom/), every purl parsed and rebuilt by packageurl-js, one component
 * per pinned package, the same bytes twice, and the root's facts checked against dpkg-query itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PackageURL } from 'packageurl-js';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { Ajv } from 'ajv';
import { runCli, REPO_ROOT } from './helpers/cli.js';
import { makeLayout } from './helpers/oci-layout.js';
import { run } from '../src/exec.js';
import { readLockfile } from '../src/lockfile.js';
import { adapterForPath } from '../src/distro-registry.js';

const LOCKFILES = [
  'SHA256SUMS.example',
  'testdata/diff/debian-new.SHA256SUMS',
  'testdata/diff/fedora-new.SHA256SUMS',
  'testdata/diff/alpine-new.SHA256SUMS',
  'testdata/diff/arch-new.SHA256SUMS',
  'testdata/snapshot/SHA256SUMS-ubuntu-amd64',
  'testdata/sbom/SHA256SUMS-sources-amd64',
];

interface CdxComponent {
  type: string;
  name: string;
  version?: string;
  purl?: string;
  'bom-ref'?: string;
  hashes?: { alg: string; content: string }[];
  pedigree?: { ancestors: { purl: string; version?: string; name: string }[] };
  properties?: { name: string; value: string }[];
  externalReferences?: { url: string; type: string; hashes?: { alg: string; content: string }[] }[];
}
interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  primaryPackagePurpose: string;
  checksums?: { algorithm: string; checksumValue: string }[];
  externalRefs?: { referenceType: string; referenceLocator: string }[];
  licenseDeclared: string;
  licenseComments?: string;
}
interface SpdxDoc {
  documentNamespace: string;
  creationInfo: { created: string };
  packages: SpdxPackage[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

const cdxValidator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6);
let spdxValidate: ((doc: unknown) => boolean) & { errors?: unknown };
async function spdxValid(doc: unknown): Promise<void> {
  if (!spdxValidate) {
    const schema = JSON.parse(await readFile(join(REPO_ROOT, 'testdata/sbom/spdx-2.3-schema.json'), 'utf8'));
    spdxValidate = new Ajv({ allErrors: true, strict: false }).compile(schema) as typeof spdxValidate;
  }
  assert.ok(spdxValidate(doc), JSON.stringify(spdxValidate.errors));
}

function roundTrips(purl: string): PackageURL {
  const parsed = PackageURL.fromString(purl);
  assert.equal(parsed.toString(), purl, `purl does not round-trip: ${purl}`);
  return parsed;
}

async function pinnedPackages(file: string): Promise<number> {
  const lock = await readLockfile(join(REPO_ROOT, file));
  return lock.entries.filter((e) => adapterForPath(e.path)?.inspect(e.path)).length;
}

for (const file of LOCKFILES) {
  test(`sbom of ${file}: valid CycloneDX 1.6 and SPDX 2.3, purls round-trip, one component per pinned package, same bytes twice`, async () => {
    const packages = await pinnedPackages(file);
    assert.ok(packages > 0);
    const cdx1 = await runCli(['sbom', file, '--format', 'cyclonedx']);
    assert.equal(cdx1.code, 0, cdx1.stderr);
    assert.equal(await cdxValidator.validate(cdx1.stdout), null);
    const cdx2 = await runCli(['sbom', file, '--format', 'cyclonedx']);
    assert.equal(cdx2.stdout, cdx1.stdout, 'CycloneDX output differs between two runs');
    const bom = JSON.parse(cdx1.stdout) as { serialNumber: string; metadata: { timestamp: string }; components: CdxComponent[] };
    const libs = bom.components.filter((c) => c.type === 'library' && !c.purl?.includes('arch=source') && !c.purl?.includes('arch=src'));
    assert.equal(libs.length, packages);
    const lock = await readLockfile(join(REPO_ROOT, file));
    assert.equal(bom.metadata.timestamp, new Date(lock.headers.snapshot).toISOString());
    for (const c of libs) {
      const p = roundTrips(c.purl!);
      assert.equal(p.name, c.name);
      assert.equal(p.version, c.version);
      const path = c.properties!.find((x) => x.name === 'pinget:path')!.value;
      assert.equal(c.hashes![0].content, lock.entries.find((e) => e.path === path)!.sha256);
      for (const a of c.pedigree?.ancestors ?? []) roundTrips(a.purl);
    }

    const spdx1 = await runCli(['sbom', file, '--format', 'spdx']);
    assert.equal(spdx1.code, 0, spdx1.stderr);
    const doc = JSON.parse(spdx1.stdout) as SpdxDoc;
    await spdxValid(doc);
    const spdx2 = await runCli(['sbom', file, '--format', 'spdx']);
    assert.equal(spdx2.stdout, spdx1.stdout, 'SPDX output differs between two runs');
    const installs = doc.packages.filter((p) => p.primaryPackagePurpose === 'INSTALL');
    assert.equal(installs.length, packages);
    const ids = new Set(doc.packages.map((p) => p.SPDXID));
    for (const p of doc.packages) assert.match(p.SPDXID, /^SPDXRef-[A-Za-z0-9.-]+$/);
    assert.equal(ids.size, doc.packages.length, 'SPDXIDs are unique');
    for (const r of doc.relationships) assert.ok(r.spdxElementId === 'SPDXRef-DOCUMENT' || ids.has(r.spdxElementId), r.spdxElementId);
    for (const r of doc.relationships) assert.ok(ids.has(r.relatedSpdxElement), r.relatedSpdxElement);
    for (const p of doc.packages) for (const ref of p.externalRefs ?? []) roundTrips(ref.referenceLocator);
    // The same purls in both formats.
    const spdxPurls = installs.map((p) => p.externalRefs![0].referenceLocator).sort();
    assert.deepEqual(spdxPurls, libs.map((c) => c.purl!).sort());
  });
}

test('sbom purls follow the purl spec types and what scanners write', async () => {
  const purls = async (file: string) => {
    const res = await runCli(['sbom', file]);
    assert.equal(res.code, 0, res.stderr);
    return (JSON.parse(res.stdout) as { components: CdxComponent[] }).components.map((c) => c.purl);
  };
  assert.ok((await purls('SHA256SUMS.example')).includes('pkg:deb/debian/hostname@3.23+nmu1?arch=amd64&distro=debian-12'));
  assert.ok((await purls('testdata/snapshot/SHA256SUMS-ubuntu-amd64')).includes('pkg:deb/ubuntu/hello@2.10-3?arch=amd64&distro=ubuntu-24.04'));
  assert.ok((await purls('testdata/diff/fedora-new.SHA256SUMS')).includes('pkg:rpm/fedora/alpha@1.1-1.fc40?arch=x86_64&distro=fedora-40'));
  assert.ok((await purls('testdata/diff/alpine-new.SHA256SUMS')).includes('pkg:apk/alpine/alpha@1.1-r0?arch=x86_64&distro=alpine-3.20.3'));
  assert.ok((await purls('testdata/diff/arch-new.SHA256SUMS')).includes('pkg:alpm/arch/alpha@1.1-1?arch=x86_64'));
  // Parsed, the purls are what the spec's examples say: the epoch inside a deb version, a qualifier for rpm.
  const deb = PackageURL.fromString('pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64');
  assert.equal(deb.version, '1:2.4.47-2+b1');
});

test('sbom of a lockfile with source lines: each source package once, with its files and hashes; binaries point at it', async () => {
  const res = await runCli(['sbom', 'testdata/sbom/SHA256SUMS-sources-amd64']);
  assert.equal(res.code, 0, res.stderr);
  const bom = JSON.parse(res.stdout) as { components: CdxComponent[] };
  const sources = bom.components.filter((c) => c.purl?.includes('arch=source'));
  assert.deepEqual(sources.map((c) => c.purl).sort(), ['pkg:deb/debian/glibc@2.36-9+deb12u14?arch=source&distro=debian-12', 'pkg:deb/debian/hostname@3.23+nmu1?arch=source&distro=debian-12']);
  const lock = await readLockfile(join(REPO_ROOT, 'testdata/sbom/SHA256SUMS-sources-amd64'));
  const glibc = sources.find((c) => c.name === 'glibc')!;
  assert.deepEqual(
    glibc.externalReferences!.map((r) => `${r.hashes![0].content}  ${r.url}`).sort(),
    lock.entries.filter((e) => e.path.startsWith('pool/main/g/glibc/glibc_')).map((e) => `${e.sha256}  ${e.path}`).sort(),
  );
  const libc6 = bom.components.find((c) => c.name === 'libc6')!;
  assert.equal(libc6.pedigree!.ancestors[0].purl, glibc.purl);
  const spdx = JSON.parse((await runCli(['sbom', 'testdata/sbom/SHA256SUMS-sources-amd64', '--format', 'spdx'])).stdout) as SpdxDoc;
  const id = (name: string, purpose: string) => spdx.packages.find((p) => p.name === name && p.primaryPackagePurpose === purpose)!.SPDXID;
  assert.ok(spdx.relationships.some((r) => r.spdxElementId === id('libc6', 'INSTALL') && r.relationshipType === 'GENERATED_FROM' && r.relatedSpdxElement === id('glibc', 'SOURCE')));
});

test('sbom timestamps come from SOURCE_DATE_EPOCH, else the snapshot header; the serial number from the content', async () => {
  const a = JSON.parse((await runCli(['sbom', 'SHA256SUMS.example'], { env: { SOURCE_DATE_EPOCH: '1700000000' } })).stdout);
  assert.equal(a.metadata.timestamp, '2023-11-14T22:13:20.000Z');
  const b = JSON.parse((await runCli(['sbom', 'SHA256SUMS.example'])).stdout);
  assert.equal(b.metadata.timestamp, '2026-07-11T10:16:37.000Z');
  const c = JSON.parse((await runCli(['sbom', 'testdata/diff/debian-new.SHA256SUMS'])).stdout);
  assert.notEqual(b.serialNumber, c.serialNumber);
  const s = JSON.parse((await runCli(['sbom', 'SHA256SUMS.example', '--format', 'spdx'], { env: { SOURCE_DATE_EPOCH: '1700000000' } })).stdout) as SpdxDoc;
  assert.equal(s.creationInfo.created, '2023-11-14T22:13:20Z');
  assert.match(s.documentNamespace, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('sbom lists a line that names no package as a file with its hash, and says so on stderr', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-sbom-'));
  try {
    const text = (await readFile(join(REPO_ROOT, 'SHA256SUMS.example'), 'utf8')) + `${'ab'.repeat(32)}  pool/main/x/xyz/not-a-package.txt\n`;
    const file = join(dir, 'SHA256SUMS');
    await writeFile(file, text);
    const res = await runCli(['sbom', file]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /1 lockfile line\(s\) name no debian package.*not-a-package\.txt/);
    const bom = JSON.parse(res.stdout) as { components: CdxComponent[] };
    const f = bom.components.find((c) => c.type === 'file')!;
    assert.equal(f.name, 'pool/main/x/xyz/not-a-package.txt');
    assert.equal(f.hashes![0].content, 'ab'.repeat(32));
    assert.equal(await cdxValidator.validate(res.stdout), null);
    const spdx = await runCli(['sbom', file, '--format', 'spdx']);
    const doc = JSON.parse(spdx.stdout) as SpdxDoc;
    await spdxValid(doc);
    assert.equal(doc.packages.filter((p) => p.primaryPackagePurpose === 'FILE').length, 1);
    // A liar: the header says fedora, the paths are Debian's: nothing is claimed as an rpm.
    await writeFile(file, text.replace('# distro: debian 12 (bookworm) amd64', '# distro: fedora 40 x86_64'));
    const liar = await runCli(['sbom', file]);
    assert.equal(liar.code, 0, liar.stderr);
    assert.match(liar.stderr, /6 lockfile line\(s\) name no fedora package/);
    assert.ok(!liar.stdout.includes('pkg:rpm'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sbom refuses garbage, a FIFO and a bad format with exit 2, writing nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-sbom-'));
  try {
    await writeFile(join(dir, 'garbage'), 'not a lockfile\n');
    const g = await runCli(['sbom', join(dir, 'garbage'), '-o', join(dir, 'out.json')]);
    assert.equal(g.code, 2, g.stderr);
    assert.match(g.stderr, /garbage:1:/);
    await assert.rejects(readFile(join(dir, 'out.json')));
    await run('mkfifo', [join(dir, 'fifo')]);
    const f = await runCli(['sbom', join(dir, 'fifo')], { timeoutMs: 60_000 });
    assert.equal(f.code, 2, f.stderr);
    const bad = await runCli(['sbom', 'SHA256SUMS.example', '--format', 'swid']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /format/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sbom --root adds the epoch and the source package from dpkg, as dpkg-query reports them', async () => {
  const q = await run('dpkg-query', ['-W', '-f', '${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n', 'libc6', 'bsdutils', 'cpp']);
  assert.equal(q.code, 0, q.stderr);
  const rows = q.stdout.trim().split('\n').map((l) => l.split('\t'));
  assert.equal(rows.length, 3);
  const dir = await mkdtemp(join(tmpdir(), 'pinget-sbom-'));
  try {
    const noEpoch = (v: string) => v.slice(v.indexOf(':') + 1);
    const lines = rows.map(([name, version, arch, source]) => {
      const path = `pool/main/${source.startsWith('lib') ? source.slice(0, 4) : source[0]}/${source}/${name}_${noEpoch(version)}_${arch}.deb`;
      return `${createHash('sha256').update(path).digest('hex')}  ${path}`;
    });
    const file = join(dir, 'SHA256SUMS');
    await writeFile(file, `# pinget lockfile v1\n# distro: debian 12 (bookworm) amd64\n${lines.sort().join('\n')}\n`);
    const res = await runCli(['sbom', file, '--root', '/']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(await cdxValidator.validate(res.stdout), null);
    const bom = JSON.parse(res.stdout) as { components: CdxComponent[] };
    for (const [name, version, arch, source, sourceVersion] of rows) {
      const c = bom.components.find((x) => x.name === name)!;
      assert.equal(c.version, version, `${name}: the version with dpkg's epoch`);
      assert.equal(PackageURL.fromString(c.purl!).version, version);
      assert.equal(PackageURL.fromString(c.purl!).qualifiers?.arch, arch);
      const ancestor = PackageURL.fromString(c.pedigree!.ancestors[0].purl);
      assert.deepEqual([ancestor.name, ancestor.version, ancestor.qualifiers?.arch], [source, sourceVersion, 'source']);
    }
    // Without the root, the lockfile alone: no epoch (pool names drop it), a source without a version.
    const alone = JSON.parse((await runCli(['sbom', file])).stdout) as { components: CdxComponent[] };
    const cpp = alone.components.find((x) => x.name === 'cpp')!;
    assert.ok(!cpp.version!.includes(':'));
    assert.equal(cpp.pedigree!.ancestors[0].version, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dockerfile generate --sbom writes the SBOM pinget sbom prints, beside the lockfile', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-sbom-'));
  try {
    const lock = join(dir, 'SHA256SUMS-amd64');
    await writeFile(lock, await readFile(join(REPO_ROOT, 'SHA256SUMS.example')));
    const res = await runCli(['dockerfile', 'generate', lock, '--allow-tag', '--sbom', 'spdx', '-o', join(dir, 'Dockerfile')]);
    assert.equal(res.code, 0, res.stderr);
    const direct = await runCli(['sbom', lock, '--format', 'spdx']);
    assert.equal(await readFile(`${lock}.spdx.json`, 'utf8'), direct.stdout);
    const bad = await runCli(['dockerfile', 'generate', lock, '--allow-tag', '--sbom', 'swid', '-o', join(dir, 'Dockerfile2')]);
    assert.equal(bad.code, 2);
    await assert.rejects(readFile(join(dir, 'Dockerfile2')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sbom --root on Alpine and Arch roots: origin / pkgbase as the source package, the declared licence checked as SPDX', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-sbom-'));
  const hex = (s: string) => createHash('sha256').update(s).digest('hex');
  try {
    const apk = join(dir, 'alpine');
    await mkdir(join(apk, 'lib/apk/db'), { recursive: true });
    await mkdir(join(apk, 'etc/apk'), { recursive: true });
    await writeFile(join(apk, 'etc/os-release'), 'ID=alpine\nVERSION_ID=3.20.3\n');
    await writeFile(join(apk, 'etc/apk/arch'), 'x86_64\n');
    await writeFile(join(apk, 'lib/apk/db/installed'), await readFile(join(REPO_ROOT, 'testdata/alpine/installed')));
    const apkLock = join(dir, 'apk.SHA256SUMS');
    const apkPaths = ['v3.20/main/x86_64/alpine-baselayout-data-3.6.5-r0.apk', 'v3.20/main/x86_64/musl-1.2.5-r0.apk', 'v3.20/main/x86_64/musl-1.2.4-r0.apk'];
    await writeFile(apkLock, `# pinget lockfile v1\n# distro: alpine 3.20.3 x86_64\n${apkPaths.map((p) => `${hex(p)}  ${p}`).join('\n')}\n`);
    const a = await runCli(['sbom', apkLock, '--root', apk]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(await cdxValidator.validate(a.stdout), null);
    assert.match(a.stderr, /1 pinned package\(s\) are not installed .* at the pinned version/);
    const comps = (JSON.parse(a.stdout) as { components: (CdxComponent & { licenses?: { expression?: string }[] })[] }).components;
    const musl = comps.find((c) => c.version === '1.2.5-r0')!;
    assert.deepEqual(musl.licenses, [{ expression: 'MIT' }]);
    assert.equal(musl.pedigree!.ancestors[0].purl, 'pkg:apk/alpine/musl@1.2.5-r0?distro=alpine-3.20.3');
    const old = comps.find((c) => c.version === '1.2.4-r0')!;
    assert.equal(old.licenses, undefined, 'another version than the installed one gets nothing from the root');
    const data = comps.find((c) => c.name === 'alpine-baselayout-data')!;
    assert.deepEqual(data.licenses, [{ expression: 'GPL-2.0-only' }], 'a noarch package, pinned under the system arch');
    const spdx = JSON.parse((await runCli(['sbom', apkLock, '--root', apk, '--format', 'spdx'])).stdout) as SpdxDoc;
    await spdxValid(spdx);
    assert.equal(spdx.packages.find((p) => p.versionInfo === '1.2.5-r0' && p.primaryPackagePurpose === 'INSTALL')!.licenseDeclared, 'MIT');

    const arch = join(dir, 'arch');
    await mkdir(join(arch, 'var/lib/pacman/local/beta-2:0.5-3'), { recursive: true });
    await mkdir(join(arch, 'etc'), { recursive: true });
    await writeFile(join(arch, 'etc/os-release'), 'ID=arch\nBUILD_ID=rolling\n');
    await writeFile(join(arch, 'var/lib/pacman/local/beta-2:0.5-3/desc'), await readFile(join(REPO_ROOT, 'testdata/arch/local-desc')));
    const archLock = join(dir, 'arch.SHA256SUMS');
    const p = 'core/os/x86_64/beta-2:0.5-3-x86_64.pkg.tar.zst';
    await writeFile(archLock, `# pinget lockfile v1\n# distro: arch rolling x86_64\n${hex(p)}  ${p}\n`);
    const r = await runCli(['sbom', archLock, '--root', arch]);
    assert.equal(r.code, 0, r.stderr);
    const beta = (JSON.parse(r.stdout) as { components: (CdxComponent & { licenses?: { expression?: string }[] })[] }).components[0];
    assert.equal(beta.purl, 'pkg:alpm/arch/beta@2:0.5-3?arch=x86_64');
    assert.deepEqual(beta.licenses, [{ expression: 'MIT' }]);
    assert.equal(beta.pedigree!.ancestors[0].purl, 'pkg:alpm/arch/beta@2:0.5-3');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('licences: a valid SPDX expression is kept as one; other wording is a named licence (CycloneDX) and NOASSERTION with a comment (SPDX)', async () => {
  const { buildModel } = await import('../src/sbom/model.js');
  const { toCycloneDx } = await import('../src/sbom/cyclonedx.js');
  const { toSpdx } = await import('../src/sbom/spdx.js');
  const { adapterById } = await import('../src/distro-registry.js');
  const adapter = adapterById('fedora')!;
  const paths = ['a/1/1.fc40/x86_64/a-1-1.fc40.x86_64.rpm', 'b/1/1.fc40/x86_64/b-1-1.fc40.x86_64.rpm', 'c/1/1.fc40/x86_64/c-1-1.fc40.x86_64.rpm'];
  const lock = { headers: { distro: 'fedora 40 x86_64' }, entries: paths.map((path) => ({ path, sha256: 'c'.repeat(64) })), cids: new Map() };
  const warnings: string[] = [];
  const model = await buildModel(
    { name: 'L', bytes: Buffer.from('x'), lock, adapter, hooks: await adapter.sbomHooks!(), facts: [{ licence: 'MIT OR Apache-2.0', epoch: '3' }, { licence: 'GPLv2+' }, { licence: 'MIT AND (' }], env: {} },
    (w) => warnings.push(w),
  );
  const cdx = await toCycloneDx(model, '0');
  assert.equal(await cdxValidator.validate(cdx), null);
  const comps = (JSON.parse(cdx) as { components: (CdxComponent & { licenses?: unknown[] })[] }).components;
  assert.deepEqual(comps.find((c) => c.name === 'a')!.licenses, [{ expression: 'MIT OR Apache-2.0' }]);
  assert.equal(comps.find((c) => c.name === 'a')!.version, '3:1-1.fc40');
  assert.equal(PackageURL.fromString(comps.find((c) => c.name === 'a')!.purl!).qualifiers?.epoch, '3');
  assert.deepEqual(comps.find((c) => c.name === 'b')!.licenses, [{ license: { name: 'GPLv2+' } }]);
  assert.deepEqual(comps.find((c) => c.name === 'c')!.licenses, [{ license: { name: 'MIT AND (' } }]);
  const doc = JSON.parse(toSpdx(model, '0')) as SpdxDoc;
  await spdxValid(doc);
  const b = doc.packages.find((p) => p.name === 'b')!;
  assert.equal(b.licenseDeclared, 'NOASSERTION');
  assert.match(b.licenseComments!, /GPLv2\+/);
  assert.equal(doc.packages.find((p) => p.name === 'a')!.licenseDeclared, 'MIT OR Apache-2.0');
  assert.equal(doc.creationInfo.created, '1970-01-01T00:00:00Z', 'no SOURCE_DATE_EPOCH nor snapshot: the Unix epoch, never the clock');
  assert.deepEqual(warnings, []);
});

test('sbom --image reads the image\'s package database as --root reads a tree: the same SBOM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-sbom-'));
  try {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'lib/apk/db'), { recursive: true });
    await mkdir(join(tree, 'etc/apk'), { recursive: true });
    await writeFile(join(tree, 'etc/os-release'), 'ID=alpine\nVERSION_ID=3.20.3\n');
    await writeFile(join(tree, 'etc/apk/arch'), 'x86_64\n');
    await writeFile(join(tree, 'lib/apk/db/installed'), await readFile(join(REPO_ROOT, 'testdata/alpine/installed')));
    await run('tar', ['-C', tree, '-cf', join(dir, 'layer.tar'), '.']);
    const layer = await readFile(join(dir, 'layer.tar'));
    await makeLayout(join(dir, 'image'), [{ blob: layer, tar: layer, mediaType: 'application/vnd.oci.image.layer.v1.tar' }]);
    const lock = join(dir, 'SHA256SUMS');
    const p = 'v3.20/main/x86_64/busybox-1.36.1-r29.apk';
    await writeFile(lock, `# pinget lockfile v1\n# distro: alpine 3.20.3 x86_64\n${'d'.repeat(64)}  ${p}\n`);
    const fromImage = await runCli(['sbom', lock, '--image', join(dir, 'image'), '--format', 'spdx']);
    assert.equal(fromImage.code, 0, fromImage.stderr);
    const fromRoot = await runCli(['sbom', lock, '--root', tree, '--format', 'spdx']);
    assert.equal(fromImage.stdout, fromRoot.stdout);
    assert.equal((JSON.parse(fromImage.stdout) as SpdxDoc).packages.find((x) => x.name === 'busybox')!.licenseDeclared, 'GPL-2.0-only');
    const both = await runCli(['sbom', lock, '--image', join(dir, 'image'), '--root', tree]);
    assert.equal(both.code, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

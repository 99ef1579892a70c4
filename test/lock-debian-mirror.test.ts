/**
 * `pinget lock` against the real Debian mirror (this machine's apt sources), with a real chroot install as the
 * oracle: a minbase root of the machine's release (mmdebstrap), `lock hello curl make` with Recommends on and off
 * equals, package for package, what `apt-get install` of the same names adds inside a copy of that root; arm64 from
 * the same amd64 host names the same packages, each hash the arm64 file's (downloaded and checked); the base is not
 * changed; the same base as an OCI image (`--image`) gives the same lockfile; the lockfile installs into a fresh copy of the base to exactly apt's set, and hello runs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from './helpers/cli.js';
import { hostCodename, minbaseTarball } from './helpers/minbase.js';
import { run } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { parseDpkgStatus } from '../distros/debian/dpkg-status.js';
import { inspectDebPath } from '../distros/debian/pool-path.js';
import { debMirrors, readSources } from '../distros/debian/sources.js';

const inCI = process.env.CI === 'true';
const haveMmdebstrap = (await run('mmdebstrap', ['--version']).catch(() => undefined))?.code === 0;
const skip = !haveMmdebstrap && !inCI ? 'mmdebstrap is not installed (.ci/apt-packages/image.txt; under CI=true this fails)' : false;

let work: string;
let base: string;
let codename: string;

async function must(cmd: string, args: string[]): Promise<string> {
  const res = await run(cmd, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${res.code}\n${res.stderr.slice(-3000)}`);
  return res.stdout;
}

before(async () => {
  if (skip) return;
  codename = await hostCodename();
  await mkdir(join(REPO_ROOT, 'tmp'), { recursive: true });
  work = await mkdtemp(join(REPO_ROOT, 'tmp', 'lock-mirror-'));
  base = join(work, 'base');
  await mkdir(base);
  await must('tar', ['-C', base, '-xf', await minbaseTarball(codename)]);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const statusSet = async (root: string) =>
  new Map(parseDpkgStatus(await readFile(join(root, 'var/lib/dpkg/status'), 'utf8')).map((p) => [`${p.name}:${p.arch}`, p.version]));

/** What apt-get install of `names` adds to a copy of the base: each new or changed package as `name version arch`. */
async function oracle(names: string[], recommends: boolean): Promise<{ added: string[]; root: string }> {
  const root = join(work, `oracle-${recommends ? 'rec' : 'norec'}`);
  await must('cp', ['-a', base, root]);
  await copyFile('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
  await must('chroot', [root, 'apt-get', '-qq', 'update']);
  await must('chroot', [root, 'apt-get', 'install', '-qq', '-y', ...(recommends ? [] : ['--no-install-recommends']), ...names]);
  const before = await statusSet(base);
  const after = await statusSet(root);
  const added = [...after].filter(([k, v]) => before.get(k) !== v).map(([k, v]) => `${k.split(':')[0]} ${v} ${k.split(':')[1]}`);
  return { added: added.sort(), root };
}

async function lockJson(args: string[]): Promise<{ packages: { name: string; version: string; arch: string }[]; file: string }> {
  const res = await runCli(['lock', '--cache', join(work, 'cache'), '--json', ...args], { timeoutMs: 10 * 60_000 });
  assert.equal(res.code, 0, `lock ${args.join(' ')}:\n${res.stderr}`);
  const doc = JSON.parse(res.stdout) as { files: { packages: { name: string; version: string; arch: string }[]; file: string }[] };
  return doc.files[0];
}

const NAMES = ['hello', 'curl', 'make'];

/** An OCI image layout (image-spec) whose one uncompressed layer is `tarball`. */
async function ociLayoutOf(tarball: string, dir: string): Promise<void> {
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  const put = async (b: Buffer) => {
    const hex = createHash('sha256').update(b).digest('hex');
    await writeFile(join(dir, 'blobs/sha256', hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  const layer = await put(await readFile(tarball));
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const manifest = await put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

test('lock equals a real chroot apt-get install of the same names (Recommends on and off); arm64 from this host; the lockfile installs and hello runs', { skip, timeout: 25 * 60_000 }, async () => {
  const tree = async () => (await must('sh', ['-c', `cd '${base}' && find . -printf '%p %s %T@ %m\\n' | sort | sha256sum && sha256sum var/lib/dpkg/status`])).trim();
  const untouched = await tree();
  const amd64 = join(work, 'SHA256SUMS-amd64');
  const withRec = await lockJson([...NAMES, '--root', base, '-o', amd64]);
  const noRec = await lockJson([...NAMES, '--root', base, '--no-install-recommends', '-o', join(work, 'SHA256SUMS-norec')]);
  assert.equal(await tree(), untouched, 'lock changed the base');
  const fmt = (ps: { name: string; version: string; arch: string }[]) => ps.map((p) => `${p.name} ${p.version} ${p.arch}`).sort();

  const rec = await oracle(NAMES, true);
  assert.deepEqual(fmt(withRec.packages), rec.added, 'Recommends on: lock differs from apt-get install');
  const norec = await oracle(NAMES, false);
  assert.deepEqual(fmt(noRec.packages), norec.added, 'Recommends off: lock differs from apt-get install --no-install-recommends');
  assert.ok(rec.added.length > norec.added.length, 'Recommends pull in more packages');

  // arm64 from this amd64 host: the same names, every file the arm64 (or all) build, every hash checked by a download.
  const arm64File = join(work, 'SHA256SUMS-arm64');
  const arm64 = await lockJson([...NAMES, '--root', base, '--arch', 'arm64', '-o', arm64File]);
  assert.deepEqual(arm64.packages.map((p) => p.name).sort(), withRec.packages.map((p) => p.name).sort());
  const arm = parseLockfile(await readFile(arm64File, 'utf8'), arm64File);
  assert.match(arm.headers.distro, / arm64$/);
  for (const e of arm.entries) assert.ok(['arm64', 'all'].includes(inspectDebPath(e.path)!.arch), e.path);
  // Another architecture than this system's: name the distro, and the mirrors from this machine's apt sources.
  const mirrors = debMirrors(await readSources('/')).flatMap((uri) => ['--provider', `${uri}/{{.Name}}`]);
  const dl = await runCli(['download', arm64File, '--distro', 'debian', ...mirrors, '-o', join(work, 'dl-arm64'), '--cache', join(work, 'cache')], { timeoutMs: 10 * 60_000 });
  assert.equal(dl.code, 0, dl.stderr);

  // The same base as an image (an OCI layout whose one layer is the minbase tarball): the same lockfile.
  const layout = join(work, 'base.oci');
  await ociLayoutOf(await minbaseTarball(codename), layout);
  const fromImage = await lockJson([...NAMES, '--image', layout, '-o', join(work, 'SHA256SUMS-image')]);
  assert.deepEqual(fmt(fromImage.packages), fmt(withRec.packages));
  assert.equal(await readFile(join(work, 'SHA256SUMS-image'), 'utf8'), await readFile(amd64, 'utf8'));

  // The lockfile installs into a fresh copy of the base to exactly the set apt installed, and hello runs.
  const fresh = join(work, 'fresh');
  await must('cp', ['-a', base, fresh]);
  const inst = await runCli(['install', amd64, '--root', fresh, '--cache', join(work, 'cache')], { timeoutMs: 10 * 60_000 });
  assert.equal(inst.code, 0, inst.stderr);
  assert.deepEqual([...(await statusSet(fresh))].sort(), [...(await statusSet(rec.root))].sort());
  assert.match(await must('chroot', [fresh, 'hello']), /Hello, world!/);
});

/**
 * The round trip through the CLI, as a user runs it: build real .debs, `cache push` a lockfile to a real
 * registry, clear the cache, `download` with only the oci provider; then a tampered blob.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Cache } from '../src/cache.js';
import { run } from '../src/exec.js';
import { pushToOci } from '../src/publish/oci.js';
import { silentLogger } from '../src/ui/log.js';
import { sha256File } from '../src/verify/sha256.js';
import { REPO_ROOT, runCli } from './helpers/cli.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';

let reg: TestRegistry;
let work: string;
let mirror: string;
let lockfile: string;
let env: NodeJS.ProcessEnv;
const debs: { path: string; sha256: string }[] = [];

/** A real, minimal binary package built with dpkg-deb. */
async function buildDeb(name: string, version: string): Promise<{ path: string; sha256: string }> {
  const root = join(work, 'build', name);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, 'usr', 'share', 'doc', name), { recursive: true });
  await writeFile(
    join(root, 'DEBIAN', 'control'),
    `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: pinget tests <tests@invalid>\nDescription: pinget OCI test package ${name}\n`,
  );
  await writeFile(join(root, 'usr', 'share', 'doc', name, 'README'), `${name} ${version}\n`);
  const path = `pool/main/${name[0]}/${name}/${name}_${version}_all.deb`;
  const out = join(mirror, path);
  await mkdir(join(out, '..'), { recursive: true });
  const res = await run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, out], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
  assert.equal(res.code, 0, res.stderr);
  return { path, sha256: await sha256File(out) };
}

before(async () => {
  reg = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'pinget-oci-cli-'));
  mirror = join(work, 'mirror');
  await mkdir(join(work, 'docker'));
  env = { DOCKER_CONFIG: join(work, 'docker') };
  debs.push(await buildDeb('pinget-oci-alpha', '1.0-1'), await buildDeb('pinget-oci-beta', '2:3.1-2'));
  lockfile = join(work, 'SHA256SUMS-amd64');
  await writeFile(
    lockfile,
    `# pinget lockfile v1\n# distro: debian 12 (bookworm) amd64\n${[...debs]
      .sort((a, b) => (a.path < b.path ? -1 : 1))
      .map((d) => `${d.sha256}  ${d.path}`)
      .join('\n')}\n`,
  );
});
after(async () => {
  await reg?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return runCli(args, { env: { ...env, ...extraEnv } });
}

test('cache push to a registry, clear the cache, download with only the oci provider: every file verified', async () => {
  const cache = join(work, 'cache');
  const mirrorUrl = pathToFileURL(mirror).href;
  const push = await cli(['cache', 'push', `oci+http://${reg.host}/pinget/debs:bookworm`, lockfile, '--cache', cache, '--provider', mirrorUrl, '--json']);
  assert.equal(push.code, 0, push.stderr);
  const res = JSON.parse(push.stdout) as { uploaded: number; skipped: number; manifests: { tag: string; digest: string; layers: number }[] };
  assert.equal(res.uploaded, 2);
  assert.deepEqual(res.manifests.map((m) => [m.tag, m.layers]), [['bookworm', 2]]);

  const manifest = await run('oras', ['manifest', 'fetch', '--plain-http', `${reg.host}/pinget/debs:bookworm`], { env: { ...process.env, ...env } });
  assert.equal(manifest.code, 0, manifest.stderr);
  const layers = (JSON.parse(manifest.stdout) as { layers: { digest: string; annotations: Record<string, string> }[] }).layers;
  assert.deepEqual(
    layers.map((l) => [l.annotations['org.opencontainers.image.title'], l.digest]).sort(),
    debs.map((d) => [d.path, `sha256:${d.sha256}`]).sort(),
  );

  const clean = await cli(['cache', 'clean', '--cache', cache]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.deepEqual(await new Cache(cache).list(), []);

  const out = join(work, 'out');
  const dl = await cli(['download', lockfile, '--provider', `oci+http://${reg.host}/pinget/debs`, '--cache', cache, '-o', out]);
  assert.equal(dl.code, 0, dl.stderr);
  const check = await run('sha256sum', ['-c', lockfile], { cwd: out });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /pinget-oci-alpha_1\.0-1_all\.deb: OK/);
  // They are real packages: dpkg reads them back.
  const info = await run('dpkg-deb', ['--field', join(out, debs[1].path), 'Version']);
  assert.equal(info.stdout.trim(), '2:3.1-2');

});

test('a blob the registry serves corrupted: exit 3 with only the registry, the next provider serves otherwise', async () => {
  // (cache push through the CLI is the test above; here the API is enough.)
  await pushToOci(`oci+http://${reg.host}/pinget/tamper:v1`, debs.map((d) => ({ ...d, file: join(mirror, d.path) })), { log: silentLogger, env: { ...process.env, ...env } });
  const victim = debs[0];
  const good = await readFile(join(mirror, victim.path));
  const bad = Buffer.from(good);
  bad[bad.length - 10] ^= 0x55;
  await writeFile(reg.blobDataPath(victim.sha256), bad);

  const only = await cli(['download', lockfile, '--provider', `oci+http://${reg.host}/pinget/tamper`, '--cache', join(work, 'cache-t1'), '-o', join(work, 'out-t1')]);
  assert.equal(only.code, 3, only.stderr);
  assert.match(only.stderr, /pinget-oci-alpha/);

  const out = join(work, 'out-t2');
  const chained = await cli([
    'download',
    lockfile,
    '--provider',
    `oci+http://${reg.host}/pinget/tamper`,
    '--provider',
    pathToFileURL(mirror).href,
    '--cache',
    join(work, 'cache-t2'),
    '-o',
    out,
  ]);
  assert.equal(chained.code, 0, chained.stderr);
  assert.match(chained.stderr, /do not match/);
  assert.deepEqual(await readFile(join(out, victim.path)), good);
});

test('oras missing: exit 4 and the message says how to install it', async () => {
  const res = await cli(
    ['download', lockfile, '--provider', `oci+http://${reg.host}/pinget/debs`, '--cache', join(work, 'cache-m'), '-o', join(work, 'out-m')],
    { PINGET_ORAS: join(work, 'no-oras-here') },
  );
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /apt-get install oras/);
});

test('htpasswd registry: push and download with docker-config credentials; a wrong password is exit 4 in one line naming the registry', async () => {
  const secure = await startRegistry({ htpasswd: await readFile(join(REPO_ROOT, 'testdata', 'oci', 'htpasswd'), 'utf8') });
  try {
    const config = async (name: string, password?: string) => {
      const dir = join(work, name);
      await mkdir(dir, { recursive: true });
      const auths = password ? { [secure.host]: { auth: Buffer.from(`pinget:${password}`).toString('base64') } } : {};
      await writeFile(join(dir, 'config.json'), JSON.stringify({ auths }));
      return { DOCKER_CONFIG: dir };
    };
    const good = await config('docker-good', 's3cret');
    const mirrorUrl = pathToFileURL(mirror).href;
    const push = await cli(['cache', 'push', `oci+http://${secure.host}/private/debs:v1`, lockfile, '--cache', join(work, 'cache-a1'), '--provider', mirrorUrl, '--json'], good);
    assert.equal(push.code, 0, push.stderr);
    assert.equal((JSON.parse(push.stdout) as { uploaded: number }).uploaded, 2);
    const out = join(work, 'out-auth');
    const dl = await cli(['download', lockfile, '--provider', `oci+http://${secure.host}/private/debs`, '--cache', join(work, 'cache-a2'), '-o', out], good);
    assert.equal(dl.code, 0, dl.stderr);
    assert.equal((await run('sha256sum', ['-c', lockfile], { cwd: out })).code, 0);

    const oneLine = (res: { code: number; stderr: string }, what: string) => {
      assert.equal(res.code, 4, `${what}: ${res.stderr}`);
      const lines = res.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${what}: ${res.stderr}`);
      assert.match(lines[0], new RegExp(`^pinget: .*${secure.host.replace(/\./g, '\\.')}.*refused authentication.*oras login`), what);
    };
    for (const [name, creds] of [['wrong password', await config('docker-wrong', 'wrong')], ['no credentials', await config('docker-none')]] as const) {
      // The mirror would serve every file: a refused login still stops the run instead of falling back quietly.
      const refused = await cli(
        ['download', lockfile, '--provider', `oci+http://${secure.host}/private/debs`, '--provider', mirrorUrl, '--cache', join(work, `cache-${name}`), '-o', join(work, `out-${name}`)],
        creds,
      );
      oneLine(refused, `download, ${name}`);
      const pushRefused = await cli(['cache', 'push', `oci+http://${secure.host}/private/debs:v2`, lockfile, '--cache', join(work, 'cache-a1'), '--provider', mirrorUrl], creds);
      oneLine(pushRefused, `push, ${name}`);
    }
  } finally {
    await secure.close();
  }
});

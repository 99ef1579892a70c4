/**
 * `cache export` writes an OCI image layout that real readers open (oras --oci-layout, skopeo oci:),
 * `oras copy` moves it to a registry and back, `cache import` reads both layouts back; `cache push`
 * removes the TAG-N tags an earlier, longer push left behind. Real registry, real oras and skopeo.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from '../src/exec.js';
import { pushToOci, staleParts } from '../src/publish/oci.js';
import { planLayout } from '../src/publish/oci-layout.js';
import { silentLogger } from '../src/ui/log.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { runCli } from './helpers/cli.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';

let reg: TestRegistry;
let work: string;
let env: NodeJS.ProcessEnv;
let mirror: string;
let lockfile: string;
const files: { path: string; sha256: string; size: number; file: string }[] = [];

before(async () => {
  reg = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'pinget-oci-layout-'));
  await mkdir(join(work, 'docker'));
  env = { ...process.env, DOCKER_CONFIG: join(work, 'docker') };
  mirror = join(work, 'mirror');
  for (const p of ['pool/main/a/alpha/alpha_1.0_all.deb', 'pool/main/b/beta/beta_2:1.0_all.deb', 'pool/main/c/gamma/gamma_0.1_all.deb']) {
    const data = randomBytes(3000);
    const file = join(mirror, p);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data);
    files.push({ path: p, sha256: sha256Bytes(data), size: data.length, file });
  }
  lockfile = join(work, 'SHA256SUMS');
  await writeFile(lockfile, `# distro: debian 12 (bookworm) amd64\n${files.map((f) => `${f.sha256}  ${f.path}`).join('\n')}\n`);
});
after(async () => {
  await reg?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function must(cmd: string, args: string[]): Promise<string> {
  const res = await run(cmd, args, { env });
  assert.equal(res.code, 0, `${cmd} ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

const cli = (args: string[]) => runCli(args, { env: { DOCKER_CONFIG: join(work, 'docker'), SOURCE_DATE_EPOCH: '1700000000' } });

test('planLayout: index.json names the manifest by tag; layers titled with lockfile paths; empty config; reproducible', () => {
  const a = planLayout(files, 'v1', { sourceDateEpoch: '1700000000' });
  const b = planLayout([...files].reverse(), 'v1', { sourceDateEpoch: '1700000000' });
  assert.deepEqual(a.index, b.index);
  const index = JSON.parse(a.index.toString()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'v1');
  const manifest = JSON.parse(a.blobs.get(index.manifests[0].digest.slice(7))!.toString()) as {
    config: { mediaType: string; digest: string; size: number };
    layers: { digest: string; size: number; annotations: Record<string, string> }[];
  };
  assert.deepEqual(manifest.config, { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${sha256Bytes(Buffer.from('{}'))}`, size: 2 });
  assert.deepEqual(
    manifest.layers.map((l) => [l.annotations['org.opencontainers.image.title'], l.digest, l.size]),
    files.map((f) => [f.path, `sha256:${f.sha256}`, f.size]),
  );
  const split = planLayout(files, 'v1', { maxLayers: 2 });
  assert.deepEqual(split.manifests.map((m) => [m.tag, m.layers]), [['v1', 2], ['v1-2', 1]]);
});

test('cache export is a layout oras and skopeo read; oras copies it to a registry and back; cache import reads both', async () => {
  const cache = join(work, 'cache-export');
  const layout = join(work, 'layout');
  const exp = await cli(['cache', 'export', layout, '--lockfile', lockfile, '--tag', 'v1', '--cache', cache, '--provider', `${pathToFileURL(mirror).href}/{{.Name}}`]);
  assert.equal(exp.code, 0, exp.stderr);
  assert.deepEqual(JSON.parse(await readFile(join(layout, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });

  const raw = await must('oras', ['manifest', 'fetch', '--oci-layout', `${layout}:v1`]);
  const manifest = JSON.parse(raw) as { artifactType: string; layers: { digest: string; annotations: Record<string, string> }[] };
  assert.equal(manifest.artifactType, 'application/vnd.pinget.packages.v1');
  assert.deepEqual(
    manifest.layers.map((l) => [l.annotations['org.opencontainers.image.title'], l.digest]),
    files.map((f) => [f.path, `sha256:${f.sha256}`]),
  );
  const inspected = JSON.parse(await must('skopeo', ['inspect', '--raw', `oci:${layout}:v1`])) as { layers: unknown[] };
  assert.equal(inspected.layers.length, files.length);
  const skopeoLayers = JSON.parse(await must('skopeo', ['inspect', '--config', '--raw', `oci:${layout}:v1`])) as unknown;
  assert.deepEqual(skopeoLayers, {});

  // to a registry and back with oras; oras pull of the registry copy writes files under their lockfile paths
  await must('oras', ['copy', '--from-oci-layout', `${layout}:v1`, '--to-plain-http', `${reg.host}/layout:v1`]);
  const pulled = join(work, 'pulled');
  await must('oras', ['pull', '--plain-http', '-o', pulled, `${reg.host}/layout:v1`]);
  for (const f of files) assert.equal(sha256Bytes(await readFile(join(pulled, f.path))), f.sha256, f.path);
  const back = join(work, 'oras-layout');
  await must('oras', ['copy', '--from-plain-http', `${reg.host}/layout:v1`, '--to-oci-layout', `${back}:copied`]);

  for (const [name, dir] of [['export', layout], ['oras', back]] as const) {
    const fresh = join(work, `cache-import-${name}`);
    const imp = await cli(['cache', 'import', dir, '--cache', fresh, '--json']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal((JSON.parse(imp.stdout) as { imported: number }).imported, files.length, name);
    // only the layers: no manifest or config blobs in the cache
    assert.deepEqual((await readdir(join(fresh, 'blobs/sha256'))).sort(), files.map((f) => f.sha256).sort(), name);
  }
});

test('cache import of a layout whose layer bytes were changed: exit 3, the file not imported', async () => {
  const cache = join(work, 'cache-tamper-src');
  const layout = join(work, 'layout-tamper');
  const exp = await cli(['cache', 'export', layout, '--lockfile', lockfile, '--cache', cache, '--provider', `${pathToFileURL(mirror).href}/{{.Name}}`]);
  assert.equal(exp.code, 0, exp.stderr);
  await writeFile(join(layout, 'blobs/sha256', files[1].sha256), 'not the bytes');
  const fresh = join(work, 'cache-tamper');
  const imp = await cli(['cache', 'import', layout, '--cache', fresh]);
  assert.equal(imp.code, 3, imp.stderr);
  assert.deepEqual((await readdir(join(fresh, 'blobs/sha256'))).sort(), [files[0].sha256, files[2].sha256].sort());
});

test('cache push with fewer parts than an earlier push removes the stale TAG-N tags', async () => {
  assert.deepEqual(staleParts(['rel', 'rel-2', 'rel-3', 'rel-10', 'rel-x', 'other-3', 'rel-03'], 'rel', 2), ['rel-3', 'rel-10']);
  const push = (n: number) => files.slice(0, n).map((f) => ({ path: f.path, sha256: f.sha256, file: f.file }));
  const first = await pushToOci(`oci+http://${reg.host}/stale:rel`, push(3), { log: silentLogger, env, maxLayersPerManifest: 1 });
  assert.deepEqual(first.manifests.map((m) => m.tag), ['rel', 'rel-2', 'rel-3']);
  const second = await pushToOci(`oci+http://${reg.host}/stale:rel`, push(2), { log: silentLogger, env, maxLayersPerManifest: 1 });
  assert.deepEqual(second.removedTags, ['rel-3']);
  const tags = (await must('oras', ['repo', 'tags', '--plain-http', `${reg.host}/stale`])).split('\n').filter(Boolean).sort();
  assert.deepEqual(tags, ['rel', 'rel-2']);
});

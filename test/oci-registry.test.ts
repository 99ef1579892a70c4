/**
 * The oci:// provider and pushToOci against a real registry (Debian's docker-registry) with a real oras.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Cache } from '../src/cache.js';
import { PingetError } from '../src/errors.js';
import { fetchAll } from '../src/fetch/chain.js';
import { FileProvider } from '../src/fetch/file.js';
import { createOciProvider } from '../src/fetch/oci.js';
import { streamOras } from '../src/fetch/oras.js';
import type { FetchTarget, Provider } from '../src/fetch/types.js';
import { pushToOci } from '../src/publish/oci.js';
import { PART_ANNOTATION, type PushFile } from '../src/publish/oci-plan.js';
import { silentLogger } from '../src/ui/log.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { REPO_ROOT } from './helpers/cli.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { run } from '../src/exec.js';

const ctx = { log: silentLogger, timeoutMs: 5000, retries: 0 };
let reg: TestRegistry;
let work: string;
/** oras sees an empty docker config: the machine's credentials play no part. */
let env: NodeJS.ProcessEnv;

before(async () => {
  reg = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'pinget-oci-test-'));
  await mkdir(join(work, 'docker'));
  env = { ...process.env, DOCKER_CONFIG: join(work, 'docker') };
});
after(async () => {
  await reg?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

let counter = 0;
/** Files under <work>/src-N/<path> with random bytes; returns them as push inputs. */
async function makeFiles(paths: string[], size = 2048): Promise<{ dir: string; files: PushFile[] }> {
  const dir = join(work, `src-${++counter}`);
  const files: PushFile[] = [];
  for (const p of paths) {
    const data = randomBytes(size);
    const file = join(dir, p);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data);
    files.push({ path: p, sha256: sha256Bytes(data), file });
  }
  return { dir, files };
}

function targets(files: PushFile[]): FetchTarget[] {
  return files.map((f) => ({ path: f.path, sha256: f.sha256, headers: {} }));
}

function provider(repo: string, e: NodeJS.ProcessEnv = env): Provider {
  return createOciProvider(`oci+http://${reg.host}/${repo}`, ctx, { env: e })!;
}

async function oras(args: string[], e: NodeJS.ProcessEnv = env): Promise<string> {
  const res = await run('oras', args, { env: e });
  assert.equal(res.code, 0, res.stderr);
  return res.stdout;
}

function uploadsIn(log: string, repo: string): number {
  return log.split('\n').filter((l) => l.includes(`"POST /v2/${repo}/blobs/uploads/`)).length;
}

test('push a lockfile\'s files, check the manifest with oras, fetch every file back by digest', async () => {
  const { files } = await makeFiles(['pool/main/h/hello/hello_2.10-2_amd64.deb', 'pool/main/e/epoch/epoch_1:2.0_all.deb', '-leading-dash.deb']);
  const res = await pushToOci(`oci+http://${reg.host}/debs/bookworm:v1`, files, { log: silentLogger, env });
  assert.equal(res.uploaded, 3);
  assert.equal(res.skipped, 0);
  assert.equal(res.manifests.length, 1);
  assert.equal(res.manifests[0].tag, 'v1');
  assert.equal(res.manifests[0].layers, 3);

  const raw = await oras(['manifest', 'fetch', '--plain-http', `${reg.host}/debs/bookworm:v1`]);
  assert.equal(`sha256:${sha256Bytes(raw)}`, res.manifests[0].digest);
  const manifest = JSON.parse(raw) as { artifactType: string; layers: { digest: string; annotations: Record<string, string>; mediaType: string }[]; annotations: Record<string, string> };
  assert.equal(manifest.artifactType, 'application/vnd.pinget.packages.v1');
  assert.equal(manifest.annotations[PART_ANNOTATION], '1/1');
  const byTitle = new Map(manifest.layers.map((l) => [l.annotations['org.opencontainers.image.title'], l.digest]));
  for (const f of files) assert.equal(byTitle.get(f.path), `sha256:${f.sha256}`, f.path);
  assert.ok(manifest.layers.every((l) => l.mediaType === 'application/octet-stream'));

  const cache = new Cache(join(work, 'cache-roundtrip'));
  const p = provider('debs/bookworm');
  try {
    const got = await fetchAll(targets(files), { cache, providers: [p], jobs: 3, log: silentLogger });
    for (const [i, r] of got.entries()) {
      assert.equal(r.source, p.label);
      assert.deepEqual(await readFile(r.file), await readFile(files[i].file));
    }
  } finally {
    await p.close?.();
  }
});

test('blobs the registry has are not uploaded again (counted from the report of oras push, confirmed by the access log)', async () => {
  const { files } = await makeFiles(['pool/a/a_1.deb', 'pool/b/b_1.deb', 'pool/c/c_1.deb']);
  const first = await pushToOci(`oci+http://${reg.host}/dedupe:one`, files.slice(0, 2), { log: silentLogger, env });
  assert.deepEqual([first.uploaded, first.skipped], [2, 0]);
  const before = uploadsIn(reg.log(), 'dedupe');
  const second = await pushToOci(`oci+http://${reg.host}/dedupe:two`, files, { log: silentLogger, env });
  assert.deepEqual([second.uploaded, second.skipped], [1, 2]);
  // One upload session: the new file. The two known blobs and the empty config were not sent again.
  assert.equal(uploadsIn(reg.log(), 'dedupe') - before, 1);
  const manifest = JSON.parse(await oras(['manifest', 'fetch', '--plain-http', `${reg.host}/dedupe:two`])) as { layers: unknown[] };
  assert.equal(manifest.layers.length, 3);
});

test('a large lockfile is split into manifests tagged TAG, TAG-2, TAG-3, all listed by the registry', async () => {
  const { files } = await makeFiles(['p/1', 'p/2', 'p/3', 'p/4', 'p/5'], 64);
  const res = await pushToOci(`oci://${reg.host}/split:rel`, files, { log: silentLogger, env, plainHttp: true, maxLayersPerManifest: 2 });
  assert.deepEqual(
    res.manifests.map((m) => [m.tag, m.layers]),
    [
      ['rel', 2],
      ['rel-2', 2],
      ['rel-3', 1],
    ],
  );
  const tags = (await (await fetch(`http://${reg.host}/v2/split/tags/list`)).json()) as { tags: string[] };
  assert.deepEqual([...tags.tags].sort(), ['rel', 'rel-2', 'rel-3']);
  const titles: string[] = [];
  for (const [i, m] of res.manifests.entries()) {
    const man = JSON.parse(await oras(['manifest', 'fetch', '--plain-http', `${reg.host}/split:${m.tag}`])) as {
      layers: { annotations: Record<string, string> }[];
      annotations: Record<string, string>;
    };
    assert.equal(man.annotations[PART_ANNOTATION], `${i + 1}/3`);
    titles.push(...man.layers.map((l) => l.annotations['org.opencontainers.image.title']));
  }
  assert.deepEqual(titles, ['p/1', 'p/2', 'p/3', 'p/4', 'p/5']);
});

test('SOURCE_DATE_EPOCH makes the manifest reproducible', async () => {
  const { files } = await makeFiles(['pool/r/r_1.deb']);
  const e = { ...env, SOURCE_DATE_EPOCH: '1700000000' };
  const a = await pushToOci(`oci+http://${reg.host}/repro:a`, files, { log: silentLogger, env: e });
  const b = await pushToOci(`oci+http://${reg.host}/repro:b`, files, { log: silentLogger, env: e });
  assert.equal(a.manifests[0].digest, b.manifests[0].digest);
  const man = JSON.parse(await oras(['manifest', 'fetch', '--plain-http', `${reg.host}/repro:a`])) as { annotations: Record<string, string> };
  assert.equal(man.annotations['org.opencontainers.image.created'], '2023-11-14T22:13:20Z');
});

test('a blob the registry does not have is NOT_FOUND, and the next provider serves it', async () => {
  const { dir, files } = await makeFiles(['pool/m/missing_1.deb']);
  const p = provider('debs/bookworm');
  try {
    await assert.rejects(p.open(targets(files)[0], new AbortController().signal), (e: unknown) => {
      assert.ok(e instanceof PingetError);
      assert.equal(e.code, 'NOT_FOUND');
      assert.match(e.message, /pool\/m\/missing_1\.deb: not in the registry/);
      return true;
    });
    const cache = new Cache(join(work, 'cache-missing'));
    const mirror = new FileProvider(`${pathToFileURL(dir).href}/{{.Name}}`);
    const [r] = await fetchAll(targets(files), { cache, providers: [p, mirror], jobs: 1, log: silentLogger });
    assert.equal(r.source, mirror.label);
  } finally {
    await p.close?.();
  }
});

test('a blob the registry serves corrupted is rejected; the next provider serves the right bytes', async () => {
  const { dir, files } = await makeFiles(['pool/t/tampered_1.deb'], 4096);
  await pushToOci(`oci+http://${reg.host}/tamper:v1`, files, { log: silentLogger, env });
  const good = await readFile(files[0].file);
  const bad = Buffer.from(good);
  bad[100] ^= 0xff;
  await writeFile(reg.blobDataPath(files[0].sha256), bad);

  const p = provider('tamper');
  try {
    await assert.rejects(fetchAll(targets(files), { cache: new Cache(join(work, 'cache-tamper-1')), providers: [p], jobs: 1, log: silentLogger }), (e: unknown) => {
      assert.ok(e instanceof PingetError);
      assert.equal(e.code, 'INTEGRITY', `${e.message}\n${e.details.join('\n')}`);
      return true;
    });
    const cache = new Cache(join(work, 'cache-tamper-2'));
    const mirror = new FileProvider(`${pathToFileURL(dir).href}/{{.Name}}`);
    const [r] = await fetchAll(targets(files), { cache, providers: [p, mirror], jobs: 1, log: silentLogger });
    assert.equal(r.source, mirror.label);
    assert.deepEqual(await readFile(r.file), good);
  } finally {
    await p.close?.();
  }
});

test('an unreachable registry is UNAVAILABLE (exit 4)', async () => {
  const { files } = await makeFiles(['pool/u/u_1.deb']);
  const closed = await startRegistry();
  const host = closed.host;
  await closed.close();
  const p = createOciProvider(`oci+http://${host}/debs`, ctx, { env })!;
  await assert.rejects(p.open(targets(files)[0], new AbortController().signal), (e: unknown) => {
    assert.ok(e instanceof PingetError);
    assert.equal(e.code, 'UNAVAILABLE');
    assert.equal(e.exitCode, 4);
    assert.match(e.message, /registry unreachable.*connection refused/);
    return true;
  });
  await assert.rejects(pushToOci(`oci+http://${host}/debs:v1`, files, { log: silentLogger, env }), /registry unreachable/);
});

test('oras missing: UNAVAILABLE (exit 4) saying how to install it, for fetch and push', async () => {
  const { files } = await makeFiles(['pool/o/o_1.deb']);
  const e = { ...env, PINGET_ORAS: join(work, 'no-such-oras') };
  const check = (err: unknown) => {
    assert.ok(err instanceof PingetError);
    assert.equal(err.code, 'UNAVAILABLE');
    assert.equal(err.exitCode, 4);
    assert.match(err.message, /no-such-oras is not installed: install the oras CLI .*apt-get install oras/);
    return true;
  };
  await assert.rejects(provider('debs', e).open(targets(files)[0], new AbortController().signal), check);
  await assert.rejects(pushToOci(`oci+http://${reg.host}/debs:v1`, files, { log: silentLogger, env: e }), check);
});

test('authentication: refused without credentials (clear message), works with docker-config credentials', async () => {
  const htpasswd = await readFile(join(REPO_ROOT, 'testdata', 'oci', 'htpasswd'), 'utf8');
  const secure = await startRegistry({ htpasswd });
  try {
    const { files } = await makeFiles(['pool/s/secret_1.deb']);
    const refused = (err: unknown) => {
      assert.ok(err instanceof PingetError);
      assert.equal(err.code, 'UNAVAILABLE');
      assert.match(err.message, /refused authentication.*oras login/);
      return true;
    };
    await assert.rejects(pushToOci(`oci+http://${secure.host}/private:v1`, files, { log: silentLogger, env }), refused);
    const p = createOciProvider(`oci+http://${secure.host}/private`, ctx, { env })!;
    await assert.rejects(p.open(targets(files)[0], new AbortController().signal), refused);

    const authed = join(work, 'docker-authed');
    await mkdir(authed);
    const auth = Buffer.from('pinget:s3cret').toString('base64');
    await writeFile(join(authed, 'config.json'), JSON.stringify({ auths: { [secure.host]: { auth } } }));
    const e = { ...env, DOCKER_CONFIG: authed };
    const res = await pushToOci(`oci+http://${secure.host}/private:v1`, files, { log: silentLogger, env: e });
    assert.equal(res.uploaded, 1);
    const ok = createOciProvider(`oci+http://${secure.host}/private`, ctx, { env: e })!;
    try {
      const [r] = await fetchAll(targets(files), { cache: new Cache(join(work, 'cache-auth')), providers: [ok], jobs: 1, log: silentLogger });
      assert.deepEqual(await readFile(r.file), await readFile(files[0].file));
    } finally {
      await ok.close?.();
    }
  } finally {
    await secure.close();
  }
});

test('aborting a fetch kills oras and errors the stream', async () => {
  // Larger than the pipe buffer, and never read: oras blocks writing until it is killed.
  const { files } = await makeFiles(['pool/big/big_1.deb'], 4 << 20);
  await pushToOci(`oci+http://${reg.host}/big:v1`, files, { log: silentLogger, env });
  const ac = new AbortController();
  const { stream, child } = await streamOras(
    ['blob', 'fetch', '--no-tty', '--plain-http', '--output', '-', `${reg.host}/big@sha256:${files[0].sha256}`],
    'big',
    { env, signal: ac.signal },
  );
  const errored = once(stream, 'error').then(([e]) => e as Error);
  const closed = once(child, 'close');
  ac.abort(new Error('test abort'));
  await closed;
  assert.equal(child.signalCode, 'SIGKILL');
  assert.match((await errored).message, /test abort/);
});

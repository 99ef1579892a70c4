/**
 * The oci:// provider's batches against a real registry (Debian's docker-registry) and a real oras:
 * one oras process per manifest, only the blobs the lockfile needs, every blob still verified, and
 * the fallbacks (a blob in no tagged manifest, a tampered blob, no such repository).
 * oras runs through a wrapper that logs each call, so the tests count processes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Cache } from '../src/cache.js';
import { run } from '../src/exec.js';
import { fetchAll } from '../src/fetch/chain.js';
import { FileProvider } from '../src/fetch/file.js';
import { createOciProvider } from '../src/fetch/oci.js';
import type { FetchTarget, Provider } from '../src/fetch/types.js';
import { pushToOci } from '../src/publish/oci.js';
import type { PushFile } from '../src/publish/oci-plan.js';
import { silentLogger } from '../src/ui/log.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';

const ctx = { log: silentLogger, timeoutMs: 5000, retries: 0, jobs: 4 };
let reg: TestRegistry;
let work: string;
let env: NodeJS.ProcessEnv;
let calls: string;

before(async () => {
  reg = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'pinget-oci-batch-'));
  await mkdir(join(work, 'docker'));
  calls = join(work, 'oras-calls');
  const wrapper = join(work, 'oras-logged');
  await writeFile(wrapper, `#!/bin/sh\necho "$1 $2" >> '${calls}'\nexec oras "$@"\n`);
  await chmod(wrapper, 0o755);
  env = { ...process.env, DOCKER_CONFIG: join(work, 'docker'), PINGET_ORAS: wrapper };
});
after(async () => {
  await reg?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

let counter = 0;
async function makeFiles(paths: string[]): Promise<{ dir: string; files: PushFile[] }> {
  const dir = join(work, `src-${++counter}`);
  const files: PushFile[] = [];
  for (const p of paths) {
    const data = randomBytes(3000);
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), data);
    files.push({ path: p, sha256: sha256Bytes(data), file: join(dir, p) });
  }
  return { dir, files };
}

const targets = (files: PushFile[]): FetchTarget[] => files.map((f) => ({ path: f.path, sha256: f.sha256, headers: {} }));

/** The oras subcommands run since the last call ("repo tags", "manifest fetch", "cp --no-tty", ...), by their first word. */
async function orasCalls(): Promise<string[]> {
  const text = await readFile(calls, 'utf8').catch(() => '');
  await rm(calls, { force: true });
  return text.split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
}

function count(xs: string[], x: string): number {
  return xs.filter((y) => y === x).length;
}

/** Digests of the blobs the registry served with GET since `from` (an offset into its log). */
function blobGets(from: number, repo: string): string[] {
  const re = new RegExp(`"GET /v2/${repo}/blobs/sha256:([0-9a-f]{64}) `);
  return reg
    .log()
    .slice(from)
    .split('\n')
    .flatMap((l) => re.exec(l)?.[1] ?? []);
}

async function fetchWith(providers: Provider[], ts: FetchTarget[], name: string) {
  try {
    return await fetchAll(ts, { cache: new Cache(join(work, name)), providers, jobs: 4, log: silentLogger });
  } finally {
    for (const p of providers) await p.close?.();
  }
}

test('a lockfile that shares part of two pushed sets: one oras cp per manifest, only the blobs it needs cross the wire', async () => {
  const a = await makeFiles(['pool/a/1.deb', 'pool/a/2.deb', 'pool/a/3.deb', 'pool/a/4.deb', 'pool/a/5.deb', 'pool/a/6.deb']);
  const b = await makeFiles(['pool/b/1.deb', 'pool/b/2.deb', 'pool/b/3.deb']);
  await pushToOci(`oci+http://${reg.host}/subset:a`, a.files, { log: silentLogger, env });
  await pushToOci(`oci+http://${reg.host}/subset:b`, b.files, { log: silentLogger, env });
  await orasCalls();
  const wanted = [a.files[1], a.files[4], b.files[2]];
  const from = reg.log().length;
  const p = createOciProvider(`oci+http://${reg.host}/subset`, ctx, { env })!;
  const got = await fetchWith([p], targets(wanted), 'cache-subset');
  for (const [i, r] of got.entries()) {
    assert.equal(r.source, p.label);
    assert.deepEqual(await readFile(r.file), await readFile(wanted[i].file));
  }
  assert.deepEqual(blobGets(from, 'subset').sort(), wanted.map((f) => f.sha256).sort());
  const ran = await orasCalls();
  assert.deepEqual([count(ran, 'repo'), count(ran, 'manifest'), count(ran, 'cp'), count(ran, 'blob')], [1, 2, 2, 0], ran.join(', '));
});

test('a split push (TAG, TAG-2, TAG-3) comes back with one copy per part and no per-blob process', async () => {
  const { files } = await makeFiles(['p/1', 'p/2', 'p/3', 'p/4', 'p/5']);
  await pushToOci(`oci+http://${reg.host}/parts:rel`, files, { log: silentLogger, env, maxLayersPerManifest: 2 });
  await orasCalls();
  const from = reg.log().length;
  const p = createOciProvider(`oci+http://${reg.host}/parts`, ctx, { env })!;
  const got = await fetchWith([p], targets(files), 'cache-parts');
  assert.ok(got.every((r) => r.source === p.label));
  assert.deepEqual(blobGets(from, 'parts').sort(), files.map((f) => f.sha256).sort());
  const ran = await orasCalls();
  assert.deepEqual([count(ran, 'cp'), count(ran, 'blob')], [3, 0], ran.join(', '));
});

test('a tampered blob in a batch: the rest still come from the registry in a few copies, that one file from the next provider', async () => {
  const { dir, files } = await makeFiles(Array.from({ length: 16 }, (_, i) => `t/${String(i).padStart(2, '0')}.deb`));
  await pushToOci(`oci+http://${reg.host}/tampered:v1`, files, { log: silentLogger, env });
  const victim = 9;
  const good = await readFile(files[victim].file);
  const bad = Buffer.from(good);
  bad[7] ^= 0x01;
  await writeFile(reg.blobDataPath(files[victim].sha256), bad);
  await orasCalls();
  const p = createOciProvider(`oci+http://${reg.host}/tampered`, ctx, { env })!;
  const mirror = new FileProvider(`${pathToFileURL(dir).href}/{{.Name}}`);
  const got = await fetchWith([p, mirror], targets(files), 'cache-tampered');
  assert.deepEqual(
    got.map((r) => r.source),
    files.map((_, i) => (i === victim ? mirror.label : p.label)),
  );
  assert.deepEqual(await readFile(got[victim].file), good);
  // Halving after each failed copy: 16 -> 8 -> 4 left, then blob by blob; never one process per blob.
  const ran = await orasCalls();
  assert.ok(count(ran, 'cp') <= 7 && count(ran, 'blob') <= 4, ran.join(', '));
});

test('a blob in no tagged manifest is still fetched by digest, alone', async () => {
  const { files } = await makeFiles(['loose/1.deb']);
  await pushToOci(`oci+http://${reg.host}/loose:v1`, (await makeFiles(['other.deb'])).files, { log: silentLogger, env });
  const pushed = await run('oras', ['blob', 'push', '--plain-http', `${reg.host}/loose`, files[0].file], { env });
  assert.equal(pushed.code, 0, pushed.stderr);
  await orasCalls();
  const p = createOciProvider(`oci+http://${reg.host}/loose`, ctx, { env })!;
  const [r] = await fetchWith([p], targets(files), 'cache-loose');
  assert.equal(r.source, p.label);
  const ran = await orasCalls();
  assert.deepEqual([count(ran, 'cp'), count(ran, 'blob')], [0, 1], ran.join(', '));
});

test('no such repository: every file fails at once (no per-blob process) and the next provider serves', async () => {
  const { dir, files } = await makeFiles(['n/1.deb', 'n/2.deb', 'n/3.deb']);
  await orasCalls();
  const p = createOciProvider(`oci+http://${reg.host}/never-pushed`, ctx, { env })!;
  const mirror = new FileProvider(`${pathToFileURL(dir).href}/{{.Name}}`);
  const got = await fetchWith([p, mirror], targets(files), 'cache-norepo');
  assert.ok(got.every((r) => r.source === mirror.label));
  assert.deepEqual(await orasCalls(), ['repo']);
});

test('a registry that accepts connections and never answers: oras is stopped after --timeout, the next provider serves', async () => {
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { dir, files } = await makeFiles(['h/1.deb', 'h/2.deb']);
    await orasCalls();
    const port = (server.address() as { port: number }).port;
    const p = createOciProvider(`oci+http://127.0.0.1:${port}/hung`, { ...ctx, timeoutMs: 1000 }, { env })!;
    const mirror = new FileProvider(`${pathToFileURL(dir).href}/{{.Name}}`);
    const got = await fetchWith([p, mirror], targets(files), 'cache-hung');
    assert.ok(got.every((r) => r.source === mirror.label));
    assert.ok(sockets.length >= 1, 'oras reached the server');
    assert.deepEqual(await orasCalls(), ['repo']);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('oras stages a wrong blob (a liar behind the copy): caught when the cache takes it in, that file alone from the next provider; staging left nowhere', async () => {
  const { dir, files } = await makeFiles(Array.from({ length: 12 }, (_, i) => `l/${String(i).padStart(2, '0')}.deb`));
  await pushToOci(`oci+http://${reg.host}/liar:v1`, files, { log: silentLogger, env });
  const victim = files[5];
  // Runs the real copy, then flips a byte of the victim's staged blob before oras's report reaches pinget.
  const liar = join(work, 'oras-liar');
  await writeFile(
    liar,
    `#!/bin/sh\nif [ "$1" = cp ]; then\n  out=$(oras "$@"); rc=$?\n  for a in "$@"; do last=$a; done\n  f="\${last%:copy}/blobs/sha256/${victim.sha256}"\n  [ -s "$f" ] && printf X | dd of="$f" bs=1 seek=7 conv=notrunc 2>/dev/null\n  printf '%s\\n' "$out"\n  exit $rc\nfi\nexec oras "$@"\n`,
  );
  await chmod(liar, 0o755);
  const cacheDir = join(work, 'cache-liar');
  const cache = new Cache(cacheDir);
  await cache.prepare();
  // Staged in the cache's tmp/ as the CLI does (spoolDir): the cache moves the blobs in.
  const p = createOciProvider(`oci+http://${reg.host}/liar`, { ...ctx, spoolDir: join(cacheDir, 'tmp') }, { env: { ...env, PINGET_ORAS: liar } })!;
  const mirror = new FileProvider(`${pathToFileURL(dir).href}/{{.Name}}`);
  let got;
  try {
    got = await fetchAll(targets(files), { cache, providers: [p, mirror], jobs: 4, log: silentLogger });
  } finally {
    await p.close?.();
  }
  assert.deepEqual(
    got.map((r) => r.source),
    files.map((f) => (f === victim ? mirror.label : p.label)),
  );
  for (const [i, r] of got.entries()) assert.deepEqual(await readFile(r.file), await readFile(files[i].file));
  assert.deepEqual(await readdir(join(cacheDir, 'tmp')), [], 'no staging directory or temp file left');
});

/**
 * Ubuntu's archives against files served on 127.0.0.1: the snapshot service's dated trees (ubuntu for
 * amd64/i386, ubuntu-ports for the rest, `all` by the lockfile's arch) and Launchpad's file links.
 */
import { after, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { REPO_ROOT } from './helpers/cli.js';
import { serveDirectory, type Hook } from './helpers/http-server.js';
import { PingetError } from '../src/errors.js';
import { parseLockfile, type Lockfile } from '../src/lockfile.js';
import { createProvider } from '../src/fetch/providers.js';
import type { FetchTarget, Provider } from '../src/fetch/types.js';
import { archiveProviders } from '../src/fetch/archives/index.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { silentLogger } from '../src/ui/log.js';

const DATA = join(REPO_ROOT, 'testdata', 'snapshot');
const read = async (f: string) => parseLockfile(await readFile(join(DATA, f), 'utf8'), f);
const amd64 = await read('SHA256SUMS-ubuntu-amd64');
const arm64 = await read('SHA256SUMS-ubuntu-arm64');

const server = await serveDirectory(join(DATA, 'ubuntu'));
let hook: Hook | undefined;
server.setHook((req, res, rel) => (hook ? hook(req, res, rel) : false));
after(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  hook = undefined;
});

const ctx = { log: silentLogger, timeoutMs: 10_000, retries: 1 };

function target(lock: Lockfile, path: string, headers = lock.headers): FetchTarget {
  const e = lock.entries.find((x) => x.path === path);
  assert.ok(e, path);
  const [name, version, arch] = path.slice(path.lastIndexOf('/') + 1).replace(/\.deb$/, '').split('_');
  return { path, sha256: e.sha256, ref: { name, version, arch }, headers };
}

async function openHash(p: Provider, t: FetchTarget): Promise<string> {
  const body = await p.open(t, new AbortController().signal);
  const chunks: Buffer[] = [];
  for await (const c of body.stream as Readable) chunks.push(c as Buffer);
  return sha256Bytes(Buffer.concat(chunks));
}

const snapshot = (): Provider => createProvider(`ubuntu-snapshot+${server.url}`, ctx);

test('amd64: the ubuntu archive at the snapshot date', async () => {
  const t = target(amd64, 'pool/main/h/hello/hello_2.10-3_amd64.deb');
  assert.equal(await openHash(snapshot(), t), t.sha256);
  assert.deepEqual(server.requests, ['ubuntu/20240301T030400Z/pool/main/h/hello/hello_2.10-3_amd64.deb']);
});

test('arm64 and arm64 `all` packages: ubuntu-ports', async () => {
  for (const path of ['pool/main/h/hello/hello_2.10-3_arm64.deb', 'pool/main/h/hello/hello-doc_2.10-3_all.deb']) {
    const t = target(arm64, path);
    assert.equal(await openHash(snapshot(), t), t.sha256);
  }
  assert.deepEqual(server.requests, [
    'ubuntu-ports/20240301T030400Z/pool/main/h/hello/hello_2.10-3_arm64.deb',
    'ubuntu-ports/20240301T030400Z/pool/main/h/hello/hello-doc_2.10-3_all.deb',
  ]);
});

test('`all` with no known lockfile arch: ubuntu first, then ubuntu-ports', async () => {
  const t = target(arm64, 'pool/main/h/hello/hello-doc_2.10-3_all.deb', { snapshot: arm64.headers.snapshot });
  assert.equal(await openHash(snapshot(), t), t.sha256);
  assert.deepEqual(server.requests, [
    'ubuntu/20240301T030400Z/pool/main/h/hello/hello-doc_2.10-3_all.deb',
    'ubuntu-ports/20240301T030400Z/pool/main/h/hello/hello-doc_2.10-3_all.deb',
  ]);
});

test('no snapshot header: NOT_FOUND without asking the service, saying why', async () => {
  const t = target(amd64, 'pool/main/h/hello/hello_2.10-3_amd64.deb', { distro: amd64.headers.distro });
  await assert.rejects(snapshot().open(t, new AbortController().signal), (e: unknown) => {
    assert.ok(e instanceof PingetError);
    assert.equal(e.code, 'NOT_FOUND');
    assert.match(e.message, /no snapshot header/);
    return true;
  });
  assert.deepEqual(server.requests, []);
});

test('Launchpad file links: by file name, following the redirect to the librarian', async () => {
  hook = (_req, res, rel) => {
    const m = /^ubuntu\/\+archive\/primary\/\+files\/(.+)$/.exec(rel);
    if (!m) return false;
    res.writeHead(302, { location: `${server.url}/ubuntu/20240301T030400Z/pool/main/h/hello/${m[1]}` }).end();
    return true;
  };
  const t = target(amd64, 'pool/main/h/hello/hello_2.10-3_amd64.deb', { distro: amd64.headers.distro });
  const [spec] = archiveProviders('ubuntu', t.headers, { 'ubuntu-launchpad': server.url });
  assert.equal(spec.template, `ubuntu-launchpad+${server.url}`);
  assert.equal(await openHash(createProvider(spec.template, ctx), t), t.sha256);
  assert.deepEqual(server.requests, [
    'ubuntu/+archive/primary/+files/hello_2.10-3_amd64.deb',
    'ubuntu/20240301T030400Z/pool/main/h/hello/hello_2.10-3_amd64.deb',
  ]);
});

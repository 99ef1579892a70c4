import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../src/errors.js';
import { blobReference, classifyOrasError, orasErrorLine, parseOciRepo, parseOciTagRef, tagReference } from '../src/fetch/oci-ref.js';
import { orasFailure } from '../src/fetch/oras.js';
import { createOciProvider } from '../src/fetch/oci.js';
import { createProvider } from '../src/fetch/providers.js';
import { descriptorBytes, planManifests, type PushFile } from '../src/publish/oci-plan.js';
import { assignBlobs, manifestBlobs } from '../src/fetch/oci-batch.js';
import { pushStatus } from '../src/publish/oci.js';
import { silentLogger } from '../src/ui/log.js';
import { REPO_ROOT } from './helpers/cli.js';

const ctx = { log: silentLogger, timeoutMs: 1000, retries: 0 };
const HEX = 'ab'.repeat(32);

function usage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof PingetError && e.code === 'USAGE' && re.test(e.message));
}

test('provider templates: oci:// is TLS, oci+http:// plain HTTP, ports and nested repositories', () => {
  assert.deepEqual(parseOciRepo('oci://registry.example:5000/team/debs'), { registry: 'registry.example:5000', repository: 'team/debs', plainHttp: false });
  assert.deepEqual(parseOciRepo('oci+http://127.0.0.1:5000/pkgs/'), { registry: '127.0.0.1:5000', repository: 'pkgs', plainHttp: true });
  assert.deepEqual(parseOciRepo('oci+https://[::1]:5000/a/b-c'), { registry: '[::1]:5000', repository: 'a/b-c', plainHttp: false });
  assert.equal(blobReference(parseOciRepo('oci://h:1/r'), HEX), `h:1/r@sha256:${HEX}`);
});

test('provider templates: bad ones are USAGE errors naming the problem', () => {
  usage(() => parseOciRepo('oci://hostonly'), /names no repository/);
  usage(() => parseOciRepo('oci://h/Upper/Case'), /not a valid repository name/);
  usage(() => parseOciRepo('oci://h/repo:tag'), /without a tag or digest/);
  usage(() => parseOciRepo('oci://h/repo@sha256:00'), /without a tag or digest/);
  usage(() => parseOciRepo('oci://bad host/r'), /not a registry host/);
  usage(() => parseOciRepo('https://h/r'), /not an OCI reference/);
});

test('push targets need a valid tag; the port colon is not the tag', () => {
  const r = parseOciTagRef('oci+http://127.0.0.1:5000/team/debs:bookworm-2026');
  assert.deepEqual(r, { registry: '127.0.0.1:5000', repository: 'team/debs', tag: 'bookworm-2026', plainHttp: true });
  assert.equal(tagReference(r, r.tag), '127.0.0.1:5000/team/debs:bookworm-2026');
  usage(() => parseOciTagRef('oci://h:5000/repo'), /needs a tag/);
  usage(() => parseOciTagRef('oci://h/repo:-bad'), /not a valid tag/);
  usage(() => parseOciTagRef('oci://h/repo@sha256:' + HEX), /needs a tag/);
});

test('the factory takes only OCI schemes, and createProvider knows them', () => {
  assert.equal(createOciProvider('https://h/r', ctx), undefined);
  assert.equal(createOciProvider('file:///x', ctx), undefined);
  const p = createProvider('oci+http://127.0.0.1:5000/debs', ctx);
  assert.equal(p.label, 'oci+http://127.0.0.1:5000/debs');
  assert.throws(() => createProvider('oci://h/Bad', ctx), (e: unknown) => e instanceof PingetError && e.code === 'USAGE');
});

test("oras's real error texts are classified (testdata/oci/oras-errors.txt)", async () => {
  const text = await readFile(join(REPO_ROOT, 'testdata', 'oci', 'oras-errors.txt'), 'utf8');
  const cases = text.split(/^## /m).filter(Boolean);
  assert.ok(cases.length >= 9);
  for (const c of cases) {
    const [want, ...rest] = c.split('\n');
    const stderr = rest.join('\n');
    assert.equal(classifyOrasError(stderr), want.trim(), stderr);
  }
});

test('oras failures map to the codes the chain and the exit status need', () => {
  const nf = orasFailure('Error response from registry: h/r@sha256:00: not found\n', 1, 'oci://h/r pool/a.deb');
  assert.equal(nf.code, 'NOT_FOUND');
  assert.match(nf.message, /^oci:\/\/h\/r pool\/a\.deb: not in the registry/);
  const auth = orasFailure('Error response from registry: unauthorized: authentication required: [map[Action:pull]]\n', 1, 't');
  assert.equal(auth.code, 'UNAVAILABLE');
  assert.equal(auth.exitCode, 4);
  assert.match(auth.message, /refused authentication.*oras login/);
  const tls = orasFailure('Error: Get "https://h/v2/": http: server gave HTTP response to HTTPS client\n', 1, 't');
  assert.match(tls.message, /oci\+http:\/\//);
  assert.equal(orasFailure('Error: mismatched digest\n', 1, 't').code, 'INTEGRITY');
  assert.equal(orasErrorLine('WARNING! x\nError: boom\n'), 'boom');
});

function files(n: number, pathLen = 20): PushFile[] {
  return Array.from({ length: n }, (_, i) => ({ path: `pool/${String(i).padStart(4, '0')}`.padEnd(pathLen, 'x'), sha256: HEX, file: '/dev/null' }));
}

test('split: at most maxLayers per manifest, tags TAG, TAG-2, ..., sorted by path', () => {
  const plan = planManifests(files(5).reverse(), 'v1', 2);
  assert.deepEqual(
    plan.map((p) => [p.tag, p.files.map((f) => f.path.slice(0, 9))]),
    [
      ['v1', ['pool/0000', 'pool/0001']],
      ['v1-2', ['pool/0002', 'pool/0003']],
      ['v1-3', ['pool/0004']],
    ],
  );
  assert.equal(planManifests(files(1000), 'v1').length, 1);
  assert.equal(planManifests(files(1001), 'v1').length, 2);
  assert.deepEqual(planManifests([], 'v1'), [{ tag: 'v1', files: [] }]);
});

test('split: long paths are split by estimated manifest bytes before the layer count', () => {
  const long = files(10, 1000);
  const per = descriptorBytes(long[0]);
  const plan = planManifests(long, 't', 1000, per * 3);
  assert.deepEqual(plan.map((p) => p.files.length), [3, 3, 3, 1]);
});

test('split: a tag too long for its suffix and a bad layer count are USAGE errors', () => {
  usage(() => planManifests(files(3), 'x'.repeat(127), 1), /not a valid tag/);
  usage(() => planManifests(files(3), 'v', 0), /positive integer/);
});

test("oras push's own report gives which layers were uploaded and which the registry had (testdata/oci/oras-push-output.txt)", async () => {
  const text = await readFile(join(REPO_ROOT, 'testdata', 'oci', 'oras-push-output.txt'), 'utf8');
  const [first, second] = text.split(/^## .*\n/m).filter(Boolean);
  assert.deepEqual(Object.fromEntries(pushStatus(first)), { 'pool/f1.deb': 'uploaded', 'pool/f2.deb': 'uploaded', 'pool/f3.deb': 'uploaded' });
  assert.deepEqual(Object.fromEntries(pushStatus(second)), { 'pool/f1.deb': 'exists', 'pool/f4.deb': 'uploaded' });
  // A title with spaces and colons is the rest of the line; other lines say nothing.
  assert.deepEqual(Object.fromEntries(pushStatus('Exists    0123456789ab pool/a b:1.deb\nDigest: sha256:00\nUploaded pool/x\n')), { 'pool/a b:1.deb': 'exists' });
});

test('manifest blobs: a real artifact manifest, and garbage, indexes and liars are skipped', async () => {
  const real = await readFile(join(REPO_ROOT, 'testdata', 'oci', 'manifest-artifact.json'));
  const blobs = manifestBlobs(real)!;
  assert.equal(blobs.size, 4);
  assert.equal(blobs.get('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'), 2);
  assert.ok([...blobs.values()].filter((n) => n === 32768).length === 3);
  const bad = (v: unknown) => manifestBlobs(Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));
  const layer = { digest: `sha256:${HEX}`, size: 1 };
  assert.equal(bad('{"layers": [ '), undefined);
  assert.equal(bad('null'), undefined);
  assert.equal(bad({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [layer] }), undefined);
  assert.equal(bad({ config: layer, layers: 'no' }), undefined);
  assert.equal(bad({ config: layer, layers: [{ digest: 'sha256:../../etc', size: 1 }] }), undefined);
  assert.equal(bad({ config: layer, layers: [{ digest: `sha512:${HEX}`, size: 1 }] }), undefined);
  assert.equal(bad({ config: layer, layers: [{ digest: `sha256:${HEX}`, size: -1 }] }), undefined);
  assert.equal(bad({ config: layer, layers: [{ digest: `sha256:${HEX}`, size: '1' }] }), undefined);
  assert.equal(bad({ config: layer, layers: [null] }), undefined);
  assert.deepEqual(bad({ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: layer, layers: [] }), new Map([[HEX, 1]]));
});

test('each wanted blob is copied by the first manifest that holds it; too large ones by none', () => {
  const h = (c: string) => c.repeat(64);
  const m1 = { blobs: new Map([[h('a'), 1], [h('b'), 1], [h('c'), 10]]) };
  const m2 = { blobs: new Map([[h('b'), 1], [h('d'), 1], [h('e'), 1]]) };
  const plan = assignBlobs([m1, m2], new Set([h('b'), h('c'), h('d'), h('f')]), 5);
  assert.deepEqual(plan.map((s) => [...s]), [[h('b')], [h('d')]]);
});

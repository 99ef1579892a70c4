/** Fedora repos with only metalink=/mirrorlist=: the pure parsers, and providers() resolving them over real HTTP on 127.0.0.1. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fedoraAdapter, fedoraProviders } from '../distros/fedora/index.js';
import { looksLikeMetalink, parseMetalink, parseMirrorlist } from '../distros/fedora/metalink.js';
import type { DistroInfo } from '../src/distro/types.js';
import { isPingetError } from '../src/errors.js';
import { closeHttp } from '../src/fetch/http-client.js';
import type { Logger } from '../src/ui/log.js';
import { serveDirectory } from './helpers/http-server.js';

const DATA = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'testdata', 'fedora', 'metalink');
const INFO: DistroInfo = { id: 'fedora', osId: 'fedora', idLike: [], versionId: '40', arch: 'x86_64' };

after(() => closeHttp());

function recordingLogger(): Logger & { notes: string[] } {
  const notes: string[] = [];
  return { notes, info: () => {}, warn: (m) => notes.push(`warn: ${m}`), verbose: (m) => notes.push(m) };
}

/** A scratch root with one .repo file. */
async function scratchRoot(t: { after(fn: () => Promise<void>): void }, repo: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'pinget-fedora-metalink-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'etc', 'yum.repos.d'), { recursive: true });
  await writeFile(join(root, 'etc', 'yum.repos.d', 'test.repo'), repo);
  return root;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as import('node:net').AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

test('metalink: http(s) repomd.xml mirrors only, base URLs, by preference then URL', async () => {
  const xml = await readFile(join(DATA, 'metalink.xml'), 'utf8');
  assert.ok(looksLikeMetalink(xml));
  const mirrors = parseMetalink(xml, 'metalink.xml');
  assert.deepEqual(
    mirrors.map((m) => [m.preference, m.base]),
    [
      [100, 'http://mirror-c.example.org/pub/fedora/linux/releases/40/Everything/x86_64/os/'],
      [100, 'https://mirror-a.example.org/fedora/linux/releases/40/Everything/x86_64/os/'],
      [99, 'https://mirror-b.example.net/fedora/releases/40/Everything/x86_64/os/'],
      [98, 'http://mirror-d.example.jp/fedora/releases/40/Everything/x86_64/os/'],
      [98, 'https://mirror-d.example.jp/fedora/releases/40/Everything/x86_64/os/'],
    ],
  );
  assert.equal(mirrors[2].location, 'DE');
  // Order of the input does not matter: the same set reversed gives the same answer.
  const resources = /<resources[^>]*>([\s\S]*)<\/resources>/.exec(xml)![1];
  const reversed = xml.replace(resources, resources.split('\n').reverse().join('\n'));
  assert.deepEqual(parseMetalink(reversed, 'reversed'), mirrors);
});

test('metalink: other files and non-repomd URLs are ignored; garbage is an error naming the source', () => {
  const doc = (file: string, url: string) =>
    `<?xml version="1.0"?><metalink version="3.0" xmlns="http://www.metalinker.org/"><files><file name="${file}"><resources>` +
    `<url protocol="https" type="https" preference="100">${url}</url></resources></file></files></metalink>`;
  assert.deepEqual(parseMetalink(doc('other.xml', 'https://h.example/x/repodata/repomd.xml'), 's'), []);
  assert.deepEqual(parseMetalink(doc('repomd.xml', 'https://h.example/x/other.xml'), 's'), []);
  assert.deepEqual(parseMetalink(doc('repomd.xml', 'https://h.example/x/repodata/repomd.xml'), 's').map((m) => m.base), ['https://h.example/x/']);
  assert.throws(() => parseMetalink('<html><body>502</body></html>', 'http://mm.example/metalink'), (e) => isPingetError(e) && e.message.includes('http://mm.example/metalink'));
  assert.equal(looksLikeMetalink('https://h.example/x/\n'), false);
});

test('mirrorlist: comments, blank lines and non-http(s) skipped, order kept, duplicates dropped', async () => {
  const text = await readFile(join(DATA, 'mirrorlist.txt'), 'utf8');
  assert.deepEqual(parseMirrorlist(text), [
    'https://mirror-a.example.org/fedora/linux/releases/40/Everything/x86_64/os/',
    'http://mirror-c.example.org/pub/fedora/linux/releases/40/Everything/x86_64/os/',
    'https://mirror-b.example.net/fedora/releases/$releasever/Everything/$basearch/os/',
  ]);
});

test('providers(): a metalink= repo becomes its 3 best mirrors, variables expanded in the metalink URL', async (t) => {
  const metalink = await readFile(join(DATA, 'metalink.xml'));
  const queries: string[] = [];
  const server = await serveDirectory(DATA, (req, res, rel) => {
    if (rel !== 'metalink') return false;
    queries.push(new URL(req.url ?? '/', 'http://x').search);
    res.writeHead(200, { 'content-type': 'application/metalink+xml' }).end(metalink);
    return true;
  });
  t.after(() => server.close());
  const root = await scratchRoot(
    t,
    '[fedora]\nname=Fedora $releasever - $basearch\n' +
      `metalink=${server.url}/metalink?repo=fedora-$releasever&arch=$basearch\nenabled=1\ngpgcheck=1\n\n` +
      `[disabled]\nmetalink=${server.url}/metalink?repo=disabled\nenabled=0\n`,
  );
  const log = recordingLogger();
  const specs = await fedoraProviders(root, INFO, {}, { log });
  assert.deepEqual(queries, ['?repo=fedora-40&arch=x86_64'], 'the disabled repo is not fetched');
  assert.deepEqual(specs.map((s) => s.template), [
    'rpm-md+http://mirror-c.example.org/pub/fedora/linux/releases/40/Everything/x86_64/os/',
    'rpm-md+https://mirror-a.example.org/fedora/linux/releases/40/Everything/x86_64/os/',
    'rpm-md+https://mirror-b.example.net/fedora/releases/40/Everything/x86_64/os/',
  ]);
  assert.match(specs[0].label!, /^repo fedora \(\/etc\/yum\.repos\.d\/test\.repo:1\)$/);
  assert.deepEqual(log.notes, []);
  // The same through the DistroAdapter interface the commands use.
  assert.deepEqual(await fedoraAdapter.providers(root, INFO, {}), specs);
});

test('providers(): baseurl stays first; mirrorlist= is resolved, a metalink served as mirrorlist too', async (t) => {
  const metalink = await readFile(join(DATA, 'metalink.xml'));
  const server = await serveDirectory(DATA, (_req, res, rel) => {
    if (rel !== 'ml-as-mirrorlist') return false;
    res.writeHead(200).end(metalink);
    return true;
  });
  t.after(() => server.close());
  const root = await scratchRoot(
    t,
    `[both]\nbaseurl=http://127.0.0.1:9/base/$releasever/\nmirrorlist=${server.url}/mirrorlist.txt\n\n` +
      `[epel-style]\nmirrorlist=${server.url}/ml-as-mirrorlist\n`,
  );
  const specs = await fedoraProviders(root, INFO, {}, { log: recordingLogger() });
  assert.deepEqual(specs.map((s) => [s.label!.split(' ')[1], s.template]), [
    ['both', 'rpm-md+http://127.0.0.1:9/base/40/'],
    ['both', 'rpm-md+https://mirror-a.example.org/fedora/linux/releases/40/Everything/x86_64/os/'],
    ['both', 'rpm-md+http://mirror-c.example.org/pub/fedora/linux/releases/40/Everything/x86_64/os/'],
    ['both', 'rpm-md+https://mirror-b.example.net/fedora/releases/40/Everything/x86_64/os/'],
    ['epel-style', 'rpm-md+http://mirror-c.example.org/pub/fedora/linux/releases/40/Everything/x86_64/os/'],
    ['epel-style', 'rpm-md+https://mirror-a.example.org/fedora/linux/releases/40/Everything/x86_64/os/'],
    ['epel-style', 'rpm-md+https://mirror-b.example.net/fedora/releases/40/Everything/x86_64/os/'],
  ]);
});

test('providers(): an unreachable or failing metalink gives no provider and no error, only a verbose note', async (t) => {
  const server = await serveDirectory(DATA);
  t.after(() => server.close());
  const port = await closedPort();
  const root = await scratchRoot(
    t,
    `[closed]\nmetalink=http://127.0.0.1:${port}/metalink?repo=fedora-$releasever\n\n` +
      `[missing]\nmetalink=${server.url}/no-such-metalink\n\n` +
      `[kept]\nbaseurl=http://127.0.0.1:9/kept/\nmetalink=http://127.0.0.1:${port}/metalink\n`,
  );
  const log = recordingLogger();
  const specs = await fedoraProviders(root, INFO, {}, { log });
  assert.deepEqual(specs.map((s) => s.template), ['rpm-md+http://127.0.0.1:9/kept/']);
  assert.equal(log.notes.length, 3, log.notes.join('\n'));
  assert.ok(log.notes.some((n) => n.startsWith('repo closed ') && n.includes(`127.0.0.1:${port}/metalink?repo=fedora-40`)), log.notes.join('\n'));
  assert.ok(log.notes.some((n) => n.startsWith('repo missing ') && n.includes('HTTP 404')), log.notes.join('\n'));
  assert.ok(log.notes.every((n) => !n.startsWith('warn:')));
});

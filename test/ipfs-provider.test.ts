/**
 * The ipfs:// provider against real HTTP servers on 127.0.0.1 that misbehave as nodes do: nothing
 * listening, a node that never finds the CID, one that stalls mid-file, one that answers with an RPC
 * error. The round trip against a real node is in ipfs-roundtrip.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cache } from '../src/cache.js';
import { PingetError } from '../src/errors.js';
import { fetchAll } from '../src/fetch/chain.js';
import { rawLeafCid } from '../src/fetch/cid.js';
import { createIpfsProviderFactory, DEFAULT_IPFS_API, IpfsProvider, ipfsApiUrl } from '../src/fetch/ipfs.js';
import { createProvider } from '../src/fetch/providers.js';
import type { FetchTarget, ProviderContext } from '../src/fetch/types.js';
import { silentLogger } from '../src/ui/log.js';
import { sha256Bytes } from '../src/verify/sha256.js';

const ctx = (over: Partial<ProviderContext> = {}): ProviderContext => ({ log: silentLogger, timeoutMs: 300, retries: 0, ...over });
const target = (data: string | Buffer, cid?: string): FetchTarget => ({ path: 'pool/main/h/hello/hello_1_amd64.deb', sha256: sha256Bytes(data), cid, headers: {} });
const never = new AbortController().signal;

/** A real server on 127.0.0.1; every request is recorded, then answered by `handle`. */
async function rpcServer(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: URL[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push(new URL(req.url ?? '/', 'http://x'));
    req.resume();
    handle(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  after(close);
  return { api: `127.0.0.1:${port}`, requests, close };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('templates: ipfs:// takes --ipfs-api, then IPFS_API, then the default; ipfs+api://HOST:PORT names it', () => {
  const f = createIpfsProviderFactory({ IPFS_API: 'ipfs-node.invalid:5005' });
  assert.equal(f('ipfs://', ctx({ ipfsApi: 'node.example:6001' }))?.label, 'ipfs+api://node.example:6001');
  assert.equal(f('ipfs://', ctx())?.label, 'ipfs+api://ipfs-node.invalid:5005');
  assert.equal(createIpfsProviderFactory({})('ipfs://', ctx())?.label, `ipfs+api://${DEFAULT_IPFS_API}`);
  assert.equal(f('ipfs+api://127.0.0.1:7777', ctx({ ipfsApi: 'ignored:1' }))?.label, 'ipfs+api://127.0.0.1:7777');
  assert.equal(f('https://gw.example/ipfs/{{.CID}}', ctx()), undefined, 'gateways are the HTTP provider\'s');
  assert.throws(() => f('ipfs://somewhere/else', ctx()), (e: PingetError) => e.code === 'USAGE');
  assert.equal(ipfsApiUrl('/ip4/127.0.0.1/tcp/5001'), 'http://127.0.0.1:5001');
  assert.equal(ipfsApiUrl('http://[::1]:5001/'), 'http://[::1]:5001');
  assert.throws(() => ipfsApiUrl('ftp://x:1'), /bad IPFS RPC endpoint/);
  // Registered in the provider registry.
  assert.ok(createProvider('ipfs+api://127.0.0.1:5001', ctx()) instanceof IpfsProvider);
});

test('asks for the lockfile CID when there is one, else the raw-leaf CIDv1 of the sha256; streams the body', async () => {
  const data = 'package bytes\n';
  const srv = await rpcServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(data);
  });
  const p = new IpfsProvider(ipfsApiUrl(srv.api), 2000);
  const given = 'bafybeif2jzp22m4xvxi7kbzkpra74yqiqwk4ymkg7wg4ojrbrrq6c5x3pi';
  assert.equal((await readAll((await p.open(target(data, given), never)).stream)).toString(), data);
  assert.equal((await readAll((await p.open(target(data), never)).stream)).toString(), data);
  assert.deepEqual(
    srv.requests.map((u) => [u.pathname, u.searchParams.get('arg')]),
    [
      ['/api/v0/cat', given],
      ['/api/v0/cat', rawLeafCid(sha256Bytes(data))],
    ],
  );
  await assert.rejects(p.open(target(data, 'Qmnotacid0'), never), (e: PingetError) => e.code === 'NOT_FOUND' && /not a valid CID/.test(e.message));
});

test('no RPC endpoint: UNAVAILABLE naming the endpoint; the chain tries the next provider and its final error says so', async (t) => {
  const port = await closedPort();
  const dead = createProvider(`ipfs+api://127.0.0.1:${port}`, ctx());
  await assert.rejects(dead.open(target('x'), never), (e: PingetError) => {
    assert.equal(e.code, 'UNAVAILABLE');
    assert.match(e.message, new RegExp(`no IPFS RPC endpoint at http://127\\.0\\.0\\.1:${port}`));
    assert.match(e.message, /--ipfs-api \/ IPFS_API/);
    return true;
  });

  const data = Buffer.from('served by the second provider\n');
  const srv = await rpcServer((_req, res) => res.end(data));
  const cacheDir = await mkdtemp(join(tmpdir(), 'pinget-ipfs-chain-'));
  t.after(() => rm(cacheDir, { recursive: true, force: true }));
  const cache = new Cache(cacheDir);
  const good = createProvider(`ipfs+api://${srv.api}`, ctx());
  const [got] = await fetchAll([target(data)], { cache, providers: [dead, good], jobs: 1, log: silentLogger });
  assert.equal(got.source, good.label);
  assert.equal(got.bytes, data.length);

  await assert.rejects(fetchAll([target('nowhere')], { cache, providers: [dead], jobs: 1, log: silentLogger }), (e: PingetError) => {
    assert.match([e.message, ...e.details].join('\n'), /no IPFS RPC endpoint/);
    return true;
  });
});

test('a CID the node cannot find within the timeout is NOT_FOUND, and the request is dropped', { timeout: 20_000 }, async () => {
  const closed: Promise<unknown>[] = [];
  const srv = await rpcServer((req) => {
    closed.push(new Promise((r) => req.socket.once('close', r)));
    // Like kubo searching the network for a CID nobody has: no answer at all.
  });
  const p = new IpfsProvider(ipfsApiUrl(srv.api), 300);
  await assert.rejects(p.open(target('gone'), never), (e: PingetError) => {
    assert.equal(e.code, 'NOT_FOUND');
    assert.match(e.message, /not retrievable within 0\.3s/);
    return true;
  });
  assert.equal(srv.requests.length, 1);
  await Promise.all(closed); // the client hung up: the stalled request was aborted, not left open
});

test('a node that stalls mid-file fails the stream with NOT_FOUND instead of hanging', async () => {
  const srv = await rpcServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.write(Buffer.alloc(1000, 1)); // then nothing more
  });
  const p = new IpfsProvider(ipfsApiUrl(srv.api), 300);
  const body = await p.open(target('partial'), never);
  await assert.rejects(readAll(body.stream), (e: PingetError) => e.code === 'NOT_FOUND' && /not retrievable within/.test(e.message));
});

test('an RPC error from the node is NOT_FOUND with the node\'s message', async () => {
  const srv = await rpcServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Message: 'block was not found locally (offline): ipld: could not find bafkrei', Code: 0, Type: 'error' }));
  });
  const p = new IpfsProvider(ipfsApiUrl(srv.api), 2000);
  await assert.rejects(p.open(target('missing'), never), (e: PingetError) => {
    assert.equal(e.code, 'NOT_FOUND');
    assert.match(e.message, /block was not found locally/);
    assert.match(e.message, /pool\/main\/h\/hello\/hello_1_amd64\.deb/);
    return true;
  });
});

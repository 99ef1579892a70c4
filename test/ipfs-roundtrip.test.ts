/**
 * Round trip against a real IPFS node's RPC: js-ipfs (ipfs-core + ipfs-http-server) on Node 24, set up by
 * .ci/setup.d/50-ipfs.sh (no kubo binary can be installed here). publishToIpfs adds and pins with explicit
 * settings; the node's CIDs must equal pinget's own and the UnixFS importer's; the ipfs:// provider then
 * fetches every file back through the fetch chain, verified by sha256.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importer } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';
import { create } from 'kubo-rpc-client';
import type { CID } from 'multiformats/cid';
import { Cache } from '../src/cache.js';
import { PingetError } from '../src/errors.js';
import { fetchAll } from '../src/fetch/chain.js';
import { computeCid, rawLeafCid } from '../src/fetch/cid.js';
import { createProvider } from '../src/fetch/providers.js';
import type { FetchTarget } from '../src/fetch/types.js';
import { formatLockfile, makeLockfile, parseLockfile } from '../src/lockfile.js';
import { publishToIpfs, type PublishFile } from '../src/publish/ipfs.js';
import { silentLogger } from '../src/ui/log.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { startIpfsNode, type IpfsNode } from './helpers/ipfs-node.js';

const MiB = 1 << 20;
function bytes(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + seed * 7 + (i >>> 10)) & 0xff;
  return b;
}

async function importerCid(data: Uint8Array): Promise<string> {
  const bs = { put: async (cid: CID) => cid, get: async () => { throw new Error('unused'); }, has: async () => false };
  let root = '';
  for await (const e of importer([{ content: data }], bs as never, {
    cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: MiB }), layout: balanced({ maxChildrenPerNode: 174 }), reduceSingleLeafToSelf: true,
  })) root = e.cid.toString();
  return root;
}

let node: IpfsNode;
let dir: string;
const files: (PublishFile & { data: Buffer })[] = [];

before(async () => {
  node = await startIpfsNode();
  dir = await mkdtemp(join(tmpdir(), 'pinget-ipfs-rt-'));
  const specs: [string, Buffer][] = [
    ['pool/main/s/small/small_1_amd64.deb', bytes(4000, 1)],
    ['pool/main/e/exact/exact_1_amd64.deb', bytes(MiB, 2)],
    ['pool/main/b/big/big_1_amd64.deb', bytes(3 * MiB + 17, 3)],
    ['pool/main/s/same/same_1_all.deb', bytes(4000, 1)], // same bytes as small: one add
  ];
  for (const [i, [path, data]] of specs.entries()) {
    const file = join(dir, `f${i}`);
    await writeFile(file, data);
    files.push({ path, sha256: sha256Bytes(data), file, data });
  }
});
after(async () => {
  await node?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('real node (js-ipfs RPC on Node 24): push records CIDs equal to pinget\'s and the UnixFS importer\'s, pinned, in the lockfile', async () => {
  const { cids, settings } = await publishToIpfs(files, { api: node.api, log: silentLogger });
  assert.equal(settings, 'cidv1 raw-leaves chunker=size-1048576 layout=balanced-174 hash=sha2-256');
  assert.equal(cids.size, 3, 'one CID per distinct hash');
  for (const f of files) {
    const cid = cids.get(f.sha256);
    assert.ok(cid, f.path);
    assert.equal(cid, await computeCid(f.data), `${f.path}: pinget's own CID`);
    assert.equal(cid, await importerCid(f.data), `${f.path}: the UnixFS importer's CID`);
  }
  // Up to 1 MiB a file is one raw block: its CID is derivable from the sha256 alone. Above, it is not.
  assert.equal(cids.get(files[0].sha256), rawLeafCid(files[0].sha256));
  assert.equal(cids.get(files[1].sha256), rawLeafCid(files[1].sha256));
  assert.notEqual(cids.get(files[2].sha256), rawLeafCid(files[2].sha256));

  const client = create({ url: node.url });
  const pinned = new Set<string>();
  for await (const p of client.pin.ls({ type: 'recursive' })) pinned.add(p.cid.toString());
  for (const cid of cids.values()) assert.ok(pinned.has(cid), `${cid} is pinned`);

  // What the lead's `cache push ipfs` writes: /ipfs/ lines after the packages, sorted, and it reads back.
  const lock = makeLockfile(files.map(({ path, sha256 }) => ({ path, sha256 })), { 'ipfs-import': settings });
  lock.cids = cids;
  const text = formatLockfile(lock);
  assert.match(text, /^# ipfs-import: cidv1 raw-leaves chunker=size-1048576/m);
  const again = parseLockfile(text);
  assert.deepEqual([...again.cids].sort(), [...cids].sort());
  const ipfsLines = text.split('\n').filter((l) => l.includes('  /ipfs/'));
  assert.deepEqual(ipfsLines, [...ipfsLines].sort());
  assert.equal(ipfsLines.length, 3);

  // Pushing again gives the same answer.
  assert.deepEqual([...(await publishToIpfs(files, { api: node.api, log: silentLogger })).cids], [...cids]);
});

test('real node (js-ipfs RPC on Node 24): ipfs:// fetches every file back, verified, by lockfile CID or derived raw-leaf CID', async (t) => {
  const { cids } = await publishToIpfs(files, { api: node.api, log: silentLogger });
  const cacheDir = await mkdtemp(join(tmpdir(), 'pinget-ipfs-rt-cache-'));
  t.after(() => rm(cacheDir, { recursive: true, force: true }));
  const provider = createProvider('ipfs://', { log: silentLogger, timeoutMs: 10_000, retries: 0, ipfsApi: node.api });
  const targets: FetchTarget[] = files.map((f) => ({ path: f.path, sha256: f.sha256, cid: cids.get(f.sha256), headers: {} }));
  const got = await fetchAll(targets, { cache: new Cache(join(cacheDir, 'a')), providers: [provider], jobs: 2, log: silentLogger });
  for (const [i, r] of got.entries()) {
    assert.equal(r.source, provider.label);
    assert.equal(r.bytes, files[i].data.length);
  }
  // No /ipfs/ line: the small file is found by its raw-leaf CID; the big one cannot be, and says why.
  const noCid = targets.map(({ cid: _cid, ...rest }) => rest);
  const cache = new Cache(join(cacheDir, 'b'));
  const [small] = await fetchAll([noCid[0]], { cache, providers: [provider], jobs: 1, log: silentLogger });
  assert.equal(small.bytes, 4000);
  await assert.rejects(fetchAll([noCid[2]], { cache, providers: [provider], jobs: 1, log: silentLogger }), (e: PingetError) => {
    assert.equal(e.code, 'NOT_FOUND');
    assert.match([e.message, ...e.details].join('\n'), new RegExp(rawLeafCid(files[2].sha256)));
    return true;
  });
  // A node serving the wrong file for a CID (a lockfile line naming another file's CID) is caught by sha256.
  const lying: FetchTarget = { ...targets[0], cid: cids.get(files[2].sha256) };
  await assert.rejects(fetchAll([lying], { cache: new Cache(join(cacheDir, 'c')), providers: [provider], jobs: 1, log: silentLogger }), (e: PingetError) => e.code === 'INTEGRITY');
  await provider.close?.();
});

test('real node (js-ipfs RPC on Node 24): push refuses a file whose bytes do not match its hash', async () => {
  const wrong = { ...files[0], sha256: files[2].sha256 };
  await assert.rejects(publishToIpfs([wrong], { api: node.api, log: silentLogger }), (e: PingetError) => e.code === 'INTEGRITY' && /not publishing/.test(e.message));
});

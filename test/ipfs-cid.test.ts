/**
 * pinget's CIDs against independent implementations: Debian's ipfs_cid (Rust, kubo's CIDv0 defaults)
 * and the UnixFS importer from npm (ipfs-unixfs-importer) for pinget's own settings and for small
 * chunk sizes that force multi-level DAGs.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importer } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';
import type { CID } from 'multiformats/cid';
import { runChecked } from '../src/exec.js';
import {
  CidBuilder,
  KUBO_V0_DEFAULTS,
  PINGET_IMPORT,
  addOptions,
  computeCid,
  describeSettings,
  parseCid,
  rawLeafCid,
  type ImportSettings,
} from '../src/fetch/cid.js';

const MiB = 1 << 20;

/** Deterministic bytes that differ chunk to chunk (xorshift32). */
export function pattern(size: number, seed = 0x9e3779b9): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeUInt32LE(x >>> 0, i);
  }
  for (; i < size; i++) buf[i] = i & 0xff;
  return buf;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The npm UnixFS importer's root CID for the same settings (blocks are discarded). */
async function importerCid(data: Uint8Array, s: ImportSettings): Promise<string> {
  const blockstore = { put: async (cid: CID) => cid, get: async () => { throw new Error('unused'); }, has: async () => false };
  let root: string | undefined;
  for await (const entry of importer([{ content: data }], blockstore as never, {
    cidVersion: s.cidVersion,
    rawLeaves: s.rawLeaves,
    leafType: 'file',
    chunker: fixedSize({ chunkSize: s.chunkSize }),
    layout: balanced({ maxChildrenPerNode: s.maxLinks }),
    reduceSingleLeafToSelf: true,
  })) {
    root = entry.cid.toString();
  }
  assert.ok(root, 'the importer gave no root');
  return root;
}

const dir = await mkdtemp(join(tmpdir(), 'pinget-ipfs-cid-'));
after(() => rm(dir, { recursive: true, force: true }));

async function ipfsCid(data: Uint8Array, name: string): Promise<{ CIDv0: string; CIDv1: string }> {
  const file = join(dir, name);
  await writeFile(file, data);
  const res = await runChecked('ipfs_cid', [file], 'UNAVAILABLE', { missingHint: 'apt-get install ipfs-cid' });
  try {
    return JSON.parse(res.stdout.trim()) as { CIDv0: string; CIDv1: string };
  } finally {
    await rm(file, { force: true });
  }
}

test('rawLeafCid: the CIDv1 raw-leaf form of a sha256 (known value, and what one raw block imports as)', async () => {
  const hello = Buffer.from('hello\n');
  assert.equal(rawLeafCid(sha(hello)), 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am');
  const oneMiB = pattern(MiB);
  assert.equal(rawLeafCid(sha(oneMiB)), await importerCid(oneMiB, PINGET_IMPORT));
  assert.equal(rawLeafCid(sha(oneMiB)), await computeCid(oneMiB));
  // One byte more is two chunks: a dag-pb root, which the sha256 alone cannot name.
  const over = pattern(MiB + 1);
  assert.notEqual(await computeCid(over), rawLeafCid(sha(over)));
  assert.match(await computeCid(over), /^bafybei/);
  assert.throws(() => rawLeafCid('xyz'), /not a sha256/);
});

test('kubo CIDv0 defaults equal Debian ipfs_cid (independent Rust implementation), one and two DAG levels', async () => {
  // 175 chunks of 256 KiB need two levels (174 links per node); the others are one block, exact and
  // off-by-one chunk boundaries.
  const sizes = [1, 6, 262144, 262145, 3 * MiB + 5, 175 * 262144 + 1];
  for (const [i, size] of sizes.entries()) {
    const data = pattern(size, i + 1);
    const want = await ipfsCid(data, `f${i}`);
    assert.equal(await computeCid(data, KUBO_V0_DEFAULTS), want.CIDv0, `size ${size}`);
  }
});

test('pinget settings (CIDv1, raw leaves, 1 MiB chunks) equal the UnixFS importer, one and many chunks', async () => {
  for (const size of [1, 1000, MiB - 1, MiB, MiB + 1, 3 * MiB + 5]) {
    const data = pattern(size, size);
    assert.equal(await computeCid(data), await importerCid(data, PINGET_IMPORT), `size ${size}`);
  }
});

test('multi-level balanced DAGs equal the UnixFS importer (small chunks, narrow nodes, v0 and v1)', async () => {
  const cases: ImportSettings[] = [
    { cidVersion: 1, rawLeaves: true, chunkSize: 1024, maxLinks: 174 },
    { cidVersion: 1, rawLeaves: true, chunkSize: 100, maxLinks: 3 },
    { cidVersion: 1, rawLeaves: false, chunkSize: 100, maxLinks: 4 },
    { cidVersion: 0, rawLeaves: false, chunkSize: 64, maxLinks: 5 },
  ];
  for (const s of cases) {
    const sizes = [s.chunkSize * s.maxLinks, s.chunkSize * s.maxLinks + 1];
    if (s.maxLinks < 10) sizes.push(s.chunkSize * s.maxLinks * s.maxLinks + 7); // three levels
    for (const size of sizes) {
      const data = pattern(size, size + s.chunkSize);
      assert.equal(await computeCid(data, s), await importerCid(data, s), `${describeSettings(s)} size ${size}`);
    }
  }
});

test('CidBuilder gives the same CID however the bytes are split', async () => {
  const data = pattern(2 * MiB + 12345);
  const whole = await computeCid(data);
  const b = new CidBuilder();
  for (let i = 0, step = 1; i < data.length; i += step, step = (step * 7 + 13) % 300_000 + 1) b.update(data.subarray(i, i + step));
  assert.equal(b.digest(), whole);
  async function* pieces() {
    for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536);
  }
  assert.equal(await computeCid(pieces()), whole);
  assert.throws(() => b.digest(), /twice/);
});

test('settings are named explicitly for the lockfile header and the RPC call', () => {
  assert.equal(describeSettings(PINGET_IMPORT), 'cidv1 raw-leaves chunker=size-1048576 layout=balanced-174 hash=sha2-256');
  assert.deepEqual(addOptions(PINGET_IMPORT), { cidVersion: 1, rawLeaves: true, chunker: 'size-1048576', hashAlg: 'sha2-256', trickle: false });
  assert.throws(() => addOptions({ ...PINGET_IMPORT, maxLinks: 3 }), /174/);
  assert.throws(() => new CidBuilder({ ...KUBO_V0_DEFAULTS, rawLeaves: true }), /CIDv0/);
  assert.ok(parseCid('QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN'));
  assert.equal(parseCid('not-a-cid'), undefined);
});

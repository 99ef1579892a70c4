/**
 * IPFS CIDs of package files, computed locally so that pinget never has to trust a node's word for them.
 *
 * - `rawLeafCid(sha256)`: the CIDv1 of a file stored as ONE raw block (codec raw 0x55, multihash sha2-256 of
 *   the bytes). It can be derived from the lockfile's sha256 alone, but it names the file only when the file
 *   was added as a single raw block, i.e. with raw leaves and a chunk size >= the file's size. Bigger files
 *   are UnixFS DAGs whose root CID depends on the import settings and must come from an /ipfs/ line.
 * - `CidBuilder`: the root CID of the balanced UnixFS DAG kubo's `ipfs add` builds for given settings
 *   (fixed-size chunker, balanced layout with at most `maxLinks` children per node, sha2-256, no metadata).
 *   Layout as in the UnixFS spec and kubo's balanced builder: leaves in file order, grouped by `maxLinks`
 *   level by level until one node remains; a single-chunk file is its leaf ("reduce single leaf to self").
 *   Parents are dag-pb nodes with UnixFS `file` data listing each child's file size (blocksizes) and links
 *   named "" whose Tsize is the child's block length plus its children's Tsize.
 */
import { createHash } from 'node:crypto';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import * as Digest from 'multiformats/hashes/digest';
import { PingetError } from '../errors.js';

const SHA2_256 = 0x12;

export interface ImportSettings {
  cidVersion: 0 | 1;
  /** Leaves as raw blocks (codec 0x55) rather than dag-pb UnixFS `file` nodes. CIDv0 cannot name raw blocks. */
  rawLeaves: boolean;
  /** Fixed chunk size in bytes (kubo's `--chunker=size-N`; kubo caps it at 1 MiB). */
  chunkSize: number;
  /** Children per node in the balanced layout (kubo's fixed 174). */
  maxLinks: number;
}

/**
 * What `pinget cache push ipfs` uses. 1 MiB chunks (the largest kubo accepts) make every file of up to
 * 1 MiB a single raw block, whose CID is `rawLeafCid(sha256)`.
 */
export const PINGET_IMPORT: ImportSettings = { cidVersion: 1, rawLeaves: true, chunkSize: 1048576, maxLinks: 174 };

/** `ipfs add` with no options, as kubo has done for years: CIDv0, dag-pb leaves, 256 KiB chunks. */
export const KUBO_V0_DEFAULTS: ImportSettings = { cidVersion: 0, rawLeaves: false, chunkSize: 262144, maxLinks: 174 };

/** The settings as one line, for the lockfile's `ipfs-import` header. */
export function describeSettings(s: ImportSettings): string {
  return [`cidv${s.cidVersion}`, s.rawLeaves ? 'raw-leaves' : 'dag-pb-leaves', `chunker=size-${s.chunkSize}`, `layout=balanced-${s.maxLinks}`, 'hash=sha2-256'].join(' ');
}

/** The options kubo's RPC `add` takes for these settings (kubo-rpc-client's names). */
export function addOptions(s: ImportSettings): { cidVersion: 0 | 1; rawLeaves: boolean; chunker: string; hashAlg: string; trickle: boolean } {
  if (s.maxLinks !== 174) throw new PingetError('INTERNAL', `kubo's RPC cannot set the balanced layout's width (${s.maxLinks}); it is always 174`);
  return { cidVersion: s.cidVersion, rawLeaves: s.rawLeaves, chunker: `size-${s.chunkSize}`, hashAlg: 'sha2-256', trickle: false };
}

export { rawLeafCid } from './raw-leaf-cid.js';

/** Parses a CID string (v0 base58 or v1 multibase); undefined when it is not one. */
export function parseCid(text: string): CID | undefined {
  try {
    return CID.parse(text);
  } catch {
    return undefined;
  }
}

interface DagNode {
  cid: CID;
  /** Bytes of this block plus the Tsize of all its children (what a parent link records). */
  tsize: number;
  /** Bytes of file content below this node. */
  fileSize: number;
}

function digestOf(block: Uint8Array): Digest.Digest<typeof SHA2_256, number> {
  return Digest.create(SHA2_256, createHash('sha256').update(block).digest());
}

function dagPbCid(version: 0 | 1, block: Uint8Array): CID {
  const d = digestOf(block);
  return version === 0 ? CID.createV0(d) : CID.createV1(dagPb.code, d);
}

/** Streams a file's bytes in and gives the root CID of its UnixFS DAG for the settings. */
export class CidBuilder {
  private readonly settings: ImportSettings;
  private readonly leaves: DagNode[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private done = false;

  constructor(settings: ImportSettings = PINGET_IMPORT) {
    if (settings.cidVersion === 0 && settings.rawLeaves) throw new PingetError('INTERNAL', 'CIDv0 cannot have raw leaves');
    if (!(settings.chunkSize > 0 && settings.maxLinks > 1)) throw new PingetError('INTERNAL', 'bad import settings');
    this.settings = settings;
  }

  update(chunk: Uint8Array): this {
    if (this.done) throw new PingetError('INTERNAL', 'CidBuilder used after digest()');
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const size = this.settings.chunkSize;
    while (buf.length > 0) {
      const take = Math.min(size - this.pendingBytes, buf.length);
      this.pending.push(buf.subarray(0, take));
      this.pendingBytes += take;
      buf = buf.subarray(take);
      if (this.pendingBytes === size) this.flushChunk();
    }
    return this;
  }

  private flushChunk(): void {
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.leaves.push(this.leaf(data));
  }

  private leaf(data: Uint8Array): DagNode {
    if (this.settings.rawLeaves) {
      return { cid: CID.createV1(raw.code, digestOf(data)), tsize: data.length, fileSize: data.length };
    }
    const block = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'file', data }).marshal(), Links: [] }));
    return { cid: dagPbCid(this.settings.cidVersion, block), tsize: block.length, fileSize: data.length };
  }

  private parent(children: DagNode[]): DagNode {
    const data = new UnixFS({ type: 'file', blockSizes: children.map((c) => BigInt(c.fileSize)) }).marshal();
    const links = children.map((c) => ({ Name: '', Tsize: c.tsize, Hash: c.cid }));
    const block = dagPb.encode(dagPb.prepare({ Data: data, Links: links }));
    return {
      cid: dagPbCid(this.settings.cidVersion, block),
      tsize: block.length + children.reduce((n, c) => n + c.tsize, 0),
      fileSize: children.reduce((n, c) => n + c.fileSize, 0),
    };
  }

  /** The root CID as a string (base58btc for v0, base32 for v1). Ends the builder. */
  digest(): string {
    if (this.done) throw new PingetError('INTERNAL', 'CidBuilder.digest() called twice');
    this.done = true;
    if (this.pendingBytes > 0 || this.leaves.length === 0) this.flushChunk();
    let level = this.leaves;
    while (level.length > 1) {
      const next: DagNode[] = [];
      for (let i = 0; i < level.length; i += this.settings.maxLinks) next.push(this.parent(level.slice(i, i + this.settings.maxLinks)));
      level = next;
    }
    return level[0].cid.toString();
  }
}

/** The root CID of bytes or an async stream of bytes for the settings. */
export async function computeCid(source: Uint8Array | AsyncIterable<Uint8Array>, settings: ImportSettings = PINGET_IMPORT): Promise<string> {
  const b = new CidBuilder(settings);
  if (source instanceof Uint8Array) b.update(source);
  else for await (const chunk of source) b.update(chunk);
  return b.digest();
}

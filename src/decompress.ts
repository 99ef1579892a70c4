/**
 * Decompression of index files (apt lists, repodata, APKINDEX, sync dbs), chosen by file name extension or
 * by magic bytes, whole-buffer or streaming. Pure JS/WASM libraries only: node:zlib (gzip), xz-decompress
 * (xz, WASM), fzstd (zstd), each loaded when its format is first met; LZ4 frames (the format apt writes with
 * liblz4's LZ4F API, as the `lz4` CLI does) are decoded here because lz4js is too slow for apt's lists (see
 * lz4Block).
 */
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import { PingetError, reasonOf } from './errors.js';

export type CompressionKind = 'gzip' | 'xz' | 'lz4' | 'zstd' | 'bzip2';

const gunzipAsync = promisify(gunzip);

async function xzStreamClass(): Promise<typeof import('xz-decompress').XzReadableStream> {
  // xz-decompress is a webpack bundle whose named exports Node's ESM loader cannot see: take its default
  // export (where the exports are depends on the loader: Node's, tsx's, esbuild's).
  const mod = (await import('xz-decompress')) as unknown as { default?: typeof import('xz-decompress') } & typeof import('xz-decompress');
  return mod.XzReadableStream ?? mod.default!.XzReadableStream;
}

const BZIP2_UNSUPPORTED = 'bzip2 is not supported (no well-kept pure-JS decoder); use the .gz, .xz or plain form';

function corrupt(nameOrKind: string, kind: CompressionKind, e: unknown): PingetError {
  if (e instanceof PingetError) return e;
  return new PingetError('BAD_INPUT', `${nameOrKind}: cannot decompress as ${kind} (${reasonOf(e)}); the file is corrupt or truncated`, { cause: e });
}

const EXTENSIONS: Record<string, CompressionKind> = {
  gz: 'gzip',
  gzip: 'gzip',
  xz: 'xz',
  lz4: 'lz4',
  zst: 'zstd',
  zstd: 'zstd',
  bz2: 'bzip2',
  bzip2: 'bzip2',
};

/** The compression a file name (or a bare kind like 'gz', 'zstd') names; undefined for plain files. */
export function compressionOfName(nameOrKind: string): CompressionKind | undefined {
  const lower = nameOrKind.toLowerCase();
  const ext = lower.includes('.') ? lower.slice(lower.lastIndexOf('.') + 1) : lower;
  return EXTENSIONS[ext];
}

/** The compression of some bytes by their magic number; undefined when none is recognised. */
export function sniffCompression(data: Uint8Array): CompressionKind | undefined {
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) return 'gzip';
  if (data.length >= 6 && data[0] === 0xfd && data[1] === 0x37 && data[2] === 0x7a && data[3] === 0x58 && data[4] === 0x5a && data[5] === 0x00) return 'xz';
  if (data.length >= 4) {
    const magic = (data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)) >>> 0;
    if (magic === LZ4_MAGIC) return 'lz4';
    if (magic === 0xfd2fb528) return 'zstd';
  }
  if (data.length >= 3 && data[0] === 0x42 && data[1] === 0x5a && data[2] === 0x68) return 'bzip2';
  return undefined;
}

/**
 * Decompresses `data` by the extension of `nameOrKind` (`Packages.xz`, `x.zst`, or a bare 'gz'); a name without
 * a compression extension returns the bytes as they are. The name is also used in error messages.
 */
export async function decompress(data: Uint8Array, nameOrKind: string): Promise<Buffer> {
  const kind = compressionOfName(nameOrKind);
  if (!kind) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  try {
    switch (kind) {
      case 'gzip':
        return await gunzipAsync(data);
      case 'xz':
        return await xzDecompress(data);
      case 'lz4':
        return lz4Decompress(data);
      case 'zstd': {
        const out = (await import('fzstd')).decompress(data);
        return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      }
      case 'bzip2':
        throw new Error(BZIP2_UNSUPPORTED);
    }
  } catch (e) {
    throw corrupt(nameOrKind, kind, e);
  }
}

async function xzDecompress(data: Uint8Array): Promise<Buffer> {
  const XzReadableStream = await xzStreamClass();
  const input = new Blob([data as Uint8Array<ArrayBuffer>]).stream() as unknown as ReadableStream<Uint8Array>;
  const out = await new Response(new XzReadableStream(input) as unknown as BodyInit).arrayBuffer();
  return Buffer.from(out);
}

/**
 * Streaming form of decompress(): the decompressed bytes of `input`, chunk by chunk, so that a 50 MB index
 * is never held whole. A name without a compression extension passes the chunks through. A chunk is valid
 * only until the next one is asked for (LZ4 output is a view of the decoder's window): copy what you keep.
 */
export async function* decompressStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, nameOrKind: string): AsyncGenerator<Uint8Array> {
  const input: AsyncIterable<Uint8Array> = Symbol.asyncIterator in source ? source : (async function* () {
    yield* source;
  })();
  const kind = compressionOfName(nameOrKind);
  if (!kind) {
    yield* input;
    return;
  }
  try {
    switch (kind) {
      case 'gzip': {
        // 256 KiB chunks, not zlib's 16 KiB: a fifth less CPU for a 5 MB sync database (one callback per chunk).
        const gz = createGunzip({ chunkSize: 1 << 18 });
        const src = Readable.from(input);
        src.on('error', (e) => gz.destroy(e));
        src.pipe(gz);
        try {
          yield* gz as AsyncIterable<Buffer>;
        } finally {
          src.destroy();
        }
        return;
      }
      case 'xz': {
        const XzReadableStream = await xzStreamClass();
        const web = Readable.toWeb(Readable.from(input)) as unknown as ReadableStream<Uint8Array>;
        yield* new XzReadableStream(web) as unknown as AsyncIterable<Uint8Array>;
        return;
      }
      case 'lz4':
        yield* lz4Stream(input);
        return;
      case 'zstd': {
        const { Decompress } = await import('fzstd');
        let out: Uint8Array[] = [];
        const z = new Decompress((chunk) => out.push(chunk));
        for await (const c of input) {
          z.push(c);
          if (out.length) yield* out;
          out = [];
        }
        z.push(new Uint8Array(0), true);
        yield* out;
        return;
      }
      case 'bzip2':
        throw new Error(BZIP2_UNSUPPORTED);
    }
  } catch (e) {
    throw corrupt(nameOrKind, kind, e);
  }
}

// LZ4 frame format: https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md
const LZ4_MAGIC = 0x184d2204;
const LZ4_SKIPPABLE_MASK = 0xfffffff0;
const LZ4_SKIPPABLE = 0x184d2a50;
const LZ4_BLOCK_MAX: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

function u32(d: Uint8Array, i: number): number {
  if (i + 4 > d.length) throw new Error('truncated LZ4 data');
  return (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> 0;
}

interface Lz4Block {
  start: number;
  size: number;
  raw: boolean;
}

/** Walks concatenated LZ4 frames (and skippable frames): the blocks to decode and an upper bound of the output. */
function lz4Blocks(src: Uint8Array): { blocks: Lz4Block[]; bound: number } {
  const blocks: Lz4Block[] = [];
  let bound = 0;
  let i = 0;
  while (i < src.length) {
    const magic = u32(src, i);
    if (((magic & LZ4_SKIPPABLE_MASK) >>> 0) === LZ4_SKIPPABLE) {
      i += 8 + u32(src, i + 4);
      continue;
    }
    if (magic !== LZ4_MAGIC) throw new Error(`bad LZ4 frame magic at byte ${i}`);
    const flg = src[i + 4];
    const bd = src[i + 5];
    if (flg >> 6 !== 1) throw new Error(`unsupported LZ4 frame version ${flg >> 6}`);
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictId = (flg & 0x01) !== 0;
    if (dictId) throw new Error('LZ4 frames with a dictionary are not supported');
    const maxBlock = LZ4_BLOCK_MAX[(bd >> 4) & 7];
    if (!maxBlock) throw new Error(`bad LZ4 block size code ${(bd >> 4) & 7}`);
    i += 6 + (contentSize ? 8 : 0) + 1; // FLG, BD, optional content size, header checksum
    for (;;) {
      const word = u32(src, i);
      i += 4;
      if (word === 0) break;
      const raw = (word & 0x80000000) !== 0;
      const size = word & 0x7fffffff;
      if (size > maxBlock || i + size > src.length) throw new Error('truncated or corrupt LZ4 block');
      blocks.push({ start: i, size, raw });
      bound += raw ? size : maxBlock;
      i += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) i += 4;
  }
  return { blocks, bound };
}

function lz4Decompress(src: Uint8Array): Buffer {
  const { blocks, bound } = lz4Blocks(src);
  const dst = Buffer.allocUnsafe(bound);
  let out = 0;
  for (const b of blocks) {
    if (b.raw) {
      dst.set(src.subarray(b.start, b.start + b.size), out);
      out += b.size;
    } else {
      // Blocks of one frame may refer back into earlier output (linked blocks), which is all in dst.
      out = lz4Block(src, b.start, b.start + b.size, dst, out);
    }
  }
  return dst.subarray(0, out);
}

/** Pulls exact byte counts out of a chunked stream. */
class ByteReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.it = input[Symbol.asyncIterator]();
  }

  /** Exactly n bytes; undefined at a clean end of input when `eofOk`; throws when the input ends early. */
  async read(n: number, eofOk = false): Promise<Buffer | undefined> {
    while (this.have < n) {
      const r = await this.it.next();
      if (r.done) {
        if (eofOk && this.have === 0) return undefined;
        throw new Error('truncated LZ4 data');
      }
      const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      this.chunks.push(b);
      this.have += b.length;
    }
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = joined.subarray(0, n);
    this.chunks = joined.length > n ? [joined.subarray(n)] : [];
    this.have -= n;
    return out;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

const LZ4_WINDOW = 64 << 10;

/** LZ4 frames decoded block by block, keeping the last 64 KiB of output for linked blocks' back-references. */
async function* lz4Stream(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const r = new ByteReader(input);
  const need = async (n: number) => (await r.read(n))!;
  try {
    for (;;) {
      const head = await r.read(4, true);
      if (!head) return;
      const magic = u32(head, 0);
      if (((magic & LZ4_SKIPPABLE_MASK) >>> 0) === LZ4_SKIPPABLE) {
        await need(u32(await need(4), 0));
        continue;
      }
      if (magic !== LZ4_MAGIC) throw new Error('bad LZ4 frame magic');
      const [flg, bd] = await need(2);
      if (flg >> 6 !== 1) throw new Error(`unsupported LZ4 frame version ${flg >> 6}`);
      if (flg & 0x01) throw new Error('LZ4 frames with a dictionary are not supported');
      const maxBlock = LZ4_BLOCK_MAX[(bd >> 4) & 7];
      if (!maxBlock) throw new Error(`bad LZ4 block size code ${(bd >> 4) & 7}`);
      await need((flg & 0x08 ? 8 : 0) + 1); // optional content size, header checksum
      const win = Buffer.allocUnsafe(LZ4_WINDOW + maxBlock);
      let out = 0;
      for (;;) {
        const word = u32(await need(4), 0);
        if (word === 0) break;
        const raw = (word & 0x80000000) !== 0;
        const size = word & 0x7fffffff;
        if (size > maxBlock) throw new Error('corrupt LZ4 block size');
        const block = await need(size);
        if (flg & 0x10) await need(4); // block checksum
        if (out + maxBlock > win.length) {
          win.copyWithin(0, out - LZ4_WINDOW, out);
          out = LZ4_WINDOW;
        }
        const start = out;
        if (raw) {
          win.set(block, out);
          out += size;
        } else out = lz4Block(block, 0, size, win, out);
        yield win.subarray(start, out);
      }
      if (flg & 0x04) await need(4); // content checksum
    }
  } finally {
    await r.close();
  }
}

/**
 * Decodes one LZ4 block (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md) into dst at `out`;
 * returns the new end of output. Not lz4js's decoder: that one copies byte by byte and takes ~1.5 s for a
 * 50 MB Packages list; bulk copies (set/copyWithin) make it ~10x faster, which `hash generate` needs.
 */
function lz4Block(src: Uint8Array, s: number, end: number, dst: Buffer, out: number): number {
  while (s < end) {
    const token = src[s++];
    let lit = token >> 4;
    if (lit === 15) {
      let b: number;
      do {
        b = src[s++];
        lit += b;
      } while (b === 255 && s < end);
    }
    if (s + lit > end || out + lit > dst.length) throw new Error('corrupt LZ4 block (literals overrun)');
    if (lit > 16) dst.set(src.subarray(s, s + lit), out);
    else for (let k = 0; k < lit; k++) dst[out + k] = src[s + k];
    s += lit;
    out += lit;
    if (s >= end) break; // the last sequence has literals only
    const offset = src[s] | (src[s + 1] << 8);
    s += 2;
    let len = token & 15;
    if (len === 15) {
      let b: number;
      do {
        b = src[s++];
        len += b;
      } while (b === 255 && s < end);
    }
    len += 4;
    let from = out - offset;
    if (offset === 0 || from < 0 || out + len > dst.length) throw new Error('corrupt LZ4 block (bad match)');
    if (offset >= len && len > 16) {
      dst.copyWithin(out, from, from + len);
      out += len;
    } else {
      // Overlapping match (offset < length) repeats the last `offset` bytes: copy forward byte by byte.
      for (const stop = out + len; out < stop; ) dst[out++] = dst[from++];
    }
  }
  return out;
}

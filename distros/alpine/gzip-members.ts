/**
 * An .apk (v2) and an APKINDEX.tar.gz are gzip members written one after another (RFC 1952 allows
 * that; `gunzip` reads them as one stream). apk-tools identifies the parts by their member boundaries,
 * so we need the exact byte range of each member, not just the inflated text. Pure.
 */
import { crc32, inflateRawSync } from 'node:zlib';

export interface GzipMember {
  /** Byte range of the whole member (header, deflate data, trailer) in the input. */
  start: number;
  end: number;
  /** The inflated content. */
  content: Buffer;
}

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/** Parses one gzip member at `offset`. Throws an Error saying what is wrong. */
export function readGzipMember(buf: Uint8Array, offset: number): GzipMember {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length - offset < 18) throw new Error(`truncated gzip member at byte ${offset}`);
  if (b[offset] !== 0x1f || b[offset + 1] !== 0x8b) throw new Error(`no gzip member at byte ${offset}`);
  if (b[offset + 2] !== 8) throw new Error(`gzip member at byte ${offset} is not deflate`);
  const flags = b[offset + 3];
  let pos = offset + 10;
  if (flags & FEXTRA) pos += 2 + b.readUInt16LE(pos);
  for (const flag of [FNAME, FCOMMENT]) {
    if (flags & flag) {
      const nul = b.indexOf(0, pos);
      if (nul < 0) throw new Error(`truncated gzip header at byte ${offset}`);
      pos = nul + 1;
    }
  }
  if (flags & FHCRC) pos += 2;
  if (pos > b.length) throw new Error(`truncated gzip header at byte ${offset}`);
  let content: Buffer;
  let consumed: number;
  try {
    // inflateRaw stops at the end of the deflate stream; bytesWritten is how much input it consumed.
    const r = inflateRawSync(b.subarray(pos), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    content = r.buffer;
    consumed = r.engine.bytesWritten;
  } catch (e) {
    throw new Error(`bad deflate data in the gzip member at byte ${offset}: ${(e as Error).message}`);
  }
  const trailer = pos + consumed;
  if (trailer + 8 > b.length) throw new Error(`truncated gzip trailer at byte ${trailer}`);
  if (b.readUInt32LE(trailer) !== crc32(content)) throw new Error(`CRC mismatch in the gzip member at byte ${offset}`);
  if (b.readUInt32LE(trailer + 4) !== content.length % 2 ** 32) throw new Error(`length mismatch in the gzip member at byte ${offset}`);
  return { start: offset, end: trailer + 8, content };
}

/** Reads up to `max` members from the start; stops early at the end of input. */
export function readGzipMembers(buf: Uint8Array, max = Infinity): GzipMember[] {
  const out: GzipMember[] = [];
  let offset = 0;
  while (offset < buf.byteLength && out.length < max) {
    const m = readGzipMember(buf, offset);
    out.push(m);
    offset = m.end;
  }
  return out;
}

/**
 * The name, version and arch of an apk v3 package (the ADB format of apk-tools 3, apk-v3(5)): the file is
 * `ADB` + a compression mark (`.` none, `d` raw deflate, `c` + {alg, level}), then, uncompressed, the magic
 * `ADB.`, the schema (`pckg`) and blocks; the first block is the ADB block, whose payload starts with a header
 * {compat, ver, reserved, root} and holds every value. A value is a 32-bit word: 4 bits of type, 28 of
 * immediate or offset into the payload. The root object's slot 1 is the package info, whose slots 1, 2 and
 * 5 are name, version and arch (apk-tools 3 src/adb.h, src/adb.c, src/apk_adb.h). Pure.
 */
import { kMaxLength } from 'node:buffer';
import { createHash } from 'node:crypto';
import { constants, inflateRawSync, zstdDecompressSync } from 'node:zlib';

export interface AdbPackageInfo {
  name: string;
  version: string;
  arch?: string;
}

const SCHEMA_PACKAGE = 0x676b6370; // 'pckg'
const TYPE_OBJECT = 0xe;
/** How much of a deflated file is inflated first: the ADB block (metadata) comes before the data blocks. */
const PREFIX = 1 << 20;

/** Whether the bytes are an apk v3 (ADB) file rather than a v2 one (gzip). */
export function isAdb(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x41 && bytes[1] === 0x44 && bytes[2] === 0x42;
}

function inflatePrefix(input: Buffer, limit: number, maxOutputLength: number): Buffer {
  // a sync flush of a cut input gives what inflates so far
  return inflateRawSync(input.subarray(0, limit), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength });
}

/** The ADB stream of the file's first `limit` bytes, at most `maxOut` bytes of it (past that: an Error). */
export function uncompressed(bytes: Buffer, limit: number, maxOut = kMaxLength): Buffer {
  switch (String.fromCharCode(bytes[3])) {
    case '.':
      return bytes;
    case 'd':
      return inflatePrefix(bytes.subarray(4), limit, maxOut);
    case 'c': {
      const alg = bytes[4];
      if (alg === 0) return bytes.subarray(6);
      if (alg === 1) return inflatePrefix(bytes.subarray(6), limit, maxOut);
      if (alg === 2) return zstdDecompressSync(bytes.subarray(6), { maxOutputLength: maxOut });
      throw new Error(`unknown ADB compression ${alg}`);
    }
    default:
      throw new Error(`unknown ADB compression mark ${JSON.stringify(String.fromCharCode(bytes[3]))}`);
  }
}

function blockFits(body: Buffer): boolean {
  if (body.length < 12) return false;
  const tag = body.readUInt32LE(8);
  const size = tag >>> 30 === 3 ? (body.length < 24 ? Infinity : Number(body.readBigUInt64LE(16))) : tag & 0x3fffffff;
  return 8 + size <= body.length;
}

/** The ADB block's payload: where every offset points, and what apk 3 hashes for a package's identity. */
export function adbPayload(body: Buffer, schema = SCHEMA_PACKAGE): Buffer {
  if (body.length < 12 || body.toString('latin1', 0, 4) !== 'ADB.') throw new Error('no ADB. header after decompression');
  if (body.readUInt32LE(4) !== schema) throw new Error(`schema ${body.toString('latin1', 4, 8)} is not ${schema === SCHEMA_PACKAGE ? 'a package (pckg)' : 'an index (indx)'}`);
  const tag = body.readUInt32LE(8);
  let type = tag >>> 30;
  let size = tag & 0x3fffffff;
  let header = 4;
  if (type === 3) {
    if (body.length < 24) throw new Error('ADB block header cut short');
    type = tag & 0x3fffffff;
    size = Number(body.readBigUInt64LE(16));
    header = 16;
  }
  if (type !== 0) throw new Error('the first block is not the ADB block');
  if (8 + size > body.length) throw new Error(`ADB block of ${size} bytes runs past the file's ${body.length}`);
  return body.subarray(8 + header, 8 + size);
}

export function u32(p: Buffer, off: number): number {
  if (off + 4 > p.length) throw new Error(`value offset ${off} outside the ADB block`);
  return p.readUInt32LE(off);
}

/** The slots of an object (or array) value (slot 0 is the count). */
export function objectSlots(p: Buffer, v: number, type = TYPE_OBJECT): number[] {
  if (v >>> 28 !== type) throw new Error(`expected ${type === TYPE_OBJECT ? 'an object' : 'an array'}, got value type ${v >>> 28}`);
  const off = v & 0x0fffffff;
  const n = u32(p, off);
  if (n === 0 || n > 0x10000) throw new Error(`object with ${n} slots`);
  return Array.from({ length: n }, (_x, i) => u32(p, off + 4 * i));
}

export function blobBytes(p: Buffer, v: number | undefined): Buffer | undefined {
  if (v === undefined || v === 0) return undefined;
  const off = v & 0x0fffffff;
  const width = { 0x8: 1, 0x9: 2, 0xa: 4 }[v >>> 28];
  if (!width) throw new Error(`expected a string, got value type ${v >>> 28}`);
  if (off + width > p.length) throw new Error(`string offset ${off} outside the ADB block`);
  const len = width === 1 ? p[off] : width === 2 ? p.readUInt16LE(off) : p.readUInt32LE(off);
  if (off + width + len > p.length) throw new Error(`string of ${len} bytes runs past the ADB block`);
  return p.subarray(off + width, off + width + len);
}

export function blob(p: Buffer, v: number | undefined): string | undefined {
  return blobBytes(p, v)?.toString('utf8');
}

/** Reads an apk v3 package's identity fields; throws an Error saying what is wrong (the caller names the file). */
export function readAdbPackageInfo(bytes: Buffer): AdbPackageInfo {
  if (!isAdb(bytes)) throw new Error('not an ADB file');
  let body = uncompressed(bytes, PREFIX);
  // the whole file only when the metadata is larger than what the first MiB inflated to
  if (bytes.length > PREFIX && !blockFits(body)) body = uncompressed(bytes, bytes.length);
  const p = adbPayload(body);
  const info = objectSlots(p, objectSlots(p, u32(p, 4))[1] ?? 0);
  const name = blob(p, info[1]);
  const version = blob(p, info[2]);
  if (!name || !version) throw new Error('package info without name or version');
  return { name, version, arch: blob(p, info[5]) };
}

/**
 * apk 3's identity of a v3 package: SHA-256 of its ADB block's payload (adb.c, __adb_handle_identity), which the
 * index's `hashes` field names; the block holds every file's digest, and apk checks the data against them.
 */
export function adbPackageIdentity(bytes: Buffer): Buffer {
  if (!isAdb(bytes)) throw new Error('not an ADB file');
  let body = uncompressed(bytes, PREFIX);
  if (bytes.length > PREFIX && !blockFits(body)) body = uncompressed(bytes, bytes.length);
  return createHash('sha256').update(adbPayload(body)).digest();
}

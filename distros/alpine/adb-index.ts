/**
 * Packages.adb, apk-tools 3's repository index (`apk mkndx`): an ADB file of schema `indx` whose root object
 * holds a description (slot 1), the packages (slot 2, an array of package-info objects, as in a package's own
 * ADB block: name 1, version 2, hashes 3, arch 5, file-size 13) and a pkgname-spec (slot 3), the path of a
 * package relative to the repository (apk-tools 3 src/apk_adb.h ADBI_NDX_*, ADBI_PI_*). Its signature is not
 * checked here: lock-repos.ts asks apk itself (`apk verify`). Pure.
 */
import type { ApkRecord } from './apk-db.js';
import { adbPayload, blob, blobBytes, objectSlots, u32, uncompressed } from './adb-package.js';

const SCHEMA_INDEX = 0x78646e69; // 'indx'
/** Alpine's largest index inflates to tens of MB; past this it is a bomb, not an index. */
const INFLATED_MAX = 512 << 20;

export interface AdbIndexRecord extends ApkRecord {
  /** The `hashes` field: apk 3's identity of the package (SHA-256 of a v3 package's ADB block). */
  hash: Buffer;
  fileSize?: number;
}

export interface AdbIndex {
  records: AdbIndexRecord[];
  description?: string;
  pkgnameSpec?: string;
}

function int(p: Buffer, v: number | undefined): number | undefined {
  if (v === undefined || v === 0) return undefined;
  const type = v >>> 28;
  const val = v & 0x0fffffff;
  if (type === 0x1) return val;
  if (type === 0x2) return u32(p, val);
  if (type === 0x3) {
    if (val + 8 > p.length) throw new Error(`integer offset ${val} outside the ADB block`);
    return Number(p.readBigUInt64LE(val));
  }
  throw new Error(`expected an integer, got value type ${type}`);
}

/** Reads a Packages.adb; throws an Error saying what is wrong (the caller names the file). */
export function readAdbIndex(bytes: Buffer): AdbIndex {
  if (bytes.length < 4 || bytes.toString('latin1', 0, 3) !== 'ADB') throw new Error('not an ADB file');
  const p = adbPayload(uncompressed(bytes, bytes.length, INFLATED_MAX), SCHEMA_INDEX);
  const root = objectSlots(p, u32(p, 4));
  const records: AdbIndexRecord[] = [];
  // mkndx writes the package array with the object type tag
  const list = root[2] ? objectSlots(p, root[2], root[2] >>> 28 === 0xd ? 0xd : 0xe).slice(1) : [];
  for (const [i, v] of list.entries()) {
    const info = objectSlots(p, v);
    const name = blob(p, info[1]);
    const version = blob(p, info[2]);
    const hash = blobBytes(p, info[3]);
    if (!name || !version) throw new Error(`package ${i + 1} without name or version`);
    if (!hash || hash.length === 0) throw new Error(`package ${i + 1} (${name} ${version}) without hashes`);
    records.push({ name, version, arch: blob(p, info[5]), hash, fileSize: int(p, info[13]), line: i + 1 });
  }
  return { records, description: blob(p, root[1]), pkgnameSpec: blob(p, root[3]) };
}

/** A package's path under the repository's url_base, by apk 3's pkgname-spec (`${arch}/${name}-${version}.apk` unless the index says). */
export function packageRelPath(spec: string, rec: Pick<ApkRecord, 'name' | 'version' | 'arch'>): string {
  return spec.replace(/\$\{([a-z_]+)\}/g, (m, k: string) => {
    const v = k === 'name' ? rec.name : k === 'version' ? rec.version : k === 'arch' ? rec.arch : undefined;
    if (v === undefined) throw new Error(`pkgname-spec ${JSON.stringify(spec)}: ${m} is not supported`);
    return v;
  });
}

/**
 * The parts of an apk v2 package: gzip members of tar segments, in order
 *   [signature member(s): `.SIGN.RSA.<key>` / `.SIGN.RSA256.<key>`] control member: `.PKGINFO`, scripts
 *   data member: the files, each with a PAX `APK-TOOLS.checksum.SHA1` record, up to the end of the file.
 * The control and signature tars have their end-of-archive blocks cut off (abuild-tar --cut), so the
 * concatenation reads as one tar. The package's identity (`C:` in APKINDEX and the installed db) is
 * `Q1` + base64(SHA-1 of the control member's bytes), and `.PKGINFO`'s `datahash` is the sha256 of the
 * data member's bytes; together they pin everything but the signature. (apk-tools 2, src/package.c
 * apk_pkg_read / src/io_archive.c; abuild's `create_apks`.) Pure.
 */
import { createHash } from 'node:crypto';
import { readGzipMember } from './gzip-members.js';
import { parsePkgInfo, type PkgInfo } from './pkginfo.js';
import { readTarEntries, type TarEntry } from './tar-entries.js';

export interface ApkSignature {
  /** `RSA` (SHA-1) or `RSA256` (SHA-256). */
  scheme: string;
  keyName: string;
  signature: Buffer;
}

export interface ApkParts {
  signatures: ApkSignature[];
  /** Byte range of the control member. */
  controlStart: number;
  controlEnd: number;
  identity: string;
  pkginfo: PkgInfo;
  /** The data member runs from here to the end of the file (it is hashed, not inflated). */
  dataStart: number;
}

export const IDENTITY = /^Q1[A-Za-z0-9+/]{27}=$/;

/** `Q1` + base64 SHA-1 of the bytes: apk's identity of a control member (or an index). */
export function identityOf(bytes: Uint8Array): string {
  return 'Q1' + createHash('sha1').update(bytes).digest('base64');
}

export function parseSignatureName(name: string): { scheme: string; keyName: string } | undefined {
  const m = /^\.SIGN\.(RSA|RSA256)\.(.+)$/.exec(name);
  return m ? { scheme: m[1], keyName: m[2] } : undefined;
}

function signaturesOf(entries: TarEntry[]): ApkSignature[] | undefined {
  if (entries.length === 0) return undefined;
  const sigs: ApkSignature[] = [];
  for (const e of entries) {
    const s = parseSignatureName(e.name);
    if (!s) return undefined;
    sigs.push({ ...s, signature: e.data });
  }
  return sigs;
}

/** Splits an .apk into its parts. Throws an Error saying what is wrong (the caller names the file). */
export async function parseApk(bytes: Buffer): Promise<ApkParts> {
  const signatures: ApkSignature[] = [];
  let offset = 0;
  for (let i = 0; i < 4; i++) {
    if (offset >= bytes.length) break;
    const member = readGzipMember(bytes, offset);
    const entries = await readTarEntries(member.content);
    const sigs = signaturesOf(entries);
    if (sigs) {
      signatures.push(...sigs);
      offset = member.end;
      continue;
    }
    const pkginfoEntry = entries.find((e) => e.name === '.PKGINFO');
    if (!pkginfoEntry) throw new Error(`gzip member ${i + 1} is neither a signature nor a control segment (no .PKGINFO)`);
    if (member.end >= bytes.length) throw new Error('no data segment after the control segment');
    return {
      signatures,
      controlStart: member.start,
      controlEnd: member.end,
      identity: identityOf(bytes.subarray(member.start, member.end)),
      pkginfo: parsePkgInfo(pkginfoEntry.data.toString('utf8')),
      dataStart: member.end,
    };
  }
  throw new Error('no control segment (.PKGINFO) found');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

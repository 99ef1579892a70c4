/**
 * APKINDEX.tar.gz: a signature member, then a gzip'd tar of `DESCRIPTION` and `APKINDEX` (the apk db
 * text format). The signature covers the second member's bytes. Pure given the keys.
 */
import { parseSignatureName, type ApkSignature } from './apk-file.js';
import { parseApkDb, type ApkRecord } from './apk-db.js';
import { readGzipMembers } from './gzip-members.js';
import { checkSignatures, type ApkKeys } from './signature.js';
import { readTarEntries } from './tar-entries.js';

export interface ApkIndex {
  records: ApkRecord[];
  description?: string;
  /** Newest mtime inside the signed member. */
  date?: Date;
  /** The key that verified it; undefined when unsigned checks were skipped. */
  signedBy?: string;
}

/**
 * Parses an APKINDEX.tar.gz; with keys, its signature must verify. Errors name `what`. With `keep`, only
 * the records of the package names it accepts are returned (see parseApkDb).
 */
export async function parseApkIndex(bytes: Buffer, what: string, keys: ApkKeys | undefined, keep?: (name: string) => boolean): Promise<ApkIndex> {
  let members;
  try {
    members = readGzipMembers(bytes);
  } catch (e) {
    throw new Error(`${what}: not an APKINDEX.tar.gz: ${(e as Error).message}`);
  }
  const sigs: ApkSignature[] = [];
  let i = 0;
  for (; i < members.length; i++) {
    const entries = await readTarEntries(members[i].content);
    const parsed = entries.map((e) => ({ e, s: parseSignatureName(e.name) }));
    if (entries.length === 0 || parsed.some((p) => !p.s)) break;
    for (const p of parsed) sigs.push({ ...p.s!, signature: p.e.data });
  }
  const body = members[i];
  if (!body) throw new Error(`${what}: no index after the signature`);
  let signedBy: string | undefined;
  if (keys) {
    const r = checkSignatures(sigs, bytes.subarray(body.start, body.end), keys);
    if (!r.key) throw new Error(`${what}: signature check failed: ${r.reason}`);
    signedBy = r.key;
  }
  const entries = await readTarEntries(body.content);
  const index = entries.find((e) => e.name === 'APKINDEX');
  if (!index) throw new Error(`${what}: no APKINDEX file inside`);
  let date: Date | undefined;
  for (const e of entries) if (e.mtime && (!date || e.mtime > date)) date = e.mtime;
  return {
    records: parseApkDb(index.data.toString('utf8'), `${what}:APKINDEX`, keep),
    description: entries.find((e) => e.name === 'DESCRIPTION')?.data.toString('utf8').trim(),
    date,
    signedBy,
  };
}

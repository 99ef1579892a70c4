/**
 * Release / InRelease files: the signed list of index hashes of one suite (the Debian "Release" format:
 * https://wiki.debian.org/DebianRepository/Format#A.22Release.22_files). Parsing is pure; reading verifies.
 */
import { readFile } from 'node:fs/promises';
import { PingetError } from '../../src/errors.js';
import { openpgpModule, verifyCleartext, verifyDetached, type PublicKey } from '../../src/verify/openpgp.js';
import { sha256Bytes } from '../../src/verify/sha256.js';
import { parseParagraphs } from './deb822.js';

export interface ReleaseFile {
  suite?: string;
  codename?: string;
  date?: Date;
  /** Relative path (e.g. `main/binary-amd64/Packages.xz`) -> sha256 and size. */
  sha256: Map<string, { sha256: string; size: number }>;
}

export function parseRelease(text: string, file = 'Release'): ReleaseFile {
  const [p] = parseParagraphs(text);
  if (!p) throw new PingetError('BAD_INPUT', `${file}: empty Release file`);
  const f = p.fields;
  const out: ReleaseFile = { suite: f.get('suite'), codename: f.get('codename'), sha256: new Map() };
  const date = f.get('date');
  if (date) {
    const t = Date.parse(date);
    if (!Number.isNaN(t)) out.date = new Date(t);
  }
  for (const line of (f.get('sha256') ?? '').split('\n')) {
    const [hash, size, path] = line.trim().split(/\s+/);
    if (hash && size && path && /^[0-9a-f]{64}$/i.test(hash)) out.sha256.set(path, { sha256: hash.toLowerCase(), size: Number(size) });
  }
  return out;
}

/** The signed text of a suite's release file: `<prefix>_InRelease`, or `<prefix>_Release` + `<prefix>_Release.gpg`. */
export async function readSignedRelease(
  listsDir: string,
  prefix: string,
  keys: PublicKey[] | undefined,
): Promise<{ text: string; file: string }> {
  const inRelease = `${listsDir}/${prefix}_InRelease`;
  const inText = await readFile(inRelease, 'utf8').catch(() => undefined);
  if (inText !== undefined) {
    if (!keys) return { text: await stripClearsign(inText, inRelease), file: inRelease };
    return { text: await verifyCleartext(inText, keys, inRelease), file: inRelease };
  }
  const release = `${listsDir}/${prefix}_Release`;
  const data = await readFile(release).catch(() => undefined);
  if (!data) throw new PingetError('BAD_INPUT', `${inRelease}: missing (nor ${prefix}_Release); run apt-get update`);
  if (keys) {
    const sig = await readFile(`${release}.gpg`).catch(() => undefined);
    if (!sig) throw new PingetError('INTEGRITY', `${release}.gpg: missing, so ${release} is unsigned; run apt-get update, or pass --allow-unsigned`);
    await verifyDetached(data, sig, keys, `${release}.gpg`);
  }
  return { text: data.toString('utf8'), file: release };
}

export async function stripClearsign(text: string, file: string): Promise<string> {
  try {
    const openpgp = await openpgpModule();
    return (await openpgp.readCleartextMessage({ cleartextMessage: text })).getText();
  } catch {
    if (text.includes('-----BEGIN PGP SIGNED MESSAGE-----')) throw new PingetError('BAD_INPUT', `${file}: malformed cleartext-signed file`);
    return text;
  }
}

/** Size and sha256 of some bytes. */
export interface Digest {
  size: number;
  sha256: string;
}

function indexEntries(release: ReleaseFile, releaseFile: string, relPath: string, ext: string, listFile: string) {
  const plainEntry = release.sha256.get(relPath);
  const storedEntry = ext ? release.sha256.get(`${relPath}${ext}`) : undefined;
  if (!plainEntry && !storedEntry) {
    throw new PingetError('INTEGRITY', `${listFile}: ${relPath} is not listed in ${releaseFile}'s SHA256 section; run apt-get update`);
  }
  return { plainEntry, storedEntry };
}

const same = (d: Digest | undefined, e: Digest | undefined) => !!d && !!e && d.size === e.size && d.sha256 === e.sha256;

/**
 * Checks an index against its suite's release file. apt may store the index decompressed or recompressed
 * (e.g. as .lz4, which Release never lists), so the stored bytes are matched against the entry for the same
 * extension when there is one, and the decompressed bytes against the uncompressed entry. Takes digests
 * computed while the index was read (`stored` undefined when its form cannot be listed).
 */
export function checkIndexDigests(release: ReleaseFile, releaseFile: string, relPath: string, ext: string, stored: Digest | undefined, plain: Digest, listFile: string): void {
  const { plainEntry, storedEntry } = indexEntries(release, releaseFile, relPath, ext, listFile);
  if (same(stored, storedEntry) || same(plain, plainEntry)) return;
  throw new PingetError('INTEGRITY', `${listFile}: sha256 does not match ${relPath} in the signed ${releaseFile}; the index was altered or is stale, run apt-get update`);
}

/** checkIndexDigests over the bytes themselves. */
export function checkIndex(release: ReleaseFile, releaseFile: string, relPath: string, ext: string, stored: Uint8Array, plain: Uint8Array, listFile: string): void {
  const digest = (b: Uint8Array): Digest => ({ size: b.length, sha256: sha256Bytes(b) });
  checkIndexDigests(release, releaseFile, relPath, ext, ext ? digest(stored) : undefined, digest(plain), listFile);
}

/**
 * SHA256SUMS lockfiles: strict parsing of untrusted input and deterministic output.
 * The line format is coreutils' `sha256sum` (two spaces, or ` *` for binary mode), which is also
 * what repro-get writes, so `sha256sum -c` and repro-get read what pinget writes and vice versa.
 */
import { readFile } from 'node:fs/promises';
import { PingetError } from './errors.js';

export const LOCKFILE_MAGIC = '# pinget lockfile v1';
const FORMAT_VERSION = 1;

export interface LockEntry {
  /** 64 lowercase hex digits. */
  sha256: string;
  /** Path relative to the distro's repository root, e.g. `pool/main/h/hello/hello_2.10-2_amd64.deb`. */
  path: string;
}

export interface Lockfile {
  /** `# key: value` headers, in the order read or set. */
  headers: Record<string, string>;
  /** Package lines, sorted by path, one per path. */
  entries: LockEntry[];
  /** sha256 -> CID, from `/ipfs/<CID>` lines. */
  cids: Map<string, string>;
}

/** Headers written first, in this order; any others follow sorted by key. */
const HEADER_ORDER = ['distro', 'arch', 'snapshot'];
const HEX64 = /^[0-9a-fA-F]{64}$/;
const HEADER_LINE = /^#\s*([A-Za-z][A-Za-z0-9_.-]*):\s+(.*?)\s*$/;
const MAGIC_LINE = /^#\s*pinget lockfile v(\d+)\s*$/;
const IPFS_PATH = /^\/ipfs\/([A-Za-z0-9]+)$/;

export function emptyLockfile(): Lockfile {
  return { headers: {}, entries: [], cids: new Map() };
}

function fail(file: string, line: number, what: string): never {
  throw new PingetError('BAD_INPUT', `${file}:${line}: ${what}`);
}

/** Why a lockfile path is unsafe, or undefined when it is fine. Lockfiles are untrusted input. */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'empty path';
  if (path.includes('\0')) return 'path contains a NUL byte';
  if (path.includes('\\')) return 'path contains a backslash';
  if (/[\x00-\x1f\x7f]/.test(path)) return 'path contains a control character';
  if (path.startsWith('/')) return 'path is absolute (only /ipfs/<CID> lines may start with /)';
  if (path.split('/').some((part) => part === '..')) return 'path contains a ".." component';
  if (path.split('/').some((part) => part === '' || part === '.')) return 'path contains an empty or "." component';
  return undefined;
}

export function parseLockfile(text: string, file = 'SHA256SUMS'): Lockfile {
  const lock = emptyLockfile();
  const byPath = new Map<string, { sha256: string; line: number }>();
  const ipfsLines: { sha256: string; cid: string; line: number }[] = [];
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trimStart();
    if (trimmed === '') return;
    if (trimmed.startsWith('#')) {
      const magic = MAGIC_LINE.exec(trimmed);
      if (magic) {
        if (Number(magic[1]) > FORMAT_VERSION) {
          fail(file, lineNo, `lockfile format v${magic[1]} is newer than this pinget understands (v${FORMAT_VERSION}); upgrade pinget`);
        }
        return;
      }
      const header = HEADER_LINE.exec(trimmed);
      if (header && trimmed === line) lock.headers[header[1].toLowerCase()] = header[2];
      return;
    }
    if (line !== trimmed) fail(file, lineNo, 'line starts with white space; expected "<sha256>  <path>"');
    if (line.startsWith('\\')) {
      fail(file, lineNo, 'escaped file name (sha256sum writes these for names with a backslash or newline); such paths are not accepted');
    }
    const hash = line.slice(0, 64);
    if (!HEX64.test(hash)) {
      fail(file, lineNo, 'expected "<sha256>  <path>": the line must start with 64 hex digits');
    }
    const sep = line.slice(64, 66);
    if (sep !== '  ' && sep !== ' *') {
      fail(file, lineNo, 'expected two spaces (or " *") between the hash and the path');
    }
    const sha256 = hash.toLowerCase();
    const path = line.slice(66);
    const ipfs = IPFS_PATH.exec(path);
    if (ipfs) {
      ipfsLines.push({ sha256, cid: ipfs[1], line: lineNo });
      return;
    }
    const unsafe = unsafePathReason(path);
    if (unsafe) fail(file, lineNo, `${unsafe}: ${JSON.stringify(path)}`);
    const seen = byPath.get(path);
    if (seen) {
      if (seen.sha256 !== sha256) {
        fail(file, lineNo, `${path} is listed again with a different hash (first at line ${seen.line}); keep one line`);
      }
      return;
    }
    byPath.set(path, { sha256, line: lineNo });
  });

  const hashes = new Set([...byPath.values()].map((v) => v.sha256));
  for (const { sha256, cid, line } of ipfsLines) {
    if (!hashes.has(sha256)) fail(file, line, `/ipfs/${cid} names a hash that no package line lists`);
    const known = lock.cids.get(sha256);
    if (known && known !== cid) fail(file, line, `a second CID for the same hash (${known}); keep one`);
    lock.cids.set(sha256, cid);
  }
  lock.entries = [...byPath.entries()].map(([path, v]) => ({ sha256: v.sha256, path })).sort(byEntryPath);
  return lock;
}

export async function readLockfile(file: string, readText: (f: string) => Promise<string> = (f) => readFile(f, 'utf8')): Promise<Lockfile> {
  let text: string;
  try {
    text = await readText(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new PingetError('BAD_INPUT', `${file}: cannot read the lockfile: ${why}`, { cause: e });
  }
  return parseLockfile(text, file);
}

export function byEntryPath(a: LockEntry, b: LockEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function orderedHeaderKeys(headers: Record<string, string>): string[] {
  const keys = Object.keys(headers);
  const known = HEADER_ORDER.filter((k) => keys.includes(k));
  const rest = keys.filter((k) => !HEADER_ORDER.includes(k)).sort();
  return [...known, ...rest];
}

/** Deterministic text: magic line, headers, package lines sorted by path, then /ipfs/ lines. LF only. */
export function formatLockfile(lock: Lockfile): string {
  const out: string[] = [LOCKFILE_MAGIC];
  for (const key of orderedHeaderKeys(lock.headers)) {
    const value = lock.headers[key].replace(/[\r\n]+/g, ' ');
    out.push(`# ${key}: ${value}`);
  }
  const entries = [...lock.entries].sort(byEntryPath);
  for (const e of entries) out.push(`${e.sha256}  ${e.path}`);
  const listed = new Set(entries.map((e) => e.sha256));
  const ipfs = [...lock.cids.entries()]
    .filter(([sha]) => listed.has(sha))
    .map(([sha, cid]) => `${sha}  /ipfs/${cid}`)
    .sort();
  out.push(...ipfs);
  return out.join('\n') + '\n';
}

/** Builds a lockfile from entries, rejecting one path with two hashes. */
export function makeLockfile(entries: LockEntry[], headers: Record<string, string> = {}): Lockfile {
  const byPath = new Map<string, string>();
  for (const e of entries) {
    const unsafe = unsafePathReason(e.path);
    if (unsafe) throw new PingetError('INTERNAL', `refusing to write ${JSON.stringify(e.path)}: ${unsafe}`);
    const seen = byPath.get(e.path);
    if (seen && seen !== e.sha256) {
      throw new PingetError('INTEGRITY', `${e.path} was found with two different hashes (${seen} and ${e.sha256})`);
    }
    byPath.set(e.path, e.sha256);
  }
  const unique = [...byPath.entries()].map(([path, sha256]) => ({ path, sha256 })).sort(byEntryPath);
  return { headers: { ...headers }, entries: unique, cids: new Map() };
}

/** Drops entries whose hash is already pinned by one of the base lockfiles (e.g. a base image's). */
export function dedupe(entries: LockEntry[], bases: Lockfile[]): LockEntry[] {
  const known = new Set<string>();
  for (const b of bases) for (const e of b.entries) known.add(e.sha256);
  return entries.filter((e) => !known.has(e.sha256));
}

export function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

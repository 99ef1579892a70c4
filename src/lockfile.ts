/**
 * SHA256SUMS lockfiles: strict parsing of untrusted input and deterministic output.
 * The line format is coreutils' `sha256sum` (two spaces, or ` *` for binary mode), which is also
 * what repro-get writes, so `sha256sum -c` and repro-get read what pinget writes and vice versa.
 */
import { PingetError, reasonOf } from './errors.js';
import { openRegular } from './fs-safe.js';
import { decodeUtf8 } from './text-decode.js';

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
// Each pattern is anchored and has at most one unbounded part, so matching stays linear in the line.
const HEADER_KEY = /^#\s*([A-Za-z][A-Za-z0-9_.-]*):\s/;
const MAGIC_LINE = /^#\s*pinget lockfile v(\d+)\s*$/;
const IPFS_PATH = /^\/ipfs\/([A-Za-z0-9]+)$/;
/**
 * Characters no lockfile line may hold: C0 controls but tab (CR only before LF), DEL, C1 controls
 * (U+009B is a terminal's CSI), and the bidi controls of "Trojan source" (CVE-2021-42574) that make a
 * reviewed file read differently from what it says.
 */
const FORBIDDEN = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
/** Linux's NAME_MAX and PATH_MAX, in bytes. */
export const MAX_COMPONENT_BYTES = 255;
export const MAX_PATH_BYTES = 4096;

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
  if (/[\x00-\x1f\x7f-\x9f]/.test(path)) return 'path contains a control character';
  if (/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(path)) return 'path contains a bidirectional control character';
  if (path.startsWith('/')) return 'path is absolute (only /ipfs/<CID> lines may start with /)';
  const parts = path.split('/');
  if (parts.some((part) => part === '..')) return 'path contains a ".." component';
  if (parts.some((part) => part === '' || part === '.')) return 'path contains an empty or "." component';
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `path is longer than ${MAX_PATH_BYTES} bytes`;
  const long = parts.find((part) => Buffer.byteLength(part) > MAX_COMPONENT_BYTES);
  if (long) return `path component of ${Buffer.byteLength(long)} bytes (at most ${MAX_COMPONENT_BYTES}): ${JSON.stringify(long.slice(0, 40))}…`;
  return undefined;
}

function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function describeChar(c: string): string {
  const cp = c.codePointAt(0)!;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp === 0x0d) return 'a carriage return not followed by a line feed (CR line endings are not accepted)';
  if (cp === 0) return 'a NUL byte (U+0000)';
  if (cp < 0x20 || cp === 0x7f) return `a control character (${hex})`;
  if (cp <= 0x9f) return `a C1 control character (${hex})`;
  return `a bidirectional control character (${hex})`;
}

/** Rejects forbidden characters anywhere in the text, comments included, naming the first one's line. */
function checkCharacters(text: string, file: string): void {
  FORBIDDEN.lastIndex = 0;
  for (let m = FORBIDDEN.exec(text); m; m = FORBIDDEN.exec(text)) {
    const c = m[0];
    if (c === '\r' && (m.index + 1 === text.length || text[m.index + 1] === '\n')) continue;
    fail(file, lineAt(text, m.index), `the line holds ${describeChar(c)}`);
  }
}

/** A header line's key and value, or undefined. The value is trimmed without a backtracking pattern. */
function parseHeader(line: string): [string, string] | undefined {
  const key = HEADER_KEY.exec(line);
  if (!key) return undefined;
  return [key[1].toLowerCase(), line.slice(key[0].length).trim()];
}

/** The first path that is also a parent directory of another path (`a` and `a/b`: no file system holds both). */
function checkNoFileIsADirectory(byPath: Map<string, { line: number }>, file: string): void {
  const dirs = new Map<string, { path: string; line: number }>();
  for (const [path, { line }] of byPath) {
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
      const dir = path.slice(0, i);
      if (!dirs.has(dir)) dirs.set(dir, { path, line });
    }
  }
  const clashes = [...byPath].flatMap(([path, { line }]) => {
    const under = dirs.get(path);
    return under ? [{ path, line, under }] : [];
  });
  if (clashes.length === 0) return;
  const first = clashes.reduce((a, b) => (Math.max(b.line, b.under.line) < Math.max(a.line, a.under.line) ? b : a));
  fail(file, Math.max(first.line, first.under.line), `${first.path} (line ${first.line}) is a file but also the directory of ${first.under.path} (line ${first.under.line}); keep one`);
}

export interface ParseOptions {
  /** Accept a lockfile without package lines (otherwise exit 2: most likely a truncated or wrong file). */
  allowEmpty?: boolean;
  /** Where the command has a way to accept one (`--allow-empty`), the hint naming it; other commands name none. */
  emptyHint?: string;
}

export function parseLockfile(text: string, file = 'SHA256SUMS', opts: ParseOptions = { allowEmpty: true }): Lockfile {
  const lock = emptyLockfile();
  const byPath = new Map<string, { sha256: string; line: number }>();
  const ipfsLines: { sha256: string; cid: string; line: number }[] = [];
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  checkCharacters(text, file);
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
      const header = trimmed === line ? parseHeader(line) : undefined;
      if (header) lock.headers[header[0]] = header[1];
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
    if (unsafe) fail(file, lineNo, `${unsafe}: ${JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}…` : path)}`);
    const seen = byPath.get(path);
    if (seen) {
      if (seen.sha256 !== sha256) {
        fail(file, lineNo, `${path} is listed again with a different hash (first at line ${seen.line}); keep one line`);
      }
      return;
    }
    byPath.set(path, { sha256, line: lineNo });
  });
  checkNoFileIsADirectory(byPath, file);

  const hashes = new Set([...byPath.values()].map((v) => v.sha256));
  for (const { sha256, cid, line } of ipfsLines) {
    if (!hashes.has(sha256)) fail(file, line, `/ipfs/${cid} names a hash that no package line lists`);
    const known = lock.cids.get(sha256);
    if (known && known !== cid) fail(file, line, `a second CID for the same hash (${known}); keep one`);
    lock.cids.set(sha256, cid);
  }
  lock.entries = [...byPath.entries()].map(([path, v]) => ({ sha256: v.sha256, path })).sort(byEntryPath);
  if (lock.entries.length === 0 && !opts.allowEmpty) {
    fail(file, Math.max(1, lines.length), `no package lines (an empty or comment-only lockfile)${opts.emptyHint ? `; ${opts.emptyHint}` : ''}`);
  }
  return lock;
}

/** Decodes strict UTF-8: invalid bytes are an error naming their line, never a silent U+FFFD. */
export function decodeLockfile(bytes: Uint8Array, file: string): string {
  const r = decodeUtf8(bytes);
  if ('text' in r) return r.text;
  fail(file, r.badLine, 'the line is not valid UTF-8');
}

/**
 * The largest lockfile pinget reads: 64 MiB (one of 100,000 packages is about 15 MB). Standard input,
 * `/dev/stdin` and regular files alike: past it, exit 2, and nothing more is read (memory stays flat
 * whatever stdin is: /dev/zero, an endless pipe).
 */
export const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;

function tooLarge(file: string): PingetError {
  return new PingetError('BAD_INPUT', `${file}: the lockfile is larger than ${MAX_LOCKFILE_BYTES >> 20} MiB; refusing to read more (is it the right file?)`);
}

/** Reads a stream whole, up to `limit` bytes; one byte more stops it (the source is destroyed) and throws. */
export async function readBounded(source: AsyncIterable<Uint8Array | string>, limit: number, onTooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of source) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    total += chunk.length;
    if (total > limit) {
      (source as { destroy?: () => void }).destroy?.();
      throw onTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

export interface ReadOptions extends ParseOptions {
  /** Read these bytes (stdin) instead of opening the file. */
  source?: AsyncIterable<Uint8Array | string>;
}

async function readRegularFile(file: string): Promise<Buffer> {
  let fh;
  try {
    fh = await openRegular(file);
  } catch (e) {
    const why = e instanceof PingetError ? e.message.slice(file.length + 2).replace(/^cannot read: /, '') : reasonOf(e);
    throw new PingetError('BAD_INPUT', `${file}: cannot read the lockfile: ${why}`, { cause: e });
  }
  try {
    // A regular file can still be huge (or grow while read): bounded like stdin.
    if ((await fh.stat()).size > MAX_LOCKFILE_BYTES) throw tooLarge(file);
    return await readBounded(fh.createReadStream({ start: 0, highWaterMark: 1 << 20, autoClose: false }), MAX_LOCKFILE_BYTES, () => tooLarge(file));
  } catch (e) {
    if (e instanceof PingetError) throw e;
    const why = (e as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a directory' : reasonOf(e);
    throw new PingetError('BAD_INPUT', `${file}: cannot read the lockfile: ${why}`, { cause: e });
  } finally {
    await fh.close();
  }
}

export async function readLockfile(file: string, opts: ReadOptions = {}): Promise<Lockfile> {
  return (await readLockfileBytes(file, opts)).lock;
}

/** The lockfile and the bytes it was parsed from (an SBOM names the lockfile by their digest). */
export async function readLockfileBytes(file: string, opts: ReadOptions = {}): Promise<{ lock: Lockfile; bytes: Buffer }> {
  let bytes: Buffer;
  if (opts.source) {
    bytes = await readBounded(opts.source, MAX_LOCKFILE_BYTES, () => tooLarge(file));
  } else {
    bytes = await readRegularFile(file);
  }
  return { lock: parseLockfile(decodeLockfile(bytes, file), file, opts), bytes };
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

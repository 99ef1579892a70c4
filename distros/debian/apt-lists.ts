/**
 * apt's downloaded indexes in <root>/var/lib/apt/lists: which `Packages` files there are, which release file
 * covers each, and a fast scan of a Packages index for the records of installed packages.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { decompressStream } from '../../src/decompress.js';
import type { Digest } from './release.js';

export interface PackagesRecord {
  name: string;
  version: string;
  arch: string;
  /** Pool path relative to the repository root, e.g. `pool/main/h/hello/hello_2.10-2_amd64.deb`. */
  filename: string;
  sha256: string;
}

export interface ListFile {
  /** File name inside the lists directory. */
  name: string;
  /** The release file's name prefix (`<prefix>_InRelease`), when one covers this index. */
  releasePrefix?: string;
  /** Path of the index inside the suite, uncompressed (e.g. `main/binary-amd64/Packages`). */
  relPath: string;
  /** The stored compression extension, with its dot ('' when plain). */
  ext: string;
}

const PACKAGES = /_Packages(\.(?:gz|xz|lz4|zst|bz2))?$/;

/** The Packages indexes in a lists directory, sorted by name, each linked to the nearest release file. */
export async function findPackagesLists(listsDir: string): Promise<ListFile[]> {
  const names = (await readdir(listsDir).catch(() => [] as string[])).sort();
  return planLists(names);
}

export function planLists(names: string[]): ListFile[] {
  const releases = new Set<string>();
  for (const n of names) {
    if (n.endsWith('_InRelease')) releases.add(n.slice(0, -'_InRelease'.length));
    else if (n.endsWith('_Release')) releases.add(n.slice(0, -'_Release'.length));
  }
  const out: ListFile[] = [];
  for (const name of names) {
    const m = PACKAGES.exec(name);
    if (!m) continue;
    const ext = m[1] ?? '';
    const base = name.slice(0, name.length - ext.length);
    let prefix: string | undefined;
    for (let k = base.lastIndexOf('_'); k > 0; k = base.lastIndexOf('_', k - 1)) {
      if (releases.has(base.slice(0, k))) {
        prefix = base.slice(0, k);
        break;
      }
    }
    const rest = prefix ? base.slice(prefix.length + 1) : 'Packages';
    out.push({ name, releasePrefix: prefix, relPath: decodeURIComponent(rest.replace(/_/g, '/')), ext });
  }
  return out;
}

/** The value of `name` (with its colon) in text[start, end), or undefined. */
function field(text: string, start: number, end: number, name: string): string | undefined {
  let i: number;
  if (text.startsWith(name, start)) i = start + name.length;
  else {
    i = text.indexOf(`\n${name}`, start);
    if (i < 0 || i >= end) return undefined;
    i += name.length + 1;
  }
  let e = text.indexOf('\n', i);
  if (e < 0 || e > end) e = end;
  return text.slice(i, e).trim();
}

const EMPTY = Buffer.alloc(0);
const CR = 13;
const NL2 = Buffer.from('\n\n');
const PACKAGE = Buffer.from('Package:');
const NL_PACKAGE = Buffer.from('\nPackage:');

/** The end of the first record boundary (blank line, LF or CRLF) at or after `from`, or -1. */
function boundaryAfter(b: Buffer, from: number): number {
  const lf = b.indexOf('\n\n', from);
  const crlf = b.indexOf('\n\r\n', from);
  if (lf < 0) return crlf < 0 ? -1 : crlf + 3;
  return crlf < 0 || lf < crlf ? lf + 2 : crlf + 3;
}

/** The end of the last record boundary in `b`, or -1. */
function lastBoundary(b: Buffer): number {
  const lf = b.lastIndexOf('\n\n');
  const crlf = b.lastIndexOf('\n\r\n');
  return Math.max(lf < 0 ? -1 : lf + 2, crlf < 0 ? -1 : crlf + 3);
}

/**
 * Scans a Packages index (decompressed), fed in chunks of any size, for the records whose
 * `name\0version\0arch` key is in `want` (all records when `want` is undefined). Works on a latin1 view of the
 * bytes with indexOf, looking past a record's first line only when its name is wanted, so a full Debian main
 * index (~50 MB, 60k records) takes a fraction of a second; only the records not yet complete at a chunk's end
 * are carried over, so the index is never held whole. The fields read are ASCII.
 */
export class PackagesScanner {
  readonly records: PackagesRecord[] = [];
  private rest: Buffer = EMPTY;
  private readonly names?: Set<string>;

  private readonly want?: Set<string>;

  /** `want` holds `name\0version\0arch` keys, or with `byName` plain names (every version and arch of them). */
  constructor(want?: Set<string>, opts: { byName?: boolean } = {}) {
    this.want = opts.byName ? undefined : want;
    this.names = want && (opts.byName ? want : new Set([...want].map((k) => k.slice(0, k.indexOf('\0')))));
  }

  /** Takes a chunk; it may be reused by the caller once push returns (what is kept is copied). */
  push(chunk: Uint8Array): void {
    let c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.rest.length) {
      // Complete the record that spans the boundary with a small join, then scan the chunk in place.
      const first = boundaryAfter(c, 0);
      if (first < 0) {
        this.rest = Buffer.concat([this.rest, c]);
        return;
      }
      this.scan(Buffer.concat([this.rest, c.subarray(0, first)]));
      this.rest = EMPTY;
      c = c.subarray(first);
    }
    const cut = lastBoundary(c);
    if (cut < 0) {
      this.rest = Buffer.from(c);
      return;
    }
    this.scan(c.subarray(0, cut));
    this.rest = Buffer.from(c.subarray(cut));
  }

  end(): PackagesRecord[] {
    if (this.rest.length) this.scan(this.rest);
    this.rest = EMPTY;
    return this.records;
  }

  private scan(data: Buffer): void {
    if (data.includes(CR)) {
      // CRLF lists (rare): normalise this stretch as text; it holds whole records only.
      const text = data.toString('latin1').replace(/\r\n/g, '\n');
      this.scanRecords(Buffer.from(text, 'latin1'));
    } else this.scanRecords(data);
  }

  /**
   * Walks the records of LF-only bytes. Only a record's name is turned into a string; the rest of a
   * record becomes text only when its name is wanted, so the 50 MB of a full index are never copied.
   */
  private scanRecords(data: Buffer): void {
    const { names, want, records } = this;
    const len = data.length;
    let pos = 0;
    while (pos < len) {
      while (data[pos] === 10) pos++;
      if (pos >= len) break;
      let end = data.indexOf(NL2, pos);
      if (end < 0) end = len;
      const start = pos;
      pos = end + 2;
      let i = data.compare(PACKAGE, 0, PACKAGE.length, start, start + PACKAGE.length) === 0 ? start + PACKAGE.length : -1;
      if (i < 0) {
        i = data.indexOf(NL_PACKAGE, start);
        if (i < 0 || i >= end) continue;
        i += NL_PACKAGE.length;
      }
      let e = data.indexOf(10, i);
      if (e < 0 || e > end) e = end;
      const name = data.toString('latin1', i, e).trim();
      if (!name || (names && !names.has(name))) continue;
      const text = data.toString('latin1', start, end);
      const version = field(text, 0, text.length, 'Version:');
      const arch = field(text, 0, text.length, 'Architecture:');
      if (!version || !arch) continue;
      if (want && !want.has(`${name}\0${version}\0${arch}`)) continue;
      const filename = field(text, 0, text.length, 'Filename:');
      const sha256 = field(text, 0, text.length, 'SHA256:');
      if (!filename || !sha256) continue;
      records.push({ name, version, arch, filename, sha256: sha256.toLowerCase() });
    }
  }
}

/** PackagesScanner over one whole buffer. */
export function scanPackages(data: Uint8Array, want?: Set<string>): PackagesRecord[] {
  const scanner = new PackagesScanner(want);
  scanner.push(data);
  return scanner.end();
}

// Compressed forms a Release file can list; apt's own recompression (.lz4) it never does.
const LISTABLE = new Set(['.gz', '.xz', '.bz2', '.lzma', '.zst']);

export interface ScannedList {
  records: PackagesRecord[];
  /** The stored bytes' digest, when their form is one a Release can list. */
  stored?: Digest;
  /** The decompressed bytes' digest. */
  plain: Digest;
}

function digester(): { update(c: Uint8Array): void; digest(): Digest } {
  const h = createHash('sha256');
  let size = 0;
  return {
    update(c) {
      h.update(c);
      size += c.length;
    },
    digest: () => ({ size, sha256: h.digest('hex') }),
  };
}

async function* tap(input: AsyncIterable<Uint8Array>, d: { update(c: Uint8Array): void } | undefined): AsyncGenerator<Uint8Array> {
  for await (const c of input) {
    d?.update(c);
    yield c;
  }
}

/**
 * Streams one list file through its decompressor into a PackagesScanner, hashing the stored and the
 * decompressed bytes on the way, so the caller can check the index against its release file afterwards
 * without reading it again.
 */
export async function scanPackagesFile(file: string, want: Set<string>, opts: { byName?: boolean } = {}): Promise<ScannedList> {
  const ext = extname(file);
  const stored = LISTABLE.has(ext) ? digester() : undefined;
  const plain = digester();
  const scanner = new PackagesScanner(want, opts);
  const input = createReadStream(file, { highWaterMark: 256 << 10 });
  try {
    for await (const chunk of tap(decompressStream(tap(input, stored), basename(file)), plain)) scanner.push(chunk);
  } finally {
    input.destroy();
  }
  return { records: scanner.end(), stored: stored?.digest(), plain: plain.digest() };
}

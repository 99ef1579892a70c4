/**
 * The control fields of a .deb read in-process, instead of one `dpkg-deb -f` per file. The format (deb(5)):
 * an ar archive ("!<arch>\n", 60-byte member headers: name 16, mtime 12, uid 6, gid 6, mode 8, size 10,
 * "`\n"; member data padded to an even offset; names may carry a trailing "/"), whose first member is
 * `debian-binary` ("2.x") and whose second is `control.tar`, plain or `.gz`, `.xz` or `.zst`; that tar holds
 * `./control`, one deb822 paragraph. Only the head of the file is read (64 KiB at once, more only for a bigger
 * control member): the data member is never touched.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { decompress } from '../../src/decompress.js';
import { parseParagraphs } from './deb822.js';

const AR_MAGIC = '!<arch>\n';
const HEADER = 60;
/** A control.tar larger than this is not a package's (dpkg-deb's own limit is far above any real one). */
const MAX_CONTROL_BYTES = 64 << 20;

interface Member {
  name: string;
  offset: number;
  size: number;
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** A .deb's bytes by offset: its head is read once, and nearly every control member lies inside it. */
class DebBytes {
  private constructor(
    private readonly fh: FileHandle,
    private readonly head: Buffer,
  ) {}

  static async open(fh: FileHandle): Promise<DebBytes> {
    return new DebBytes(fh, await readAt(fh, 0, HEAD_BYTES));
  }

  at(offset: number, length: number): Promise<Buffer> {
    if (offset + length <= this.head.length || this.head.length < HEAD_BYTES) return Promise.resolve(this.head.subarray(offset, offset + length));
    return readAt(this.fh, offset, length);
  }
}

/** How much of a .deb is read first: the ar headers, debian-binary and a control.tar of usual size. */
const HEAD_BYTES = 64 * 1024;

async function memberAt(deb: DebBytes, offset: number): Promise<Member> {
  const h = await deb.at(offset, HEADER);
  if (h.length < HEADER || h[58] !== 0x60 || h[59] !== 0x0a) throw new Error('truncated or malformed ar member header');
  const sizeText = h.subarray(48, 58).toString('latin1').trim();
  if (!/^\d+$/.test(sizeText)) throw new Error(`bad ar member size "${sizeText}"`);
  return { name: h.subarray(0, 16).toString('latin1').trim().replace(/\/$/, ''), offset: offset + HEADER, size: Number(sizeText) };
}

/** The text of ./control inside a control.tar. */
async function controlFromTar(tarBytes: Buffer): Promise<string> {
  const extract = tar.extract();
  extract.end(tarBytes);
  for await (const entry of extract) {
    const name = entry.header.name.replace(/^(\.\/)+/, '');
    if (name === 'control' && (entry.header.type ?? 'file') === 'file') {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      extract.destroy();
      return Buffer.concat(chunks).toString('utf8');
    }
    entry.resume();
  }
  throw new Error('control.tar has no ./control');
}

/** The fields of a .deb's control file (names lowercased). Throws a plain Error saying what is wrong. */
export async function readDebControlFields(file: string): Promise<Map<string, string>> {
  const fh = await open(file, 'r');
  try {
    const deb = await DebBytes.open(fh);
    if ((await deb.at(0, AR_MAGIC.length)).toString('latin1') !== AR_MAGIC) throw new Error('not a Debian binary package (no ar archive magic)');
    const first = await memberAt(deb, AR_MAGIC.length);
    if (first.name !== 'debian-binary') throw new Error(`first member is "${first.name}", not debian-binary`);
    const format = (await deb.at(first.offset, Math.min(first.size, 16))).toString('latin1');
    if (!/^2\.\d+\n/.test(format)) throw new Error(`unsupported package format "${format.trim()}"`);
    const control = await memberAt(deb, first.offset + first.size + (first.size % 2));
    const m = /^control\.tar(?:\.(gz|xz|zst))?$/.exec(control.name);
    if (!m) throw new Error(`second member is "${control.name}", not control.tar`);
    if (control.size > MAX_CONTROL_BYTES) throw new Error(`control member of ${control.size} bytes`);
    const raw = await deb.at(control.offset, control.size);
    if (raw.length < control.size) throw new Error('truncated control member');
    // A control.tar.gz is a few KiB: inflating it inline beats a round trip through the thread pool.
    const tarBytes = m[1] === 'gz' ? gunzipSync(raw) : await decompress(raw, control.name);
    const text = await controlFromTar(tarBytes);
    const para = parseParagraphs(text)[0];
    if (!para) throw new Error('empty control file');
    return para.fields;
  } finally {
    await fh.close();
  }
}

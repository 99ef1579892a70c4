/**
 * Streaming reads of apt's lists: decompressStream over real CLI output fed in awkward chunk sizes, the
 * Packages scanner across chunk boundaries, and one-pass hashing checked against a Release file.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PackagesScanner, scanPackages, scanPackagesFile } from '../distros/debian/apt-lists.js';
import { checkIndexDigests, parseRelease } from '../distros/debian/release.js';
import { decompressStream } from '../src/decompress.js';
import { PingetError } from '../src/errors.js';
import { run } from '../src/exec.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { packWithRealTools } from './helpers/compress.js';

const tmp: string[] = [];
after(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});

async function* chunked(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let i = 0;
  for (let k = 0; i < data.length; k++) {
    const n = sizes[k % sizes.length];
    yield data.subarray(i, i + n);
    i += n;
  }
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

function packagesText(n: number): string {
  const recs: string[] = [];
  for (let i = 0; i < n; i++) {
    recs.push(
      `Package: pkg${i}\nVersion: 1.${i}\nArchitecture: amd64\nDescription: ${'words '.repeat(i % 50)}\n more\nFilename: pool/main/p/pkg${i}/pkg${i}_1.${i}_amd64.deb\nSHA256: ${sha256Bytes(Buffer.from(String(i))).toUpperCase()}\n`,
    );
  }
  return recs.join('\n');
}

test('decompressStream: gzip, xz, lz4 (linked and independent blocks), zstd, plain, in 1-byte to 100 KiB chunks; corrupt input is BAD_INPUT', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-dstream-'));
  tmp.push(dir);
  const plain = Buffer.from(packagesText(4000));
  const packs = await packWithRealTools(dir, plain, [
    ['gzip', ['-k', '-9'], '.gz'],
    ['xz', ['-k'], '.xz'],
    ['lz4', ['-q', '-f', '-BD', '-B4'], '.lz4'],
    ['lz4', ['-q', '-f', '--content-size', '-B4', '--no-frame-crc'], '.lz4'],
    ['zstd', ['-q', '-k'], '.zst'],
  ]);
  for (const { cmd, args, ext, packed } of packs) {
    for (const sizes of [[1 << 20], [1, 7, 4093, 100_000], [3]]) {
      if (sizes[0] === 3 && ext !== '.lz4') continue; // byte-exact framing is this module's own code only for LZ4
      const out = await collect(decompressStream(chunked(packed, sizes), `Packages${ext}`));
      assert.ok(out.equals(plain), `${cmd} ${args.join(' ')} in chunks of ${sizes.join(',')}`);
    }
    // A plain array of chunks is an input too (what a caller holding the bytes passes).
    assert.ok((await collect(decompressStream([packed], `Packages${ext}`))).equals(plain), `${cmd}: array input`);
    if (ext !== '.xz') {
      await assert.rejects(
        collect(decompressStream(chunked(packed.subarray(0, Math.floor(packed.length / 2)), [999]), `x${ext}`)),
        (e: unknown) => e instanceof PingetError && e.code === 'BAD_INPUT' && e.message.includes(`x${ext}`),
        `${cmd}: truncated input`,
      );
    }
  }
  assert.ok((await collect(decompressStream(chunked(plain, [333]), 'Packages'))).equals(plain));
});

test('PackagesScanner: records split across any chunk boundary, LF or CRLF, are found as scanPackages finds them whole', () => {
  const text = packagesText(300);
  const want = new Set(['pkg0\x001.0\x00amd64', 'pkg150\x001.150\x00amd64', 'pkg299\x001.299\x00amd64', 'pkg7\x009\x00amd64']);
  for (const eol of ['\n', '\r\n']) {
    const bytes = Buffer.from(text.replace(/\n/g, eol));
    const whole = scanPackages(bytes, want);
    assert.deepEqual(whole.map((r) => r.name), ['pkg0', 'pkg150', 'pkg299']);
    for (const step of [1, 2, 5, 64, 1000, 4096]) {
      const s = new PackagesScanner(want);
      for (let i = 0; i < bytes.length; i += step) {
        // The scanner must copy what it keeps: the chunk's memory is overwritten after each push.
        const chunk = Buffer.from(bytes.subarray(i, i + step));
        s.push(chunk);
        chunk.fill(0);
      }
      assert.deepEqual(s.end(), whole, `${JSON.stringify(eol)} in steps of ${step}`);
    }
  }
});

test('scanPackagesFile hashes the stored and the plain bytes in its one pass; a mismatch against Release is INTEGRITY', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-dstream-'));
  tmp.push(dir);
  const plain = Buffer.from(packagesText(500));
  const file = join(dir, 'host_dists_x_main_binary-amd64_Packages');
  await writeFile(file, plain);
  for (const [cmd, args, ext] of [
    ['gzip', ['-k', '-9'], '.gz'],
    ['lz4', ['-q', '-f'], '.lz4'],
  ] as const) {
    const res = await run(cmd, [...args, file, ...(cmd === 'lz4' ? [`${file}.lz4`] : [])]);
    assert.equal(res.code, 0, res.stderr);
    const packed = await readFile(`${file}${ext}`);
    const want = new Set(['pkg42\x001.42\x00amd64']);
    const scanned = await scanPackagesFile(`${file}${ext}`, want);
    assert.deepEqual(scanned.records.map((r) => r.filename), ['pool/main/p/pkg42/pkg42_1.42_amd64.deb']);
    assert.deepEqual(scanned.plain, { size: plain.length, sha256: sha256Bytes(plain) });
    // Release files can list .gz, never apt's own .lz4 recompression.
    assert.deepEqual(scanned.stored, ext === '.gz' ? { size: packed.length, sha256: sha256Bytes(packed) } : undefined);
    const release = (plainHash: string, storedHash: string) =>
      parseRelease(`Suite: x\nSHA256:\n ${plainHash} ${plain.length} main/binary-amd64/Packages\n ${storedHash} ${packed.length} main/binary-amd64/Packages${ext}\n`);
    const other = sha256Bytes(Buffer.from('other'));
    checkIndexDigests(release(sha256Bytes(plain), other), 'R', 'main/binary-amd64/Packages', ext, scanned.stored, scanned.plain, 'L');
    if (ext === '.gz') checkIndexDigests(release(other, sha256Bytes(packed)), 'R', 'main/binary-amd64/Packages', ext, scanned.stored, scanned.plain, 'L');
    assert.throws(
      () => checkIndexDigests(release(other, other), 'R', 'main/binary-amd64/Packages', ext, scanned.stored, scanned.plain, 'L'),
      (e: unknown) => e instanceof PingetError && e.code === 'INTEGRITY',
    );
  }
});

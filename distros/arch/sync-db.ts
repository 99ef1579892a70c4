/**
 * pacman sync databases (`<dbpath>/sync/<repo>.db`): a tar archive, usually gzip or zstd compressed,
 * of `<name>-<version>/desc` files (repo-add(8); `.files` databases add `files` entries, ignored here).
 * Pure: bytes in, records out.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { decompressStream, sniffCompression } from '../../src/decompress.js';
import { PingetError } from '../../src/errors.js';
import { packageOf, parseDesc, type PacmanPackage } from './desc.js';

const EXT = { gzip: 'gz', zstd: 'zst', xz: 'xz', lz4: 'lz4', bzip2: 'bz2' } as const;

/** The tar bytes, streamed: gzip, zstd and xz by their magic numbers (repo-add picks by the db's extension); else a plain tar. */
async function* tarChunks(data: Uint8Array, what: string): AsyncGenerator<Buffer> {
  const kind = sniffCompression(data);
  // decompressStream() picks the codec by extension and names the file in its BAD_INPUT errors
  const chunks = kind ? decompressStream([data], `${what}.${EXT[kind]}`) : [data];
  // Copies: tar-stream keeps the chunks it is given, and a decoder may reuse its output memory.
  for await (const c of chunks) yield Buffer.from(c);
}

/** All package records of a sync database, decompressed as the tar is read (never held whole). */
export async function parseSyncDb(data: Uint8Array, what: string): Promise<PacmanPackage[]> {
  const out: PacmanPackage[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      const wanted = header.type === 'file' && /^[^/]+\/desc$/.test(header.name.replace(/^\.\//, ''));
      stream.on('data', (c: unknown) => {
        if (wanted) chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        if (wanted) {
          const pkg = packageOf(parseDesc(Buffer.concat(chunks).toString('utf8')));
          if (pkg) out.push(pkg);
        }
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', (e: Error) => reject(notSyncDb(what, e)));
  });
  const fed = pipeline(Readable.from(tarChunks(data, what)), extract).catch((e: unknown) => {
    throw e instanceof PingetError ? e : notSyncDb(what, e as Error);
  });
  await Promise.all([fed, done]);
  return out;
}

function notSyncDb(what: string, e: Error): PingetError {
  return new PingetError('BAD_INPUT', `${what}: not a pacman sync database (${e.message}); run pacman -Sy to fetch it again`, { cause: e });
}

/**
 * pacman sync databases (`<dbpath>/sync/<repo>.db`): a tar archive, usually gzip or zstd compressed,
 * of `<name>-<version>/desc` files (repo-add(8); `.files` databases add `files` entries, ignored here).
 * Pure: bytes in, records out.
 */
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { decompress, sniffCompression } from '../../src/decompress.js';
import { PingetError } from '../../src/errors.js';
import { packageOf, parseDesc, type PacmanPackage } from './desc.js';

/** gzip, zstd and xz by their magic numbers (repo-add picks by the db's extension); anything else is a plain tar. */
async function unpack(data: Uint8Array, what: string): Promise<Uint8Array> {
  const ext = { gzip: 'gz', zstd: 'zst', xz: 'xz', lz4: 'lz4', bzip2: 'bz2' } as const;
  const kind = sniffCompression(data);
  // decompress() picks the codec by extension and names the file in its BAD_INPUT errors
  return kind ? decompress(data, `${what}.${ext[kind]}`) : data;
}

/** All package records of a sync database. */
export async function parseSyncDb(data: Uint8Array, what: string): Promise<PacmanPackage[]> {
  const tarBytes = await unpack(data, what);
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
    extract.on('error', (e: Error) =>
      reject(new PingetError('BAD_INPUT', `${what}: not a pacman sync database (${e.message}); run pacman -Sy to fetch it again`, { cause: e })),
    );
  });
  Readable.from([Buffer.from(tarBytes.buffer, tarBytes.byteOffset, tarBytes.byteLength)]).pipe(extract);
  await done;
  return out;
}

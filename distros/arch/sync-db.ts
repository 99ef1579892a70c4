/**
 * pacman sync databases (`<dbpath>/sync/<repo>.db`): a tar archive, usually gzip or zstd compressed,
 * of `<name>-<version>/desc` files (repo-add(8); `.files` databases add `files` entries, ignored here).
 * Pure: bytes in, records out.
 */
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { decompress as zstdDecompress } from 'fzstd';
import { PingetError } from '../../src/errors.js';
import { packageOf, parseDesc, type PacmanPackage } from './desc.js';

function unpack(data: Uint8Array, what: string): Uint8Array {
  const b = data;
  try {
    if (b[0] === 0x1f && b[1] === 0x8b) return gunzipSync(b);
    if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return zstdDecompress(b);
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${what}: cannot decompress the sync database (${(e as Error).message}); run pacman -Sy to fetch it again`, { cause: e });
  }
  if (b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58) {
    throw new PingetError('BAD_INPUT', `${what}: xz-compressed sync databases are not supported; use gzip or zstd (repo-add's default)`);
  }
  return b; // plain tar
}

/** All package records of a sync database. */
export async function parseSyncDb(data: Uint8Array, what: string): Promise<PacmanPackage[]> {
  const tarBytes = unpack(data, what);
  const out: PacmanPackage[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      const wanted = header.type === 'file' && /^[^/]+\/desc$/.test(header.name.replace(/^\.\//, ''));
      stream.on('data', (c: Buffer) => {
        if (wanted) chunks.push(c);
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

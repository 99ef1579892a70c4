/**
 * `hash generate --image DIR|FILE`: an image pinned without running it. Its layers are applied, in order,
 * into a temporary root (apply-layer.ts), which is pinned as `--root` would be, then removed. A FILE (a
 * `docker save` / `podman save` archive, plain or gzip) is first unpacked, contained, beside that root.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { sniffCompression } from '../decompress.js';
import { PingetError } from '../errors.js';
import { readHead } from '../fs-safe.js';
import type { Logger } from '../ui/log.js';
import { sha256File } from '../verify/sha256.js';
import { applyLayer } from './apply-layer.js';
import { imageLayers, type LayerRef } from './layout.js';

/** A decompressor for the file's first bytes: gzip, zstd, or none (a plain tar). */
function decompressorFor(head: Buffer): Transform | undefined {
  const kind = sniffCompression(head);
  if (kind === 'gzip') return zlib.createGunzip();
  if (kind === 'zstd') return zlib.createZstdDecompress();
  return undefined;
}

/** Applies a tar file (compressed or not) onto root; returns the sha256 of the uncompressed tar. */
async function applyTarFile(root: string, file: string, what: string): Promise<string> {
  const head = await readHead(file, 4);
  const hash = createHash('sha256');
  const counted = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const d = head.length >= 4 ? decompressorFor(head) : undefined;
  const piping = d ? pipeline(createReadStream(file), d, counted) : pipeline(createReadStream(file), counted);
  try {
    await Promise.all([applyLayer(root, counted, what), piping]);
  } catch (e) {
    counted.destroy();
    await piping.catch(() => undefined);
    if (e instanceof PingetError) throw e;
    throw new PingetError('BAD_INPUT', `${what}: cannot read the layer (${(e as Error).message})`, { cause: e });
  }
  return `sha256:${hash.digest('hex')}`;
}

async function applyImageLayer(root: string, layer: LayerRef, what: string): Promise<void> {
  if (layer.digest) {
    const got = `sha256:${await sha256File(layer.file)}`;
    if (got !== layer.digest) throw new PingetError('INTEGRITY', `${what}: blob is ${got}, its manifest says ${layer.digest}; the layout is corrupt`);
  }
  const diffId = await applyTarFile(root, layer.file, what);
  if (layer.diffId && diffId !== layer.diffId) throw new PingetError('INTEGRITY', `${what}: uncompressed layer is ${diffId}, the image config says ${layer.diffId}; the archive is corrupt`);
}

/** Unpacks the image at `image` into a temporary root, calls fn with it, and removes it after. */
export async function withImageRoot<T>(image: string, log: Logger, fn: (root: string) => Promise<T>): Promise<T> {
  const st = await stat(image).catch((e: NodeJS.ErrnoException) => {
    throw new PingetError('USAGE', `--image ${image}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`, { cause: e });
  });
  const tmp = await mkdtemp(join(tmpdir(), `pinget-image-${process.pid}-`));
  try {
    let dir = image;
    if (st.isFile()) {
      dir = join(tmp, 'archive');
      await mkdir(dir);
      await applyTarFile(dir, image, image);
    } else if (!st.isDirectory()) throw new PingetError('USAGE', `--image ${image}: not a directory nor a file`);
    const layers = await imageLayers(dir, image);
    const root = join(tmp, 'root');
    await mkdir(root);
    log.info(`--image ${image}: applying ${layers.length} layer(s) into a temporary root`);
    for (const [i, layer] of layers.entries()) await applyImageLayer(root, layer, `${image} layer ${i + 1}`);
    return await fn(root);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

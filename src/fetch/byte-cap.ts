/** A cap on the bytes any provider's stream may hand on (--max-size), for sources that are not HTTP bodies. */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { PingetError } from '../errors.js';

/** --max-size's default: 4 GiB per file. */
export const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

/** Passes stream through; past maxBytes it fails with INTEGRITY at once, handing on nothing past the cap. */
export function capBytes(stream: Readable, maxBytes: number, where: string): Readable {
  let seen = 0;
  const cap = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        stream.destroy();
        return cb(new PingetError('INTEGRITY', `${where}: served more than --max-size (${maxBytes} bytes); cut`));
      }
      cb(null, chunk);
    },
  });
  stream.once('error', (e) => cap.destroy(e));
  // Until the consumer listens, an early error must not crash the process; pipeline still sees it.
  cap.on('error', () => {});
  return stream.pipe(cap);
}

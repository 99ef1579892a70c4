/** Reads a repository file: over HTTP(S) through the shared client, or from a local repository path. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PingetError, reasonOf } from '../../src/errors.js';
import { httpGetBytes } from '../../src/fetch/http-download.js';

/** An APKINDEX.tar.gz or a repository file: a few MB; anything far larger is not one. */
const INDEX_MAX_BYTES = 256 << 20;

export type Downloader = (url: string) => Promise<Buffer>;

export const download: Downloader = async (url) => {
  if (url.startsWith('/') || /^file:\/\//i.test(url)) {
    const file = url.startsWith('/') ? url : fileURLToPath(url);
    try {
      return await readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'UNAVAILABLE';
      throw new PingetError(code, `${file}: ${reasonOf(e)}`, { cause: e });
    }
  }
  return httpGetBytes(url, { timeoutMs: 60_000, retries: 2, maxBytes: INDEX_MAX_BYTES });
};

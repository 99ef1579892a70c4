/** Reads a repository file: over HTTP(S) through the shared client, or from a local repository path. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PingetError, reasonOf } from '../../src/errors.js';
import { httpRequest, redactUrl } from '../../src/fetch/http-client.js';

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
  const res = await httpRequest(url, { timeoutMs: 60_000, retries: 2 });
  if (res.status !== 200) {
    res.body.destroy();
    throw new PingetError(res.status === 404 || res.status === 410 ? 'NOT_FOUND' : 'UNAVAILABLE', `GET ${redactUrl(url)}: HTTP ${res.status}`);
  }
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

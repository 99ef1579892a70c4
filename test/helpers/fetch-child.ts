/**
 * A child process for the cache and fetch tests, run with `node --import tsx test/helpers/fetch-child.ts MODE ...`:
 *   ingest CACHE SHA256 FILE  prints "ready", waits for a line on stdin, then ingests FILE slowly (in small
 *                             chunks, yielding between them) so that two children overlap; prints "ok".
 *   fetch CACHE SHA256 URL    fetchAll of one target from an http provider template; prints "ok".
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cache } from '../../src/cache.js';
import { fetchAll } from '../../src/fetch/chain.js';
import { httpProviderFactory } from '../../src/fetch/http.js';
import { closeHttp } from '../../src/fetch/http-client.js';
import { silentLogger } from '../../src/ui/log.js';

const [mode, cacheDir, sha256, arg] = process.argv.slice(2);
const cache = new Cache(cacheDir);

if (mode === 'ingest') {
  const data = await readFile(arg);
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  async function* slow() {
    for (let off = 0; off < data.length; off += 64 * 1024) {
      yield data.subarray(off, off + 64 * 1024);
      await sleep(2);
    }
  }
  await cache.ingest(sha256, Readable.from(slow()));
  process.stdout.write('ok\n');
  process.exit(0);
} else if (mode === 'fetch') {
  const provider = httpProviderFactory(arg, { log: silentLogger, timeoutMs: 60_000, retries: 0 })!;
  await fetchAll([{ path: 'pool/slow.deb', sha256, headers: {} }], { cache, providers: [provider], jobs: 1, log: silentLogger });
  await closeHttp();
  process.stdout.write('ok\n');
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}

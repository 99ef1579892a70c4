/**
 * Download benchmark: pinget's fetchAll (jobs=8, hashing while streaming into an empty cache, fsync and
 * rename per file) against the reference `curl | sha256sum` run 8 at a time by xargs, over the same
 * files from the same loopback HTTP server. The server runs in a child process so that it does not share
 * an event loop with the client under test.
 *
 *   node --import tsx bench/download.bench.ts            # prints one JSON line, then a human line
 *   BENCH_ROUNDS=3 node --import tsx bench/download.bench.ts
 *
 * The files (>= 300 of 1-4 MiB, >= 500 MiB, from a fixed seed) are kept under .bench/download/ in the
 * repository (gitignored) and reused between runs. Caches are temporary and removed at the end.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const REPO = join(dirname(SELF), '..');
const DATA_DIR = join(REPO, '.bench', 'download');
const FILES = 300;
const SEED = 'pinget-download-bench-v1';
const JOBS = 8;
const MiB = 1024 * 1024;

interface Manifest {
  seed: string;
  files: { path: string; sha256: string; size: number }[];
}

/** mulberry32: a small deterministic PRNG for the file sizes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic pseudo-random bytes: an AES-256-CTR keystream keyed by the seed and the file number. */
function fileBytes(i: number, size: number): Buffer {
  const key = createHash('sha256').update(SEED).digest();
  const iv = createHash('sha256').update(`${SEED}/${i}`).digest().subarray(0, 16);
  const c = createCipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([c.update(Buffer.alloc(size)), c.final()]);
}

async function ensureFiles(): Promise<Manifest> {
  const manifestFile = join(DATA_DIR, 'manifest.json');
  try {
    const m = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
    if (m.seed === SEED && m.files.length === FILES) {
      const last = m.files[m.files.length - 1];
      if ((await stat(join(DATA_DIR, 'www', last.path))).size === last.size) return m;
    }
  } catch {
    // not there yet, or from another version: make them
  }
  process.stderr.write(`bench: writing ${FILES} files under ${DATA_DIR} (once)\n`);
  const rand = prng(0x5eed);
  const files: Manifest['files'] = [];
  for (let i = 0; i < FILES; i++) {
    const size = MiB + Math.floor(rand() * 3 * MiB);
    const name = `bench${String(i).padStart(3, '0')}`;
    const path = `pool/main/b/${name}/${name}_1.0-1_amd64.deb`;
    const data = fileBytes(i, size);
    await mkdir(dirname(join(DATA_DIR, 'www', path)), { recursive: true });
    await writeFile(join(DATA_DIR, 'www', path), data);
    files.push({ path, sha256: createHash('sha256').update(data).digest('hex'), size });
  }
  const m: Manifest = { seed: SEED, files };
  await writeFile(manifestFile, JSON.stringify(m));
  return m;
}

/** The child: a plain static file server on 127.0.0.1; prints its port, serves until killed. */
async function serve(root: string): Promise<void> {
  const server = createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, rel));
    const st = file.startsWith(root) ? await stat(file).catch(() => undefined) : undefined;
    if (!st?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' });
    createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}

async function startServer(root: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve', root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => reject(new Error(`bench server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

async function runPinget(url: string, m: Manifest): Promise<number> {
  const { Cache } = await import('../src/cache.js');
  const { fetchAll } = await import('../src/fetch/chain.js');
  const { createProvider } = await import('../src/fetch/providers.js');
  const { silentLogger } = await import('../src/ui/log.js');
  const dir = await mkdtemp(join(tmpdir(), 'pinget-bench-cache-'));
  try {
    const providers = [createProvider(`${url}/{{.Name}}`, { log: silentLogger, timeoutMs: 60_000, retries: 0 })];
    const targets = m.files.map((f) => ({ path: f.path, sha256: f.sha256, headers: {} }));
    const t0 = process.hrtime.bigint();
    const results = await fetchAll(targets, { cache: new Cache(dir), providers, jobs: JOBS, log: silentLogger });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (results.length !== m.files.length) throw new Error('pinget fetched too few files');
    return secs;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The reference: curl piped into sha256sum, JOBS at a time (a shell is fine in a benchmark).
 * With hash=false, curl into /dev/null: the raw transfer rate, for context (coreutils' sha256sum does
 * not use the CPU's SHA instructions; OpenSSL, which node uses, does).
 */
async function runCurl(url: string, m: Manifest, hash = true): Promise<number> {
  const t0 = process.hrtime.bigint();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('xargs', ['-P', String(JOBS), '-n', '1', 'sh', '-c', hash ? 'curl -fsS "$1" | sha256sum' : 'curl -fsS -o /dev/null "$1"', 'sh'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`xargs/curl exited ${code}`))));
    child.stdin.end(m.files.map((f) => `${url}/${f.path}\n`).join(''));
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!hash) return secs;
  const got = out.split('\n').filter(Boolean).map((l) => l.slice(0, 64)).sort();
  const want = m.files.map((f) => f.sha256).sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error('curl | sha256sum did not reproduce the expected hashes');
  return secs;
}

async function main(): Promise<void> {
  const m = await ensureFiles();
  const bytes = m.files.reduce((n, f) => n + f.size, 0);
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
  const server = await startServer(join(DATA_DIR, 'www'));
  let pinget = Infinity;
  let curl = Infinity;
  let raw = Infinity;
  try {
    // Alternate, and keep each side's best round: the first round also warms the page cache.
    for (let r = 0; r < rounds; r++) {
      curl = Math.min(curl, await runCurl(server.url, m));
      pinget = Math.min(pinget, await runPinget(server.url, m));
      raw = Math.min(raw, await runCurl(server.url, m, false));
    }
  } finally {
    server.stop();
    const { closeHttp } = await import('../src/fetch/http-client.js');
    await closeHttp();
  }
  const mbps = (s: number) => Math.round((bytes / 1e6 / s) * 10) / 10;
  const ratio = Math.round((mbps(pinget) / mbps(curl)) * 100) / 100;
  const result = { bench: 'download', files: m.files.length, bytes, jobs: JOBS, rounds, pinget_mb_s: mbps(pinget), curl_sha256sum_mb_s: mbps(curl), ratio, target: 0.8, curl_devnull_mb_s: mbps(raw) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stdout.write(
    `download: pinget ${result.pinget_mb_s} MB/s, curl|sha256sum ${result.curl_sha256sum_mb_s} MB/s, ratio ${ratio} (target >= 0.8); curl >/dev/null ${result.curl_devnull_mb_s} MB/s; ${m.files.length} files, ${(bytes / MiB).toFixed(0)} MiB, jobs ${JOBS}\n`,
  );
}

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();

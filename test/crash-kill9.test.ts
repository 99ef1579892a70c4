/**
 * Crash-only: a ~300 MB `download -o` (files generated here, served from 127.0.0.1) killed with
 * SIGKILL at 10 points as it progresses, each run resuming in the same cache and -o; then a run to the
 * end. Every file verifies (sha256sum -c), and no `*.pinget-tmp-*` file is left in -o nor in <cache>/tmp.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { run } from '../src/exec.js';
import { sha256Bytes } from '../src/verify/sha256.js';

const FILES = 30;
const SIZE = 10 * 1024 * 1024;
const KILLS = 10;

let tmp: string;
let server: TestServer;
let lockfile: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-kill9-'));
  const www = join(tmp, 'www');
  const lines: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const path = `pool/main/k/k${i % 7}/k${i}_1_amd64.deb`;
    const data = randomBytes(SIZE);
    await mkdir(join(www, path, '..'), { recursive: true });
    await writeFile(join(www, path), data);
    lines.push(`${sha256Bytes(data)}  ${path}`);
  }
  lockfile = join(tmp, 'SHA256SUMS');
  await writeFile(lockfile, lines.join('\n') + '\n');
  server = await serveDirectory(www);
});

after(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

const temps = async (dirs: string[]) => (await Promise.all(dirs.map(walk))).flat().filter((f) => f.includes('.pinget-tmp-'));

test(`kill -9 at ${KILLS} points of a ${(FILES * SIZE) / 2 ** 20} MB download, then a rerun: all verified, no leftovers`, { timeout: 170_000 }, async () => {
  const out = join(tmp, 'out');
  const cache = join(tmp, 'cache');
  const blobs = join(cache, 'blobs', 'sha256');
  const args = ['download', lockfile, '-o', out, '--cache', cache, '--provider', `${server.url}/{{.Name}}`, '--jobs', '4', '--retries', '0'];
  let killed = 0;
  let leftovers = 0;
  for (let k = 0; k < KILLS; k++) {
    // Kill when the cache holds one more file than a fair share of the run so far: points spread over the whole download.
    const target = Math.ceil(((k + 1) * FILES) / (KILLS + 1));
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'src', 'cli.ts'), ...args], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let done = false;
    void exited.then(() => (done = true));
    // ... and only while a download is in flight (a temp file exists), so every kill cuts one off mid-write.
    const inFlight = async () => (await temps([join(cache, 'tmp'), out])).length > 0;
    while (!done && ((await readdir(blobs).catch(() => [])).length < target || !(await inFlight()))) await sleep(3);
    if (!done) {
      child.kill('SIGKILL');
      killed++;
    }
    await exited;
    leftovers += (await temps([out, join(cache, 'tmp')])).length;
  }
  assert.ok(killed >= KILLS - 1, `killed ${killed} of ${KILLS} runs before they finished`);
  assert.ok(leftovers > 0, 'the kills left partial temp files behind (else this test tests nothing)');

  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'src', 'cli.ts'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  const check = await run('sha256sum', ['-c', '--strict', '--quiet', lockfile], { cwd: out });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.deepEqual(await temps([out, join(cache, 'tmp')]), [], 'no temp file left in -o or in the cache');
  assert.equal((await readdir(blobs)).length, FILES);
});

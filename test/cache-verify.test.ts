/**
 * Cached blobs are verified as they are used: a blob whose bytes rotted on disk is removed and fetched
 * again, through `download` (sha256sum -c passes in -o) and `install` (dpkg never gets the corrupt
 * bytes); with no provider to fetch it again, the command fails (exit 3), it does not hand it out.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, open, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAptRepo, type AptRepo } from './helpers/apt-repo.js';
import { runCli } from './helpers/cli.js';
import { cliWithin } from './helpers/cli-within.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { run } from '../src/exec.js';
import { sha256Bytes } from '../src/verify/sha256.js';

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n';
const NOWHERE = 'http://127.0.0.1:9/{{.Name}}';

let tmp: string;
let apt: AptRepo;
let files: TestServer;
let lockfile: string;
let shas: string[];

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-cache-verify-'));
  const www = join(tmp, 'www');
  const lines: string[] = [];
  shas = [];
  for (let i = 0; i < 4; i++) {
    const data = randomBytes(200_000 + i);
    const path = `pool/main/f/f${i}/f${i}_1_all.deb`;
    await mkdir(join(www, 'pool/main/f', `f${i}`), { recursive: true });
    await writeFile(join(www, path), data);
    shas.push(sha256Bytes(data));
    lines.push(`${sha256Bytes(data)}  ${path}`);
  }
  lockfile = join(tmp, 'SHA256SUMS');
  await writeFile(lockfile, lines.join('\n') + '\n');
  files = await serveDirectory(www);
  apt = await buildAptRepo();
});

after(async () => {
  await files?.close();
  await apt?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** Flips one byte in the middle of a file, in place. */
async function flipByte(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const at = Math.floor((await fh.stat()).size / 2);
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] ^= 0xff;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

const blob = (cache: string, sha: string) => join(cache, 'blobs', 'sha256', sha);
const sha256sumC = (lock: string, dir: string) => run('sha256sum', ['-c', '--strict', lock], { cwd: dir });

test('download: a corrupted cache blob is removed with a warning, fetched again, and -o gets the right bytes', async () => {
  const cache = join(tmp, 'dl-cache');
  const seed = await runCli(['download', lockfile, '-o', join(tmp, 'dl-seed'), '--provider', `${files.url}/{{.Name}}`, '--cache', cache]);
  assert.equal(seed.code, 0, seed.stderr);
  await flipByte(blob(cache, shas[1]));

  const before = files.requests.length;
  const out = join(tmp, 'dl-out');
  const res = await runCli(['download', lockfile, '-o', out, '--provider', `${files.url}/{{.Name}}`, '--cache', cache, '--json']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /f1_1_all\.deb: the cached blob is corrupted/);
  assert.deepEqual(files.requests.slice(before), ['pool/main/f/f1/f1_1_all.deb'], 'only the corrupted one is fetched again');
  const check = await sha256sumC(lockfile, out);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.equal(sha256Bytes(await readFile(blob(cache, shas[1]))), shas[1], 'the blob is whole again');
});

test('download: a corrupted blob and no provider is exit 3, and the corrupt bytes reach neither -o nor the cache', async () => {
  const cache = join(tmp, 'dl-cache2');
  const seed = await runCli(['download', lockfile, '-o', join(tmp, 'dl-seed2'), '--provider', `${files.url}/{{.Name}}`, '--cache', cache]);
  assert.equal(seed.code, 0, seed.stderr);
  await flipByte(blob(cache, shas[2]));
  const out = join(tmp, 'dl-out2');
  const res = await runCli(['download', lockfile, '-o', out, '--provider', NOWHERE, '--cache', cache, '--retries', '0']);
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /cache: the cached blob is corrupted/);
  await assert.rejects(stat(join(out, 'pool/main/f/f2/f2_1_all.deb')), { code: 'ENOENT' });
  await assert.rejects(stat(blob(cache, shas[2])), { code: 'ENOENT' }, 'the corrupt blob is gone');
  // A blob replaced by something that is not a file (a FIFO) is treated the same way and does not hang.
  await rm(blob(cache, shas[3]));
  assert.equal((await run('mkfifo', [blob(cache, shas[3])])).code, 0);
  const fifo = await runCli(['download', lockfile, '-o', join(tmp, 'dl-out3'), '--provider', NOWHERE, '--cache', cache, '--retries', '0']);
  assert.equal(fifo.code, 3, fifo.stderr);
  assert.match(fifo.stderr, /a FIFO/);
});

test('install: a corrupted cached .deb is never handed to dpkg; it is fetched again, or the install fails (exit 3)', async () => {
  const debs = apt.packages.filter((p) => p.name !== 'pinget-extra');
  const lock = join(tmp, 'SHA256SUMS-deb');
  await writeFile(lock, debs.map((p) => `${p.sha256}  ${p.path}\n`).join(''));
  const cache = join(tmp, 'deb-cache');
  const seed = await runCli(['download', lock, '-o', join(tmp, 'deb-seed'), '--provider', `${apt.url}/{{.Name}}`, '--cache', cache]);
  assert.equal(seed.code, 0, seed.stderr);
  const victim = debs.find((p) => p.name === 'pinget-data')!;
  await flipByte(blob(cache, victim.sha256));

  const root = async (name: string) => {
    const r = join(tmp, name);
    await mkdir(join(r, 'etc'), { recursive: true });
    await writeFile(join(r, 'etc/os-release'), OS_RELEASE);
    return r;
  };
  const failed = await root('root-fail');
  const bad = await runCli(['install', lock, '--root', failed, '--provider', NOWHERE, '--cache', cache, '--retries', '0']);
  assert.equal(bad.code, 3, bad.stderr);
  assert.match(bad.stderr, /pinget-data.*corrupted|corrupted[\s\S]*pinget-data/);
  const nothing = await run('dpkg-query', ['--root', failed, '-W']);
  assert.equal(nothing.stdout.trim(), '', 'nothing was installed');

  const good = await root('root-good');
  const res = await runCli(['install', lock, '--root', good, '--provider', `${apt.url}/{{.Name}}`, '--cache', cache, '--json']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout).installed.length, debs.length);
  const readme = 'usr/share/pinget-test/pinget-data/README';
  assert.ok((await readdir(join(good, 'usr/share/pinget-test'))).includes('pinget-data'));
  const extracted = join(tmp, 'extract');
  assert.equal((await run('dpkg-deb', ['-x', victim.file, extracted])).code, 0);
  assert.deepEqual(await readFile(join(good, readme)), await readFile(join(extracted, readme)));
  assert.equal(sha256Bytes(await readFile(blob(cache, victim.sha256))), victim.sha256);
});

test('file:// and cache import refuse a FIFO and a symlink to /dev/zero: exit 2 naming them, without hanging', async () => {
  const mirror = join(tmp, 'mirror');
  const [f0, f1] = ['pool/main/f/f0/f0_1_all.deb', 'pool/main/f/f1/f1_1_all.deb'];
  await mkdir(join(mirror, 'pool/main/f/f0'), { recursive: true });
  await mkdir(join(mirror, 'pool/main/f/f1'), { recursive: true });
  assert.equal((await run('mkfifo', [join(mirror, f0)])).code, 0);
  await symlink('/dev/zero', join(mirror, f1));
  const lock = join(tmp, 'SHA256SUMS-two');
  await writeFile(lock, `${shas[0]}  ${f0}\n${shas[1]}  ${f1}\n`);
  const res = await cliWithin(['download', lock, '-o', join(tmp, 'fifo-out'), '--cache', join(tmp, 'fifo-cache'), '--provider', `file://${mirror}/{{.Name}}`], 20_000);
  assert.equal(res.killed, false, 'a FIFO or /dev/zero behind file:// must not hang the download');
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /f0_1_all\.deb: a FIFO, not a regular file/);
  assert.match(res.stderr, /f1_1_all\.deb: a character device, not a regular file/);

  const imported = await cliWithin(['cache', 'import', mirror, '--lockfile', lock, '--cache', join(tmp, 'import-cache')], 20_000);
  assert.equal(imported.killed, false, 'cache import of a symlink to /dev/zero must not read forever');
  assert.equal(imported.code, 2, imported.stderr);
  assert.match(imported.stderr, /f[01]_1_all\.deb: a (FIFO|character device), not a regular file/);
  assert.deepEqual(await readdir(join(tmp, 'import-cache', 'tmp')).catch(() => []), []);
});

test('cache clean while another process downloads: the download still ends verified (exit 0)', async () => {
  const cache = join(tmp, 'clean-cache');
  const out = join(tmp, 'clean-out');
  // Bodies trickle out, so temp files live in <cache>/tmp while the cleans run.
  files.setHook(async (req, res, rel) => {
    const data = await readFile(join(tmp, 'www', rel)).catch(() => undefined);
    if (!data) return false;
    res.writeHead(200, { 'content-length': data.length });
    for (let off = 0; off < data.length && !res.destroyed; off += 16_384) {
      res.write(data.subarray(off, off + 16_384));
      await new Promise((r) => setTimeout(r, 100));
    }
    res.end();
    return true;
  });
  try {
    let finished = false;
    const download = runCli(['download', lockfile, '-o', out, '--cache', cache, '--provider', `${files.url}/{{.Name}}`, '--jobs', '1']).finally(() => (finished = true));
    let cleans = 0;
    while (!finished) {
      const clean = await runCli(['cache', 'clean', '--cache', cache]);
      assert.equal(clean.code, 0, clean.stderr);
      cleans++;
    }
    const res = await download;
    assert.equal(res.code, 0, res.stderr);
    assert.ok(cleans >= 2, `${cleans} cleans ran during the download`);
    assert.equal((await sha256sumC(lockfile, out)).code, 0);
  } finally {
    files.setHook(undefined);
  }
});

/**
 * What the benchmarks run against, made at bench time under .bench/ (gitignored) and reused while their
 * manifest matches: random files served by `python3 -m http.server` on 127.0.0.1 with their lockfile, and
 * small script-less .debs built with dpkg-deb for the install figure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_DIR = join(REPO, '.bench');

export interface FileSet {
  /** The served directory; lockfile paths are relative to it. */
  dir: string;
  lockfile: string;
  paths: string[];
  bytes: number;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err.trim()}`))));
  });
}

async function reuse(manifest: string, key: string): Promise<FileSet | undefined> {
  try {
    const m = JSON.parse(await readFile(manifest, 'utf8')) as FileSet & { key: string };
    return m.key === key ? m : undefined;
  } catch {
    return undefined;
  }
}

async function writeSet(dir: string, files: { path: string; sha256: string; size: number }[], key: string): Promise<FileSet> {
  const lockfile = join(dir, 'SHA256SUMS');
  await writeFile(lockfile, files.map((f) => `${f.sha256}  ${f.path}\n`).join(''));
  const set: FileSet = { dir, lockfile, paths: files.map((f) => f.path), bytes: files.reduce((n, f) => n + f.size, 0) };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...set, key }));
  return set;
}

/** `count` files of random bytes, `totalMiB` in all (sizes spread evenly around the mean), laid out as a pool. */
export async function downloadFiles(count: number, totalMiB: number): Promise<FileSet> {
  const dir = join(BENCH_DIR, 'download');
  const key = `v1 ${count} ${totalMiB}`;
  const have = await reuse(join(dir, 'manifest.json'), key);
  if (have) return have;
  await rm(dir, { recursive: true, force: true });
  const mean = (totalMiB * 1024 * 1024) / count;
  const files: { path: string; sha256: string; size: number }[] = [];
  for (let i = 0; i < count; i++) {
    // Sizes from 0.25x to 1.75x the mean, in a fixed order.
    const size = Math.round(mean * (0.25 + (1.5 * ((i * 37) % count)) / (count - 1)));
    const name = `bench${String(i).padStart(3, '0')}`;
    const path = `pool/main/b/${name}/${name}_1.0-1_amd64.deb`;
    const bytes = randomBytes(size);
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), bytes);
    files.push({ path, sha256: createHash('sha256').update(bytes).digest('hex'), size });
  }
  return writeSet(dir, files, key);
}

/** `count` files of `size` random bytes each under .bench/<name>, laid out as a pool (the OCI figures). */
export async function sameSizeFiles(name: string, count: number, size: number): Promise<FileSet> {
  const dir = join(BENCH_DIR, name);
  const key = `v1 ${count} ${size}`;
  const have = await reuse(join(dir, 'manifest.json'), key);
  if (have) return have;
  await rm(dir, { recursive: true, force: true });
  const files: { path: string; sha256: string; size: number }[] = [];
  for (let i = 0; i < count; i++) {
    const n = `oci${String(i).padStart(5, '0')}`;
    const path = `pool/main/o/${n}/${n}_1.0-1_amd64.deb`;
    const bytes = randomBytes(size);
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), bytes);
    files.push({ path, sha256: createHash('sha256').update(bytes).digest('hex'), size });
  }
  return writeSet(dir, files, key);
}

/** `count` script-less .debs of `filesEach` small files each, built by dpkg-deb. */
export async function debFiles(count: number, filesEach: number): Promise<FileSet> {
  const dir = join(BENCH_DIR, 'install');
  const key = `v1 ${count} ${filesEach}`;
  const have = await reuse(join(dir, 'manifest.json'), key);
  if (have) return have;
  await rm(dir, { recursive: true, force: true });
  const files: { path: string; sha256: string; size: number }[] = [];
  for (let i = 0; i < count; i++) {
    const name = `pinget-bench-${String(i).padStart(3, '0')}`;
    const tree = join(dir, 'build', name);
    await mkdir(join(tree, 'DEBIAN'), { recursive: true });
    await writeFile(
      join(tree, 'DEBIAN/control'),
      `Package: ${name}\nVersion: 1.0-1\nArchitecture: all\nMaintainer: pinget bench <bench@invalid>\nDescription: benchmark package ${i}\n`,
    );
    const share = join(tree, 'usr/share', name);
    await mkdir(share, { recursive: true });
    for (let j = 0; j < filesEach; j++) await writeFile(join(share, `f${j}`), randomBytes(2048 + ((i * 131 + j * 977) % 30000)));
    const path = `pool/main/p/${name}/${name}_1.0-1_all.deb`;
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', tree, join(dir, path)]);
    const bytes = await readFile(join(dir, path));
    files.push({ path, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
  }
  await rm(join(dir, 'build'), { recursive: true, force: true });
  return writeSet(dir, files, key);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface PyServer {
  url: string;
  close(): Promise<void>;
}

/** `python3 -m http.server` on 127.0.0.1 serving `dir`; resolves once it answers. */
export async function pythonServer(dir: string): Promise<PyServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', dir, String(port)], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
  };
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${url}/manifest.json`);
      await res.arrayBuffer();
      if (res.ok) return { url, close };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await close();
  throw new Error(`python3 -m http.server did not answer on ${url}`);
}

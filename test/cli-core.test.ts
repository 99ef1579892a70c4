import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, readdir } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes, createHash } from 'node:crypto';
import { runCli } from './helpers/cli.js';
import { serveDirectory } from './helpers/http-server.js';
import { run } from '../src/exec.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }, prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** A directory of random files at repository paths, and the lockfile that pins them. */
async function makeRepo(dir: string, count: number): Promise<{ lockText: string; paths: string[] }> {
  const lines = ['# pinget lockfile v1'];
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = `pool/main/p/pkg${i}/pkg${i}_1.${i}-1_amd64.deb`;
    const data = randomBytes(1000 + i * 37);
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), data);
    lines.push(`${createHash('sha256').update(data).digest('hex')}  ${path}`);
    paths.push(path);
  }
  return { lockText: lines.join('\n') + '\n', paths };
}

test('--help lists the commands and exit codes; an unknown command is a usage error (exit 2)', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const cmd of ['hash', 'install', 'download', 'diff', 'cache', 'providers', 'dockerfile']) assert.match(help.stdout, new RegExp(`pinget ${cmd}`));
  assert.match(help.stdout, /70 {2}internal error/);
  const bad = await runCli(['frobnicate']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^pinget: .*frobnicate/m);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/, 'no stack trace');
});

test('a malformed lockfile is exit 2 with file and line, and no stack trace', async (t) => {
  const dir = await tempDir(t, 'pinget-cli-');
  const lock = join(dir, 'SHA256SUMS');
  await writeFile(lock, `# pinget lockfile v1\n${'a'.repeat(64)}  pool/ok.deb\n${'b'.repeat(64)}  ../../etc/shadow\n`);
  const res = await runCli(['download', lock, '-o', join(dir, 'out'), '--provider', 'http://127.0.0.1:9/{{.Name}}', '--cache', join(dir, 'cache')]);
  assert.equal(res.code, 2);
  assert.equal(res.stderr.trim(), `pinget: ${lock}:3: path contains a ".." component: "../../etc/shadow"`);
  const missing = await runCli(['download', join(dir, 'nope'), '--provider', 'http://127.0.0.1:9/']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope: cannot read the lockfile: no such file/);
  const scheme = await runCli(['download', lock.replace('SHA256SUMS', 'x'), '--provider', 'gopher://x/{{.Name}}']);
  assert.equal(scheme.code, 2);
});

test('download lays files out so that sha256sum -c passes; a second run is served by the cache', async (t) => {
  const dir = await tempDir(t, 'pinget-cli-');
  const repo = join(dir, 'repo');
  const { lockText, paths } = await makeRepo(repo, 6);
  await writeFile(join(dir, 'SHA256SUMS'), lockText);
  const server = await serveDirectory(repo);
  t.after(() => server.close());
  const out = join(dir, 'out');
  const args = ['download', join(dir, 'SHA256SUMS'), '-o', out, '--provider', `${server.url}/{{.Name}}`, '--cache', join(dir, 'cache')];
  const first = await runCli([...args, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const summary = JSON.parse(first.stdout);
  assert.equal(summary.files.length, 6);
  assert.ok(summary.files.every((f: { source: string }) => f.source !== 'cache'));
  const check = await run('sha256sum', ['-c', join(dir, 'SHA256SUMS')], { cwd: out });
  assert.equal(check.code, 0, check.stderr + check.stdout);
  assert.equal(check.stdout.trim().split('\n').length, 6);

  const requestsBefore = server.requests.length;
  const second = await runCli([...args, '--json']);
  assert.equal(second.code, 0, second.stderr);
  assert.ok(JSON.parse(second.stdout).files.every((f: { source: string }) => f.source === 'cache'));
  assert.equal(server.requests.length, requestsBefore, 'no request when everything is cached');
  const blobs = await readdir(join(dir, 'cache', 'blobs', 'sha256'));
  assert.equal(blobs.length, 6);
  assert.deepEqual(paths.length, 6);
});

test('when every provider fails, the error lists each provider and why (exit 4), and a mismatch is exit 3', async (t) => {
  const dir = await tempDir(t, 'pinget-cli-');
  const repo = join(dir, 'repo');
  const { lockText } = await makeRepo(repo, 2);
  const lock = join(dir, 'SHA256SUMS');
  await writeFile(lock, lockText);
  const empty = await serveDirectory(join(dir, 'nothing-here'));
  t.after(() => empty.close());
  const res = await runCli(['download', lock, '-o', join(dir, 'out'), '--cache', join(dir, 'c1'), '--provider', `${empty.url}/a/{{.Name}}`, '--provider', `${empty.url}/b/{{.Name}}`, '--retries', '0']);
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /^pinget: 2 of 2 files could not be fetched/m);
  assert.match(res.stderr, new RegExp(`${empty.url}/a/`));
  assert.match(res.stderr, new RegExp(`${empty.url}/b/`));

  // Every file served with other bytes: integrity failure.
  const liar = await serveDirectory(repo, (_req, res) => {
    res.writeHead(200).end('not the pinned bytes');
    return true;
  });
  t.after(() => liar.close());
  const bad = await runCli(['download', lock, '-o', join(dir, 'out2'), '--cache', join(dir, 'c2'), '--provider', `${liar.url}/{{.Name}}`]);
  assert.equal(bad.code, 3, bad.stderr);
  assert.deepEqual(await readdir(join(dir, 'c2', 'blobs', 'sha256')).catch(() => []), [], 'nothing unverified in the cache');
  assert.deepEqual(await readdir(join(dir, 'out2')).catch(() => []), [], 'nothing unverified in the output directory');
});

test('providers prints the chain in order, the cache first', async (t) => {
  const dir = await tempDir(t, 'pinget-cli-');
  const res = await runCli(['providers', '--provider', 'https://a.example/{{.Name}}', '--provider-append', 'file:///srv/m/', '--cache', dir]);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(res.stdout.trim().split('\n'), [`1. cache: ${dir}`, '2. https://a.example/{{.Name}}', '3. file:///srv/m/']);
});

test('an HTTP mirror that redirects is followed; the hash, not the host, is trusted', async (t) => {
  const dir = await tempDir(t, 'pinget-cli-');
  const repo = join(dir, 'repo');
  const { lockText } = await makeRepo(repo, 2);
  await writeFile(join(dir, 'SHA256SUMS'), lockText);
  const target = await serveDirectory(repo);
  t.after(() => target.close());
  const director = await serveDirectory(join(dir, 'none'), (req, res) => {
    res.writeHead(302, { location: `${target.url}${req.url}` }).end();
    return true;
  });
  t.after(() => director.close());
  const res = await runCli(['download', join(dir, 'SHA256SUMS'), '-o', join(dir, 'out'), '--provider', `${director.url}/{{.Name}}`, '--cache', join(dir, 'cache')]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(director.requests.length, 2);
  assert.equal(target.requests.length, 2);
});

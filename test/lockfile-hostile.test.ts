/**
 * Hostile lockfiles through the CLI: each is refused with exit 2 and a message naming file:line (or the
 * file), before anything is fetched or written; none crashes (70) or hangs. A 10 MB line is parsed in
 * linear time (bounded generously: the old pattern needed minutes for 200 kB).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliWithin } from './helpers/cli-within.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { run } from '../src/exec.js';
import { sha256Bytes } from '../src/verify/sha256.js';

let tmp: string;
let www: string;
let server: TestServer;
let good: string;
const DATA = randomBytes(1000);
const SHA = sha256Bytes(DATA);

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-lockfile-hostile-'));
  www = join(tmp, 'www');
  await mkdir(join(www, 'pool'), { recursive: true });
  await writeFile(join(www, 'pool/good.deb'), DATA);
  good = `${SHA}  pool/good.deb\n`;
  server = await serveDirectory(www);
});

after(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

let n = 0;
async function lockfileWith(content: string | Buffer): Promise<string> {
  const file = join(tmp, `L${++n}`);
  await writeFile(file, content);
  return file;
}

const download = (lock: string, ...extra: string[]) =>
  runCli(['download', lock, '-o', join(tmp, 'out'), '--provider', `${server.url}/{{.Name}}`, '--cache', join(tmp, 'cache'), '--retries', '0', ...extra]);

async function refused(content: string | Buffer, line: number | undefined, why: RegExp): Promise<void> {
  const lock = await lockfileWith(content);
  const res = await download(lock);
  assert.equal(res.code, 2, `${JSON.stringify(String(content).slice(0, 80))}: ${res.stderr}`);
  assert.match(res.stderr, new RegExp(`${lock.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}${line === undefined ? '(:\\d+)?' : `:${line}`}: `));
  assert.match(res.stderr, why);
  assert.doesNotMatch(res.stderr, /internal error|\n\s+at /);
}

test('invalid UTF-8 is refused naming its line, not turned into U+FFFD', async () => {
  await refused(Buffer.concat([Buffer.from(`# ok\n${good}`), Buffer.from(`${SHA}  pool/caf\xe9.deb\n`, 'latin1')]), 3, /not valid UTF-8/);
  await refused(Buffer.concat([Buffer.from('# comment \xff\xfe\n', 'latin1'), Buffer.from(good)]), 1, /not valid UTF-8/);
});

test('C0, C1 and bidi control characters are refused, in paths and in comments', async () => {
  await refused(`${good}# \x1b[31mred\x1b[0m\n`, 2, /control character \(U\+001B\)/);
  await refused(`${good}${SHA}  pool/a\u009b1m.deb\n`, 2, /C1 control/);
  await refused(`${good}${SHA}  pool/\u202egnp.deb\n`, 2, /bidirectional control character \(U\+202E\)/);
  await refused(`# reviewed \u2066comment\u2069\n${good}`, 1, /bidirectional control character \(U\+2066\)/);
  await refused(`${good}${SHA}  pool/x\u200f.deb\n`, 2, /U\+200F/);
  await refused(`${good}${SHA}  pool/x\u061c.deb\n`, 2, /U\+061C/);
  await refused(`${good}${SHA}  pool/x\u0085.deb\n`, 2, /C1 control/);
});

test('CR line endings (a CR not before LF) are refused; CRLF is fine', async () => {
  await refused(`${good.trimEnd()}\r${SHA}  pool/other.deb\r`, 1, /carriage return/);
  const crlf = await download(await lockfileWith(good.replace('\n', '\r\n')));
  assert.equal(crlf.code, 0, crlf.stderr);
});

test('a component over 255 bytes and a path over 4096 bytes are refused; 255 bytes is downloaded', async () => {
  await refused(`${good}${SHA}  pool/${'x'.repeat(252)}.deb\n`, 2, /path component of 256 bytes/);
  await refused(`${good}${SHA}  pool/${'é'.repeat(128)}.deb\n`, 2, /path component of 260 bytes/);
  await refused(`${good}${SHA}  ${'d/'.repeat(2100)}x.deb\n`, 2, /longer than 4096 bytes/);
  const name = `pool/${'y'.repeat(251)}.deb`;
  await writeFile(join(www, name), DATA);
  const ok = await download(await lockfileWith(`${SHA}  ${name}\n`));
  assert.equal(ok.code, 0, ok.stderr);
  // Accepted by the parser, and written: -o's files are made relative to their directory's descriptor
  // (output-dir.ts), so a path near PATH_MAX (with its longer temp name) works; sha256sum -c passes in -o.
  const deep = `${'d'.repeat(200)}/`.repeat(20) + 'x.deb';
  const deepLock = await lockfileWith(`${SHA}  ${deep}\n`);
  const deepOk = await download(deepLock, '--provider', `file://${join(www, 'pool/good.deb')}`);
  assert.equal(deepOk.code, 0, deepOk.stderr);
  assert.equal((await run('sha256sum', ['-c', '--strict', deepLock], { cwd: join(tmp, 'out') })).code, 0);
});

test('a path that is also the directory of another path (a and a/b) is refused naming both lines', async () => {
  await refused(`${SHA}  pool/a\n# between\n${SHA}  pool/a/b.deb\n`, 3, /pool\/a \(line 1\) is a file but also the directory of pool\/a\/b\.deb \(line 3\)/);
  await refused(`${SHA}  pool/a/b/c.deb\n${SHA}  pool/a\n`, 2, /pool\/a \(line 2\) is a file but also the directory/);
});

test('an empty, comment-only or CR-only lockfile is exit 2 unless --allow-empty', async () => {
  for (const content of ['', '# pinget lockfile v1\n# distro: debian 12\n', '\r\n\r\n']) await refused(content, undefined, /no package lines/);
  await refused('\r\r\r', 1, /carriage return/);
  const allowed = await download(await lockfileWith('# pinget lockfile v1\n'), '--allow-empty');
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stderr, /0 files verified/);
});

test('commands without --allow-empty do not suggest it for an empty lockfile (hash verify, providers)', async () => {
  const empty = await lockfileWith('# pinget lockfile v1\n');
  for (const args of [['hash', 'verify', empty], ['providers', empty]]) {
    const res = await runCli(args);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /no package lines/);
    assert.doesNotMatch(res.stderr, /--allow-empty/, `${args[0]}: names an option it does not have`);
  }
});

test('a FIFO, a device or a directory as the lockfile is refused before reading, without hanging', async () => {
  const fifo = join(tmp, 'fifo');
  assert.equal((await run('mkfifo', [fifo])).code, 0);
  for (const [file, kind] of [[fifo, 'a FIFO'], ['/dev/zero', 'a character device'], [tmp, 'a directory']]) {
    const res = await cliWithin(['download', file, '-o', join(tmp, 'out'), '--cache', join(tmp, 'cache'), '--provider', `${server.url}/{{.Name}}`], 20_000);
    assert.equal(res.killed, false, `${file}: hung`);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, new RegExp(`${file}: cannot read the lockfile: ${kind}, not a regular file`));
  }
});

test('a 10 MB line is parsed in linear time: a header, a comment and a path', async () => {
  // The old header pattern backtracked over runs of white space: quadratic in the line length.
  const header = `# note: x${' \t'.repeat(5_000_000)}y\n`;
  const res = await cliWithin(['download', await lockfileWith(header + good), '-o', join(tmp, 'out-long'), '--cache', join(tmp, 'cache'), '--provider', `${server.url}/{{.Name}}`], 15_000);
  assert.equal(res.killed, false, 'a 10 MB header line must not take minutes');
  assert.equal(res.code, 0, res.stderr);
  const path = await cliWithin(['download', await lockfileWith(`${good}${SHA}  ${'p/'.repeat(5_000_000)}x\n`), '-o', join(tmp, 'out-long'), '--cache', join(tmp, 'cache')], 15_000);
  assert.equal(path.killed, false);
  assert.equal(path.code, 2, path.stderr);
  assert.match(path.stderr, /:2: path is longer than 4096 bytes/);
  assert.ok(path.stderr.length < 2000, 'the message quotes the path shortened');
});

/**
 * Fuzz, fixed seed: 1000 mutations of a valid lockfile (byte flips, truncation, duplicated lines, huge
 * lines, CRLF/CR, BOMs, control and bidi characters, invalid UTF-8, `a` beside `a/b`, long components
 * and paths, unsafe paths, wrong hashes, missing files) through `download` against a local server.
 * Each must end with exit 0, 2, 3 or 4 within 5 s: never 70, never a stack trace. The cases run in one
 * child process (test/helpers/cli-loop.ts) that calls the CLI's main for each.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { sha256Bytes } from '../src/verify/sha256.js';

const SEED = 0x5eed1234;
const CASES = 1000;

let tmp: string;
let server: TestServer;
const files: { path: string; sha256: string }[] = [];

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-fuzz-'));
  const www = join(tmp, 'www');
  for (const path of ['pool/main/a/alpha/alpha_1.0_amd64.deb', 'pool/main/b/beta/beta_2.0_all.deb', 'pool/main/b/beta/beta-data_2.0_all.deb', 'pool/contrib/g/gamma/gamma_0.1_amd64.deb']) {
    const data = randomBytes(1500);
    await mkdir(join(www, path, '..'), { recursive: true });
    await writeFile(join(www, path), data);
    files.push({ path, sha256: sha256Bytes(data) });
  }
  server = await serveDirectory(www);
});

after(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** A seeded stream of numbers in [0, 1): sha256 of (seed, block number), 8 numbers per block; every run tests the same cases. */
function prng(seed: number): () => number {
  let block = 0;
  let words: Uint32Array = new Uint32Array(0);
  let at = 0;
  return () => {
    if (at >= words.length) {
      const digest = createHash('sha256').update(`${seed}:${block++}`).digest();
      words = new Uint32Array(Uint8Array.from(digest).buffer);
      at = 0;
    }
    return words[at++] / 4294967296;
  };
}

type Mutation = (text: Buffer, r: () => number) => Buffer;
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: () => number, n: number) => Math.floor(r() * n);
const lines = (b: Buffer) => b.toString('latin1').split('\n');
const join1 = (ls: string[]) => Buffer.from(ls.join('\n'), 'latin1');
const hex64 = (r: () => number) => Array.from({ length: 64 }, () => '0123456789abcdef'[int(r, 16)]).join('');
const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const insertAt = (b: Buffer, at: number, add: Buffer) => Buffer.concat([b.subarray(0, at), add, b.subarray(at)]);
const addLine = (b: Buffer, r: () => number, line: string) => {
  const ls = lines(b);
  ls.splice(int(r, ls.length + 1), 0, line);
  return join1(ls);
};
const SPECIAL = ['\x00', '\x1b', '\x7f', '\t', '\r', '\u0085', '\u009b', '\u202e', '\u2066', '\u2069', '\u200f', '\u061c', '\ufeff', '\u00e9', '\\', '/', '..', ' ', '*', '#'];

const MUTATIONS: Record<string, Mutation> = {
  flip: (b, r) => {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[int(r, c.length)] ^= 1 << int(r, 8);
    return c;
  },
  randomByte: (b, r) => (b.length === 0 ? b : insertAt(b, int(r, b.length), Buffer.from([int(r, 256)]))),
  truncate: (b, r) => b.subarray(0, int(r, b.length + 1)),
  duplicate: (b, r) => {
    const ls = lines(b);
    const l = pick(r, ls);
    return addLine(b, r, r() < 0.5 ? l : hex64(r) + l.slice(64));
  },
  hugeLine: (b, r) => addLine(b, r, pick(r, ['# note: ' + ' \t'.repeat(100_000 + int(r, 400_000)) + 'x', hex64(r) + '  ' + 'p/'.repeat(60_000), 'z'.repeat(500_000), '#' + ' '.repeat(300_000)])),
  crlf: (b) => Buffer.from(b.toString('latin1').replace(/\n/g, '\r\n'), 'latin1'),
  crOnly: (b) => Buffer.from(b.toString('latin1').replace(/\n/g, '\r'), 'latin1'),
  bom: (b, r) => insertAt(b, r() < 0.7 ? 0 : int(r, b.length + 1), Buffer.from([0xef, 0xbb, 0xbf])),
  special: (b, r) => insertAt(b, int(r, b.length + 1), Buffer.from(pick(r, SPECIAL), 'utf8')),
  invalidUtf8: (b, r) => insertAt(b, int(r, b.length + 1), Buffer.from(pick(r, [[0xff], [0xc3], [0xe2, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]]))),
  fileAndDir: (b, r) => {
    const f = pick(r, files);
    return addLine(b, r, `${f.sha256}  ${pick(r, [f.path + '/sub.deb', f.path.slice(0, f.path.lastIndexOf('/'))])}`);
  },
  longComponent: (b, r) => addLine(b, r, `${pick(r, files).sha256}  pool/${'c'.repeat(250 + int(r, 12))}.deb`),
  longPath: (b, r) => addLine(b, r, `${pick(r, files).sha256}  ${`${'d'.repeat(int(r, 250) + 1)}/`.repeat(15 + int(r, 10))}x.deb`),
  multibyteComponent: (b, r) => addLine(b, r, `${pick(r, files).sha256}  pool/${utf8('é'.repeat(120 + int(r, 20)))}.deb`),
  unsafePath: (b, r) => addLine(b, r, `${pick(r, files).sha256}  ${pick(r, ['/etc/passwd', '../x', 'a/../../b', 'a//b', './a', 'a\\b', '', 'a/', '/ipfs/Qm', '/ipfs/', utf8('pool/\u202egnp.deb')])}`),
  wrongHash: (b, r) => addLine(b, r, `${hex64(r)}  ${pick(r, files).path}`),
  missingFile: (b, r) => addLine(b, r, `${hex64(r)}  pool/missing/${int(r, 1000)}.deb`),
  headers: (b, r) => addLine(b, r, pick(r, ['# pinget lockfile v2', '# pinget lockfile v999999999999999999999', '# distro: ' + 'x'.repeat(int(r, 5000)), '# snapshot: not-a-date', '# distro: fedora 40', '# arch: s390x', '#:', '# : x'])),
  separator: (b, r) => {
    const ls = lines(b);
    const i = int(r, ls.length);
    ls[i] = ls[i].slice(0, 64) + pick(r, [' ', '   ', '\t', ' *', '* ', '']) + ls[i].slice(66);
    return join1(ls);
  },
  empty: (_b, r) => Buffer.from(pick(r, ['', '\n', '# only a comment\n', '\r\n\r\n', '\ufeff', ' \n\t\n'])),
  shuffle: (b, r) => {
    const ls = lines(b);
    for (let i = ls.length - 1; i > 0; i--) {
      const j = int(r, i + 1);
      [ls[i], ls[j]] = [ls[j], ls[i]];
    }
    return join1(ls);
  },
};

function makeCases(): { content: Buffer; kinds: string[] }[] {
  const r = prng(SEED);
  const base = Buffer.from(['# pinget lockfile v1', '# distro: debian 12 (bookworm) amd64', ...files.map((f) => `${f.sha256}  ${f.path}`), ''].join('\n'));
  const names = Object.keys(MUTATIONS);
  return Array.from({ length: CASES }, () => {
    let content: Buffer = base;
    const kinds: string[] = [];
    for (let k = 1 + int(r, 3); k > 0; k--) {
      const name = pick(r, names);
      kinds.push(name);
      content = MUTATIONS[name](content, r);
    }
    return { content, kinds };
  });
}

test(`fuzz: ${CASES} mutated lockfiles through download end in exit 0, 2, 3 or 4 within 5 s, never 70 nor a stack trace`, { timeout: 240_000 }, async () => {
  const cases = makeCases();
  const dir = join(tmp, 'cases');
  await mkdir(dir);
  const argvs: string[][] = [];
  for (const [i, c] of cases.entries()) {
    const file = join(dir, `SHA256SUMS-${i}`);
    await writeFile(file, c.content);
    argvs.push(['download', file, '-o', join(tmp, 'out', String(i)), '--cache', join(tmp, 'cache'), '--provider', `${server.url}/{{.Name}}`, '--retries', '0', '--jobs', '4', '--quiet']);
  }
  const casesFile = join(tmp, 'cases.json');
  const resultsFile = join(tmp, 'results.jsonl');
  await writeFile(casesFile, JSON.stringify(argvs));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'test', 'helpers', 'cli-loop.ts'), casesFile, resultsFile], { stdio: ['ignore', 'inherit', 'pipe'] });
  let childErr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (childErr += d));
  const exit = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const results = (await readFile(resultsFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { i: number; code: number | string; ms: number; stderr: string });
  const next = results.length;
  assert.equal(exit, 0, `the loop died at case ${next} (${cases[next]?.kinds.join('+')}): ${childErr.slice(0, 2000)}`);
  assert.equal(results.length, CASES);

  const bad = results.filter((res) => ![0, 2, 3, 4].includes(res.code as number) || /^\s+at .+:\d+:\d+\)?$/m.test(res.stderr) || /internal error/.test(res.stderr));
  const show = bad.slice(0, 5).map((res) => `case ${res.i} (${cases[res.i].kinds.join('+')}): exit ${res.code} after ${res.ms} ms: ${res.stderr.slice(0, 500)}`);
  assert.deepEqual(show, []);
  const codes = new Map<number | string, number>();
  for (const res of results) codes.set(res.code, (codes.get(res.code) ?? 0) + 1);
  // The mutations reach every outcome, so the run tests more than the parser's first line.
  for (const code of [0, 2, 3, 4]) assert.ok((codes.get(code) ?? 0) > 0, `some case ends with exit ${code}: ${JSON.stringify([...codes])}`);
  // What an accepted lockfile wrote stays inside its -o (no file outside the per-case directories).
  assert.deepEqual((await readdir(tmp)).sort(), ['cache', 'cases', 'cases.json', 'out', 'results.jsonl', 'www']);
});

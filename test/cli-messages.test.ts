/**
 * Messages a newcomer meets first: a --root that does not exist, a mistyped option, info's distro list, a
 * Dockerfile that would COPY a file from outside its build context. Each is one true line with its exit code.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { NODE_LTS } from '../src/dockerfile.js';

let tmp: string;
const LOCK = join('testdata', 'diff', 'debian-new.SHA256SUMS');
const PINNED = ['--base', `debian:bookworm@sha256:${'a'.repeat(64)}`, '--node-image', `node:${NODE_LTS}-bookworm-slim@sha256:${'b'.repeat(64)}`];

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-messages-'));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('--root that does not exist, or is a file: exit 2 naming the path, not "distro not supported"', async () => {
  const missing = join(tmp, 'no-such-root');
  const file = join(tmp, 'a-file');
  await writeFile(file, 'x');
  for (const [root, why] of [[missing, 'no such directory'], [file, 'not a directory']]) {
    for (const args of [['hash', 'generate'], ['hash', 'verify', LOCK], ['install', LOCK]]) {
      const res = await runCli([...args, '--root', root]);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.equal(res.stderr, `pinget: --root ${root}: ${why}\n`);
    }
  }
});

test('usage errors name options as typed, never yargs internal names, in one line', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['hash', 'verify', LOCK, '--dry-rum=such'], /^pinget: unknown option --dry-rum \(/],
    [['hash', 'verify', LOCK, '--no-such'], /^pinget: unknown option --no-such \(/],
    [['diff', LOCK, LOCK, '--format', 'such'], /^pinget: --format "such": not one of "text", "markdown", "json" \(see pinget diff --help\)$/],
  ];
  for (const [args, want] of cases) {
    const res = await runCli(args);
    assert.equal(res.code, 2, res.stderr);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr.trim(), want);
    assert.doesNotMatch(res.stderr, /dryRum|argument "such"|Argument:/);
  }
});

test('info lists the known distros sorted, ubuntu among them', async () => {
  const res = await runCli(['info', '--json']);
  assert.equal(res.code, 0, res.stderr);
  const distros: string[] = JSON.parse(res.stdout).distros;
  assert.deepEqual(distros, [...distros].sort());
  assert.ok(distros.includes('ubuntu') && distros.includes('debian'), distros.join(', '));
  const text = await runCli(['info']);
  assert.match(text.stdout, new RegExp(`^known distros: ${distros.join(', ')}$`, 'm'));
});

test('dockerfile generate refuses (exit 2) a lockfile or --bundle outside the build context, writing nothing', async () => {
  const dir = await mkdtemp(join(tmp, 'docker-'));
  const out = join(dir, 'Dockerfile');
  for (const extra of [[join(process.cwd(), LOCK)], [join('..', 'elsewhere', 'SHA256SUMS')], [LOCK, '--bundle', '../pinget.mjs']]) {
    const res = await runCli(['dockerfile', 'generate', ...extra, ...PINNED, '-o', out]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /^pinget: (the lockfile|--bundle) \S+ is outside the build context, so the Dockerfile's COPY of it would fail/);
  }
  assert.deepEqual(await readdir(dir), []);
  const ok = await runCli(['dockerfile', 'generate', LOCK, ...PINNED]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`COPY ${LOCK.replace(/\./g, '\\.')} `));
  // an absolute path inside the context (the Dockerfile's directory with -o) is copied by its path in it
  const lock = join(dir, 'sub', 'SHA256SUMS');
  await mkdir(join(dir, 'sub'));
  await copyFile(LOCK, lock);
  const inside = await runCli(['dockerfile', 'generate', lock, ...PINNED, '-o', out]);
  assert.equal(inside.code, 0, inside.stderr);
  assert.match(await readFile(out, 'utf8'), /^COPY sub\/SHA256SUMS /m);
});

test('shared options before the command word are taken as if given after it; anything else there is left to yargs', async () => {
  const { commandFirst } = await import('../src/main.js');
  assert.deepEqual(commandFirst(['--verbose', 'lock', 'hello']), ['lock', '--verbose', 'hello']);
  assert.deepEqual(commandFirst(['-q', '--cache', '/c', '--jobs=4', 'hash', 'generate', '-o', 'F']), ['hash', 'generate', '-q', '--cache', '/c', '--jobs=4', '-o', 'F']);
  assert.deepEqual(commandFirst(['--no-json', 'info', '--', '-x']), ['info', '--no-json', '--', '-x']);
  for (const args of [['--nosuch', 'info'], ['--cache', 'info'], ['--cache', '--json', 'info'], ['--json', 'hello'], ['--json', 'hash'], ['--json', 'hash', '--help'], ['info', '--json'], ['-x', 'info'], ['--', 'info']]) {
    assert.deepEqual(commandFirst(args), args, args.join(' '));
  }
  const dir = await mkdtemp(join(tmpdir(), 'pinget-cmdfirst-'));
  try {
    const res = await runCli(['--json', '--cache', join(dir, 'cache'), 'cache', 'ls']);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(JSON.parse(res.stdout), res.stdout);
    // an unknown option before the command is named as such, not "name a command"
    const typo = await runCli(['--nosuch', 'info']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^pinget: unknown option --nosuch before the command/);
    // every command's own help is named, lock's too
    const lockTypo = await runCli(['lock', '--nosuch']);
    assert.match(lockTypo.stderr, /unknown option --nosuch \(see pinget lock --help\)/);
    // a shared option the command does not take is still refused, by the command
    const diff = await runCli(['--root', '/', 'diff', '/dev/null', '/dev/null']);
    assert.equal(diff.code, 2);
    assert.match(diff.stderr, /unknown option --root \(see pinget diff --help\)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

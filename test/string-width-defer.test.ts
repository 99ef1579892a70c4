/**
 * yargs' string-width is replaced by src/ui/ascii-string-width.ts (installed by src/cli.ts): the real one
 * must not load for a command that prints no help, and help must not change because of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from '../src/exec.js';
import { REPO_ROOT, runCli } from './helpers/cli.js';

const TSX = import.meta.resolve('tsx');
/** The string-width yargs itself resolves (yargs keeps its own copy when versions differ). */
const realUrl = pathToFileURL(createRequire(createRequire(join(REPO_ROOT, 'package.json')).resolve('yargs')).resolve('string-width')).href;

test('the stand-in: printable ASCII by length, anything else by the real string-width', async () => {
  const shim = (await import(`../src/ui/ascii-string-width.ts?of=${encodeURIComponent(realUrl)}`)) as { default: (s: string) => number };
  const real = ((await import(realUrl)) as { default: (s: string) => number }).default;
  for (const s of ['', 'plain text', '  --jobs  N ~!@#$%^&*()', 'tab\there', '\x1b[31mred\x1b[0m', '日本語', 'e\u0301', '👍🏽 ok', 'naïve — dash']) {
    assert.equal(shim.default(s), real(s), JSON.stringify(s));
  }
  assert.equal(shim.default(undefined as unknown as string), 0);
});

test('a command that prints no help never loads the real string-width', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-sw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const lockfile = join(dir, 'SHA256SUMS');
  await writeFile(lockfile, `${'ab'.repeat(32)}  pool/main/h/hello/hello_2.10-3_amd64.deb\n`);
  const hook =
    'data:text/javascript,import{registerHooks}from"node:module";registerHooks({load(u,c,n){if(/string-width\\/index\\.js$/.test(u))process.stderr.write("LOADED "+u+"\\n");return n(u,c)}});';
  const r = await run(process.execPath, ['--import', hook, '--import', TSX, join(REPO_ROOT, 'src/cli.ts'), 'hash', 'inspect', lockfile], { cwd: REPO_ROOT });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /LOADED/);
  // The hook does see string-width when something loads it: a non-ASCII width through the stand-in.
  const shown = await run(process.execPath, ['--import', hook, '--input-type=module', '-e', `const m = await import(${JSON.stringify(`${pathToFileURL(join(REPO_ROOT, 'src/ui/ascii-string-width.ts')).href}?of=${encodeURIComponent(realUrl)}`)}); console.log(m.default('日本'));`], { cwd: REPO_ROOT });
  assert.equal(shown.stdout.trim(), '4', shown.stderr);
  assert.match(shown.stderr, /LOADED/);
});

test('help through the stand-in equals help through the real string-width, at each width', async (t) => {
  // main() imported directly by a script of its own: no cli.ts, so no redirect.
  const dir = await mkdtemp(join(tmpdir(), 'pinget-sw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const direct = join(dir, 'pinget-direct.mjs');
  await writeFile(direct, `const { main } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'src/main.ts')).href)}); process.exitCode = await main(process.argv.slice(2));\n`);
  for (const words of [[], ['install'], ['download'], ['hash', 'generate'], ['cache', 'push'], ['diff'], ['dockerfile', 'generate']]) {
    for (const columns of [60, 100, 140]) {
      const cols = `data:text/javascript,Object.defineProperty(process.stdout,'columns',{value:${columns}})`;
      const env = { ...process.env, PINGET_NO_FAST_HELP: '1', LC_ALL: 'en_US.UTF-8' };
      const viaCli = await runCli([...words, '--help'], { env: { ...env, NODE_OPTIONS: `--import=${cols}` } });
      const viaMain = await run(process.execPath, ['--import', cols, '--import', TSX, direct, ...words, '--help'], { cwd: REPO_ROOT, env: { ...env, NO_COLOR: '1' } });
      assert.equal(viaCli.code, 0, viaCli.stderr);
      assert.ok(viaCli.stdout.length > 100);
      assert.equal(viaCli.stdout, viaMain.stdout, `${words.join(' ')} --help at ${columns} columns`);
    }
  }
});

/**
 * `pinget --help`/`-h`/`--version`/`-V` print text rendered at build time instead of loading yargs
 * (src/fast-help.ts). These checks run the built dist/src/cli.js and the bundle, and compare the fast output
 * with what yargs prints for the same argv and width, so the rendered text can never go stale unnoticed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { run } from '../src/exec.js';
import { REPO_ROOT } from './helpers/cli.js';

const FORMS = ['--help', '-h', '--version', '-V'];
/** A terminal's width, set before pinget loads (a pipe has none: yargs gets width 100). */
const columns = (n: number) => ['--import', `data:text/javascript,Object.defineProperty(process.stdout,'columns',{value:${n}})`];

async function compare(entry: string): Promise<void> {
  for (const form of FORMS) {
    for (const pre of [[], columns(110), columns(200)]) {
      const env = { ...process.env, LC_ALL: 'en_US.UTF-8' };
      const fast = await run(process.execPath, [...pre, entry, form], { env });
      const slow = await run(process.execPath, [...pre, entry, form], { env: { ...env, PINGET_NO_FAST_HELP: '1' } });
      assert.equal(fast.code, 0, fast.stderr);
      assert.equal(slow.code, 0, slow.stderr);
      assert.equal(fast.stderr, '');
      assert.equal(fast.stdout, slow.stdout, `${entry} ${form} ${pre.join(' ')}`);
    }
  }
  // A width with no rendered text (80 columns) and a translated locale go through yargs, and still match it.
  const narrow = await run(process.execPath, [...columns(80), entry, '--help']);
  const narrowSlow = await run(process.execPath, [...columns(80), entry, '--help'], { env: { ...process.env, PINGET_NO_FAST_HELP: '1' } });
  assert.equal(narrow.stdout, narrowSlow.stdout);
  const de = { ...process.env, LC_ALL: 'de_DE.UTF-8' };
  const deFast = await run(process.execPath, [entry, '--help'], { env: de });
  const deSlow = await run(process.execPath, [entry, '--help'], { env: { ...de, PINGET_NO_FAST_HELP: '1' } });
  assert.equal(deFast.stdout, deSlow.stdout);
}

test('the dist build: the fast --help/--version equal what yargs prints', async () => {
  const build = await run('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT });
  assert.equal(build.code, 0, build.stderr);
  const entry = join(REPO_ROOT, 'dist/src/cli.js');
  await compare(entry);
  // The fast path really is taken: yargs is never resolved (a module hook reports every import of it).
  const hook = `data:text/javascript,import{registerHooks}from'node:module';registerHooks({resolve(s,c,n){if(s.startsWith('yargs'))process.stderr.write('loads yargs\\n');return n(s,c)}})`;
  for (const form of FORMS) {
    const fast = await run(process.execPath, ['--import', hook, entry, form]);
    assert.equal(fast.code, 0, fast.stderr);
    assert.doesNotMatch(fast.stderr, /loads yargs/, form);
  }
  const slow = await run(process.execPath, ['--import', hook, entry, 'providers', '--help']);
  assert.match(slow.stderr, /loads yargs/, 'the hook sees yargs where it is loaded');
});

test('the bundle: the fast --help/--version equal what yargs prints', async () => {
  const build = await run('npm', ['run', '--silent', 'bundle'], { cwd: REPO_ROOT });
  assert.equal(build.code, 0, build.stderr);
  await compare(join(REPO_ROOT, 'dist/pinget.mjs'));
});

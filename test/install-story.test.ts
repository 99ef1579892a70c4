/**
 * A newcomer installs pinget with `npm install -g` of a clone: npm's global folder install runs `prepare`
 * without devDependencies (no tsc), so scripts/prepare.mjs uses a built dist/ or installs the locked
 * devDependencies first. Runs the real npm with only the Node pinget needs on PATH (no tsc of ours).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runChecked } from '../src/exec.js';
import { REPO_ROOT } from './helpers/cli.js';

let tmp: string;
let env: NodeJS.ProcessEnv;
let npm: string | undefined;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-install-story-'));
  await mkdir(join(tmp, 'bin'));
  await symlink(process.execPath, join(tmp, 'bin', 'node'));
  npm = (await run('sh', ['-c', 'command -v npm'])).stdout.trim() || undefined;
  // only this Node and the system's tools: nothing of the repo's node_modules/.bin (tsc) on PATH
  env = { PATH: `${join(tmp, 'bin')}:/usr/bin:/bin`, HOME: process.env.HOME, npm_config_cache: process.env.npm_config_cache, npm_config_update_notifier: 'false' };
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('prepare without TypeScript uses the dist/ already built, and says so in one line', async () => {
  const pkg = join(tmp, 'built');
  await mkdir(join(pkg, 'scripts'), { recursive: true });
  await mkdir(join(pkg, 'dist', 'src'), { recursive: true });
  await cp(join(REPO_ROOT, 'scripts', 'prepare.mjs'), join(pkg, 'scripts', 'prepare.mjs'));
  await writeFile(join(pkg, 'package.json'), '{"name":"x","version":"0.0.0","type":"module"}\n');
  await writeFile(join(pkg, 'dist', 'src', 'cli.js'), '');
  const res = await run(process.execPath, [join(pkg, 'scripts', 'prepare.mjs')], { env, cwd: pkg });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, 'pinget prepare: TypeScript is not installed; using the dist/ already built\n');
});

test('npm install -g of a fresh clone gives a working pinget', async (t) => {
  if (!npm) return t.skip('npm is not installed');
  const clone = join(tmp, 'clone');
  await runChecked('git', ['clone', '-q', REPO_ROOT, clone], 'INTERNAL');
  const prefix = join(tmp, 'prefix');
  const res = await run(npm, ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', clone], { env });
  assert.equal(res.code, 0, res.stderr);
  const version = await run(join(prefix, 'bin', 'pinget'), ['--version'], { env, cwd: tmp });
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const info = await run(join(prefix, 'bin', 'pinget'), ['info', '--json'], { env, cwd: tmp });
  assert.equal(info.code, 0, info.stderr);
  assert.ok(JSON.parse(info.stdout).distros.includes('debian'));
});

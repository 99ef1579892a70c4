/**
 * A newcomer installs pinget with `npm install -g` of a clone: npm's global folder install runs `prepare`
 * without devDependencies (no tsc), so scripts/prepare.mjs uses a built dist/ or installs the locked
 * devDependencies first. Runs the real npm with only the Node pinget needs on PATH (no tsc of ours), a
 * global prefix and an npm cache of its own (shared by this file's installs: the registry is asked once).
 *
 * `npm install -g git+URL` (here git+file:// of a clone): npm 12.2.3 (.ci/setup.d/45-npm12.sh) gives a
 * working pinget; an npm before 12.2.2 (npm/cli#9406, the host's npm when it is one) exits non-zero with
 * prepare.mjs's one line, never 0 with a link into a deleted clone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { run, runChecked } from '../src/exec.js';
import { REPO_ROOT } from './helpers/cli.js';

const NPM12 = join(REPO_ROOT, 'tmp', 'npm12', 'node_modules', 'npm', 'bin', 'npm-cli.js');
/** The variables that reach the registry from this machine (its CA, its proxy), passed to the npm under test. */
const NET = ['NODE_EXTRA_CA_CERTS', 'https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY', 'npm_config_registry'];

let tmp: string;
let env: NodeJS.ProcessEnv;
let npm: string | undefined;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-install-story-'));
  await mkdir(join(tmp, 'bin'));
  await symlink(process.execPath, join(tmp, 'bin', 'node'));
  npm = (await run('sh', ['-c', 'command -v npm'])).stdout.trim() || undefined;
  // only this Node and the system's tools: nothing of the repo's node_modules/.bin (tsc) on PATH
  const net = Object.fromEntries(NET.filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
  env = { ...net, PATH: `${join(tmp, 'bin')}:/usr/bin:/bin`, HOME: process.env.HOME, npm_config_cache: join(tmp, 'npm-cache'), npm_config_update_notifier: 'false' };
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

/** npm's version as `npm --version` prints it, and whether its git installs prepare locally (>= 12.2.2). */
async function npmVersion(cmd: string[]): Promise<{ version: string; fixed: boolean }> {
  const res = await run(cmd[0], [...cmd.slice(1), '--version'], { env, cwd: tmp });
  assert.equal(res.code, 0, res.stderr);
  const version = res.stdout.trim();
  const [major, minor, patch] = version.split('.').map(Number);
  return { version, fixed: major > 12 || (major === 12 && (minor > 2 || (minor === 2 && patch >= 2))) };
}

/** `npm install -g git+file://CLONE` with `cmd` into a prefix of its own; asserts what that npm can do. */
async function gitInstall(cmd: string[], name: string): Promise<void> {
  const clone = join(tmp, `git-${name}`);
  await runChecked('git', ['clone', '-q', REPO_ROOT, clone], 'INTERNAL');
  const prefix = join(tmp, `prefix-git-${name}`);
  const { version, fixed } = await npmVersion(cmd);
  // npm 12 fetches git dependencies only when told to
  const allow = fixed ? ['--allow-git=root'] : [];
  const res = await run(cmd[0], [...cmd.slice(1), 'install', '-g', ...allow, '--prefix', prefix, '--no-audit', '--no-fund', `git+file://${clone}`], { env, cwd: tmp });
  if (!fixed) {
    assert.notEqual(res.code, 0, `npm ${version} reported success: ${res.stderr}`);
    assert.match(res.stderr, new RegExp(`pinget prepare: npm ${version.replace(/\./g, '\\.')} cannot install a git URL globally \\(npm/cli#9406[^\n]*use npm >= 12\\.2\\.2, or npm install -g a clone or the tarball of npm pack\n`));
    assert.equal(existsSync(join(prefix, 'bin', 'pinget')), false, 'no pinget left behind');
    return;
  }
  assert.equal(res.code, 0, res.stderr);
  const version2 = await run(join(prefix, 'bin', 'pinget'), ['--version'], { env, cwd: tmp });
  assert.equal(version2.code, 0, version2.stderr);
  assert.match(version2.stdout, /^\d+\.\d+\.\d+\n$/);
  const info = await run(join(prefix, 'bin', 'pinget'), ['info', '--json'], { env, cwd: tmp });
  assert.equal(info.code, 0, info.stderr);
  assert.ok(JSON.parse(info.stdout).distros.includes('debian'));
}

test('npm install -g git+file:// of a clone with npm 12.2.3 gives a working pinget', async (t) => {
  if (!existsSync(NPM12)) {
    if (process.env.CI === 'true') assert.fail(`no npm 12 at ${NPM12} (.ci/setup.d/45-npm12.sh)`);
    return t.skip('no npm 12 at tmp/npm12 (run .ci/setup.d/45-npm12.sh)');
  }
  await gitInstall([process.execPath, NPM12], 'npm12');
});

test('npm install -g git+file:// with the host\'s npm: a working pinget, or (npm < 12.2.2) one line and no exit 0', async (t) => {
  if (!npm) return t.skip('npm is not installed');
  await gitInstall([npm], 'host');
});

/**
 * The single executable (`npm run sea`) where there is no Node at all: a minbase root of the machine's release
 * (test/helpers/minbase.ts) with only the executable copied in, run by chroot with an empty environment.
 * `--version`, `info`, a real `hash generate --root /` of that root (the same lockfile as the tsx-run pinget
 * makes of it from outside) and `hash verify` of it; a typo is a usage error (exit 2), as with the bundle.
 * Needs root (chroot) and mmdebstrap; skipped without them unless CI=true.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { REPO_ROOT, runCli } from './helpers/cli.js';
import { hostCodename, minbaseTarball } from './helpers/minbase.js';
import { seaExecutable } from './helpers/sea.js';

const inCI = process.env.CI === 'true';
const haveMmdebstrap = (await run('mmdebstrap', ['--version']).catch(() => undefined))?.code === 0;
const why = process.getuid?.() !== 0 ? 'chroot needs root' : !haveMmdebstrap ? 'mmdebstrap is not installed (.ci/apt-packages/image.txt)' : undefined;
const skip = why && !inCI ? `${why}; under CI=true this fails` : false;

let work: string;
let root: string;
let version: string;

before(async () => {
  if (skip) return;
  version = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  await mkdir(join(REPO_ROOT, 'tmp'), { recursive: true });
  work = await mkdtemp(join(REPO_ROOT, 'tmp', 'sea-test-'));
  root = join(work, 'root');
  await mkdir(root);
  const [exe, tarball] = await Promise.all([seaExecutable(), minbaseTarball(await hostCodename())]);
  const untar = await run('tar', ['-C', root, '-xf', tarball]);
  assert.equal(untar.code, 0, untar.stderr);
  await copyFile(exe, join(root, 'usr/local/bin/pinget'));
  const chmod = await run('chmod', ['755', join(root, 'usr/local/bin/pinget')]);
  assert.equal(chmod.code, 0);
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** pinget inside the root, with nothing in its environment (the root's own `env -i`). */
const inRoot = (args: string[]) => run('chroot', [root, '/usr/bin/env', '-i', '/usr/local/bin/pinget', ...args]);

test('the root has no Node: the executable is all there is', { skip }, async () => {
  const find = await run('chroot', [root, '/bin/sh', '-c', 'command -v node nodejs; ls -d /usr/lib/node_modules /usr/local/lib/node_modules /usr/lib/*/libnode* 2>/dev/null; true']);
  assert.equal(find.stdout.trim(), '', `Node found in the root: ${find.stdout}`);
});

test('--version and info run with an empty environment in a root without Node', { skip }, async () => {
  const v = await inRoot(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), version);
  const info = await inRoot(['info']);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, new RegExp(`^pinget ${version.replace(/\./g, '\\.')} on Node\\.js v\\d+`, 'm'));
  assert.match(info.stdout, /^distro: debian \d+ \(\w+\) \w+ \(adapter debian\)$/m);
  const typo = await inRoot(['hash', 'generat']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown command "generat"/);
});

test('hash generate --root / inside the root gives the lockfile pinget makes of it from outside; hash verify passes', { skip, timeout: 5 * 60_000 }, async () => {
  const gen = await inRoot(['hash', 'generate', '--root', '/', '--offline', '-o', '/tmp/SHA256SUMS']);
  assert.equal(gen.code, 0, gen.stderr);
  const inside = parseLockfile(await readFile(join(root, 'tmp/SHA256SUMS'), 'utf8'));
  const outsideFile = join(work, 'outside.SHA256SUMS');
  const outside = await runCli(['hash', 'generate', '--root', root, '--offline', '-o', outsideFile]);
  assert.equal(outside.code, 0, outside.stderr);
  const expected = parseLockfile(await readFile(outsideFile, 'utf8'));
  assert.ok(inside.entries.length > 50, `a minbase root has more than ${inside.entries.length} packages`);
  assert.deepEqual(inside.entries, expected.entries);
  assert.equal(inside.headers.distro, expected.headers.distro);
  const verify = await inRoot(['hash', 'verify', '/tmp/SHA256SUMS', '--root', '/']);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout + verify.stderr, new RegExp(`${inside.entries.length} pinned packages, all installed at the pinned versions`));
});

test('npm pack leaves the executables out of the package (126 MB each; the package has dist/ and its bundle)', async () => {
  const probe = join(REPO_ROOT, 'dist', `pinget-linux-packtest-${process.pid}`);
  await mkdir(join(REPO_ROOT, 'dist'), { recursive: true });
  await writeFile(probe, 'not an executable\n');
  try {
    const res = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT });
    assert.equal(res.code, 0, res.stderr);
    const paths = (JSON.parse(res.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    assert.ok(paths.includes('package.json') && paths.some((p) => p.startsWith('dist/')), `the package lists dist/: ${paths.slice(0, 5).join(', ')}`);
    assert.deepEqual(paths.filter((p) => p.startsWith('dist/pinget-linux-')), []);
  } finally {
    await rm(probe, { force: true });
  }
});

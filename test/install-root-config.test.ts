/**
 * `install --root` runs dpkg with the root's own configuration and logs into the root (issue 15), and apt's
 * manual/auto marks survive the round trip through the lockfile's `manual` header.
 *
 * The host's dpkg configuration and log are replaced, for the pinget process only, inside a private mount
 * namespace (unshare -m; the test runs as root): a host `path-exclude` rule that must not apply to the root
 * and an empty stand-in for the host's /var/log/dpkg.log that must stay empty. Nothing of the real host changes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAptRepo, hostArch, makeAptRoot, type AptRepo, type AptRoot } from './helpers/apt-repo.js';
import { REPO_ROOT, runCli } from './helpers/cli.js';
import { run } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { rootMacroPath } from '../distros/fedora/install.js';

let repo: AptRepo;
let source: AptRoot;
let tmp: string;
let lockfile: string;

before(async () => {
  repo = await buildAptRepo();
  // pinget-extra by hand; pinget-app, pinget-lib and pinget-data come in as its dependencies (auto).
  source = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-extra'] });
  tmp = await mkdtemp(join(tmpdir(), 'pinget-root-config-'));
  lockfile = join(tmp, 'SHA256SUMS');
  const gen = await runCli(['hash', 'generate', '--root', source.root, '-o', lockfile], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  assert.equal(gen.code, 0, gen.stderr);
});

after(async () => {
  await source?.close();
  await repo?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function freshRoot(name: string): Promise<string> {
  const root = join(tmp, name);
  await mkdir(join(root, 'etc'), { recursive: true });
  await copyFile(join(source.root, 'etc/os-release'), join(root, 'etc/os-release'));
  return root;
}

/** Runs the CLI with the host's /etc/dpkg/dpkg.cfg.d and /var/log/dpkg.log replaced in a private mount namespace. */
function runCliWithHostDpkg(args: string[], hostCfgDir: string, hostLog: string) {
  const script = 'mount --bind "$0" /etc/dpkg/dpkg.cfg.d && mount --bind "$1" /var/log/dpkg.log && shift && exec "$@"';
  const argv = ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, hostCfgDir, hostLog, process.execPath, '--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'src/cli.ts'), ...args];
  return run('unshare', argv, { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } });
}

const exists = (p: string) => stat(p).then(() => true, () => false);

test('hash generate records the manual packages in a sorted `manual` header', async () => {
  const lock = parseLockfile(await readFile(lockfile, 'utf8'));
  assert.equal(lock.headers.manual, 'pinget-extra');
  assert.equal(lock.entries.length, 4);
});

test('install --root: the host dpkg config does not apply, the root\'s does, and the log is written into the root only', async () => {
  const hostCfg = join(tmp, 'host-dpkg.cfg.d');
  await mkdir(hostCfg);
  await writeFile(join(hostCfg, 'exclude'), 'path-exclude=/usr/share/pinget-test/pinget-data/*\n');
  const hostLog = join(tmp, 'host-dpkg.log');
  await writeFile(hostLog, '');
  const root = await freshRoot('cfg');
  await mkdir(join(root, 'etc/dpkg/dpkg.cfg.d'), { recursive: true });
  await writeFile(join(root, 'etc/dpkg/dpkg.cfg.d/excludes'), 'path-exclude=/usr/share/pinget-test/pinget-lib/*\n');
  const res = await runCliWithHostDpkg(['install', lockfile, '--root', root, '--provider', `${repo.url}/{{.Name}}`, '--cache', join(tmp, 'cache')], hostCfg, hostLog);
  assert.equal(res.code, 0, res.stderr);
  assert.ok(await exists(join(root, 'usr/share/pinget-test/pinget-data/README')), "the host's path-exclude must not change the root's tree");
  assert.ok(!(await exists(join(root, 'usr/share/pinget-test/pinget-lib/README'))), "the root's own path-exclude applies");
  assert.ok(await exists(join(root, 'usr/share/pinget-test/pinget-app/README')));
  assert.equal(await readFile(hostLog, 'utf8'), '', "nothing is logged into the host's /var/log/dpkg.log");
  assert.match(await readFile(join(root, 'var/log/dpkg.log'), 'utf8'), /status installed pinget-app:/);
  assert.ok(!(await exists(join(root, 'var/lib/dpkg/available'))), 'no empty var/lib/dpkg/available (apt-built roots have none)');
});

/** `apt-mark showauto` in root, with apt pointed at the root alone. */
async function showauto(root: string): Promise<string> {
  const conf = join(tmp, `apt-${root.split('/').pop()}.conf`);
  const parts = join(tmp, 'empty-parts');
  await mkdir(parts, { recursive: true });
  await mkdir(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
  await mkdir(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
  await writeFile(conf, [`Dir "${root}/";`, `Dir::State::status "${root}/var/lib/dpkg/status";`, `Dir::Etc::Parts "${parts}";`, `APT::Architecture "${await hostArch()}";`, ''].join('\n'));
  const res = await run('apt-mark', ['showauto'], { env: { ...process.env, APT_CONFIG: conf } });
  assert.equal(res.code, 0, res.stderr);
  return res.stdout.split('\n').filter(Boolean).sort().join('\n');
}

test('manual/auto marks round trip: apt-mark showauto in the pinget-built root equals the apt-built one', async () => {
  const root = await freshRoot('marks');
  const res = await runCli(['install', lockfile, '--root', root, '--provider', `${repo.url}/{{.Name}}`, '--cache', join(tmp, 'cache')]);
  assert.equal(res.code, 0, res.stderr);
  const want = await showauto(source.root);
  assert.equal(want, 'pinget-app\npinget-data\npinget-lib');
  assert.equal(await showauto(root), want);
  // Installing again changes nothing (the marks file is rewritten to the same bytes).
  const before = await readFile(join(root, 'var/lib/apt/extended_states'), 'utf8');
  const again = await runCli(['install', lockfile, '--root', root, '--provider', `${repo.url}/{{.Name}}`, '--cache', join(tmp, 'cache')]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await readFile(join(root, 'var/lib/apt/extended_states'), 'utf8'), before);
});

test('--dedupe keeps only the lockfile\'s own packages in `manual` and records the base lockfile digest', async () => {
  const base = join(tmp, 'base.SHA256SUMS');
  const lock = parseLockfile(await readFile(lockfile, 'utf8'));
  const libOnly = lock.entries.filter((e) => /pinget-(lib|data)_/.test(e.path));
  await writeFile(base, ['# pinget lockfile v1', ...libOnly.map((e) => `${e.sha256}  ${e.path}`), ''].join('\n'));
  const gen = await runCli(['hash', 'generate', '--root', source.root, '--dedupe', base], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  assert.equal(gen.code, 0, gen.stderr);
  const app = parseLockfile(gen.stdout);
  assert.equal(app.entries.length, 2);
  assert.equal(app.headers.manual, 'pinget-extra');
  const digest = (await run('sha256sum', [base])).stdout.split(' ')[0];
  assert.equal(app.headers['dedupe-base'], `sha256:${digest}`);
});

test("rpm's macro path for a root: rpm's own files, the root's /etc/rpm, no ~/.rpmmacros", () => {
  const host = '/usr/lib/rpm/macros:/usr/lib/rpm/macros.d/macros.*:/etc/rpm/macros.*:/etc/rpm/macros:/etc/rpm/%{_target}/macros:~/.rpmmacros';
  assert.equal(
    rootMacroPath(host, '/srv/root'),
    '/usr/lib/rpm/macros:/usr/lib/rpm/macros.d/macros.*:/srv/root/etc/rpm/macros.*:/srv/root/etc/rpm/macros:/srv/root/etc/rpm/%{_target}/macros',
  );
});

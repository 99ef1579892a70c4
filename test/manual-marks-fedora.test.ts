/**
 * dnf's install reasons round trip with the real tools: dnf installs an app (user) that pulls a library
 * (dependency) from a signed createrepo_c repo on 127.0.0.1; `hash generate` names the app alone in the
 * `manual` header without writing into the root; `install` into a fresh root sets the same reasons, so
 * `dnf repoquery --userinstalled` agrees with the dnf-built root; without dnf it warns and skips.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { runCli } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { buildRpms, hostDnfOptions, makeGpgKey, makeKojiTree, makeRepo, populateRoot, rpmToolsEnv, type GpgKey } from './helpers/rpm-repo.js';

let work: string;
let env: NodeJS.ProcessEnv;
let key: GpgKey;
let repoServer: TestServer;
let kojiServer: TestServer;
let dnfRoot: string;
let lockfile: string;

/** dnf on root's database (env's .rpmmacros names the rpm database), its output lines. */
async function dnf(root: string, args: string[]): Promise<string[]> {
  const res = await runChecked('dnf', ['-q', `--installroot=${root}`, '--releasever=40', ...(await hostDnfOptions(work)), '--disablerepo=*', ...args], 'INTERNAL', { env });
  return res.stdout.split('\n').filter(Boolean);
}

/** What dnf counts as installed by hand in root. */
const userinstalled = async (root: string) => (await dnf(root, ['repoquery', '--userinstalled', '--qf', '%{name}'])).sort();

async function freshRoot(name: string): Promise<string> {
  const root = join(work, name);
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc', 'os-release'), 'ID=fedora\nVERSION_ID=40\n');
  await runChecked('rpmkeys', ['--root', root, '--dbpath', '/var/lib/rpm', '--import', key.publicKey], 'INTERNAL', { env });
  return root;
}

/**
 * Every path under dir with its size and mtime, to show that a command wrote nothing there; the rpm database's
 * `-shm` (sqlite's shared-memory index of a WAL database) is left out: every reader touches it, `rpm -qa` too.
 */
async function snapshotTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    if (p.endsWith('/var/lib/rpm/rpmdb.sqlite-shm')) continue;
    const s = await stat(p).catch(() => undefined);
    out.push(`${p} ${s?.size} ${s?.mtimeMs}`);
  }
  return out.sort();
}

const install = (root: string, extraEnv: NodeJS.ProcessEnv = {}) =>
  runCli(['install', lockfile, '--root', root, '--provider', `${kojiServer.url}/{{.Name}}`, '--cache', join(work, 'cache')], { env: extraEnv });

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinget-dnf-marks-'));
  key = await makeGpgKey(join(work, 'key'), 'Pinget Marks <pinget-marks@example.invalid>');
  env = (await rpmToolsEnv(join(work, 'tools'))).env;
  const rpms = await buildRpms(
    join(work, 'build'),
    [
      { name: 'pinget-mark-app', version: '1.0', release: '1', arch: 'noarch', requires: ['pinget-mark-lib'] },
      { name: 'pinget-mark-lib', version: '1.0', release: '1', arch: 'noarch' },
    ],
    key,
  );
  await makeRepo(join(work, 'repo'), rpms, key);
  await makeKojiTree(join(work, 'koji'), rpms, env);
  repoServer = await serveDirectory(join(work, 'repo'));
  kojiServer = await serveDirectory(join(work, 'koji'));
  dnfRoot = join(work, 'dnf-root');
  await populateRoot(work, dnfRoot, repoServer.url, key, ['pinget-mark-app'], env);
  lockfile = join(work, 'SHA256SUMS');
});

after(async () => {
  await repoServer?.close();
  await kojiServer?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('dnf install reasons', () => {
  test('hash generate names only the package dnf installed by hand, and writes nothing into the root', async () => {
    assert.deepEqual(await userinstalled(dnfRoot), ['pinget-mark-app'], 'the dnf-built root as dnf sees it');
    const before = await snapshotTree(dnfRoot);
    const res = await runCli(['hash', 'generate', '--root', dnfRoot]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(parseLockfile(res.stdout).headers.manual, 'pinget-mark-app');
    assert.deepEqual(await snapshotTree(dnfRoot), before, 'no dnf log, cache or history written into the root');
    await writeFile(lockfile, res.stdout);
  });

  test('install into a fresh root sets the same reasons; a second install changes nothing', async () => {
    assert.ok((await readFile(lockfile, 'utf8')).length > 0, 'needs the lockfile of the previous test');
    const root = await freshRoot('pinget-root');
    const res = await install(root);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(await userinstalled(root), await userinstalled(dnfRoot));
    const history = await dnf(root, ['history', 'list']);
    assert.match(history.join('\n'), /Reason Change/);
    const again = await install(root);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await userinstalled(root), ['pinget-mark-app']);
    assert.deepEqual(await dnf(root, ['history', 'list']), history, 'no new mark transaction');
  });

  test('install --normalize keeps the marks: dnf\'s history is clamped to the epoch, byte-identical across installs', async () => {
    const histories: Buffer[] = [];
    for (const name of ['normalized-a', 'normalized-b']) {
      if (histories.length) await new Promise((r) => setTimeout(r, 1100)); // the second install runs in another second
      const root = await freshRoot(name);
      const res = await runCli(
        ['install', lockfile, '--root', root, '--normalize', '--provider', `${kojiServer.url}/{{.Name}}`, '--cache', join(work, 'cache')],
        { env: { SOURCE_DATE_EPOCH: '1700000000' } },
      );
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(await readdir(join(root, 'var/lib/dnf')), ['history.sqlite'], 'no write-ahead log left beside it');
      histories.push(await readFile(join(root, 'var/lib/dnf/history.sqlite')));
      assert.deepEqual(await userinstalled(root), await userinstalled(dnfRoot));
    }
    assert.ok(histories[0].equals(histories[1]), 'the two histories are identical');
  });

  test('as a user other than root (who may install into a root they own), install warns that dnf cannot mark', async () => {
    const NOBODY = 65534;
    const root = await freshRoot('user-root');
    const home = join(work, 'user-home');
    await mkdir(home, { recursive: true });
    for (const dir of [root, home]) await runChecked('chown', ['-R', `${NOBODY}:${NOBODY}`, dir], 'INTERNAL');
    await chmod(work, 0o755);
    const args = ['install', lockfile, '--root', root, '--provider', `${kojiServer.url}/{{.Name}}`, '--cache', join(home, 'cache')];
    const res = await runCli(args, { env: { HOME: home }, prefix: ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'] });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /dnf marks packages only when run as root: the manual\/dependency marks of the lockfile were NOT set/);
    assert.equal(await readFile(join(root, 'usr/share/pinget-mark-app/data'), 'utf8'), 'pinget-mark-app-1.0\n');
  });

  /** A PATH holding rpm and rpmkeys only. */
  async function binWithoutDnf(name: string): Promise<string> {
    const bin = join(work, name);
    await mkdir(bin, { recursive: true });
    for (const tool of ['rpm', 'rpmkeys']) {
      const path = (await runChecked('sh', ['-c', `command -v ${tool}`], 'INTERNAL')).stdout.trim();
      await symlink(path, join(bin, tool));
    }
    return bin;
  }

  test('without dnf, install warns that the marks were not set and still installs', async () => {
    const bin = await binWithoutDnf('bin-without-dnf');
    const root = await freshRoot('no-dnf-root');
    const res = await install(root, { PATH: bin });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /dnf is not installed \(.*\): the manual\/dependency marks of the lockfile were NOT set/);
    assert.deepEqual(await userinstalled(root), ['pinget-mark-app', 'pinget-mark-lib'], 'rpm alone leaves every reason unknown');
  });

  test('with dnf5 as dnf, generate and install warn and skip instead of calling it with dnf 4 syntax', async () => {
    const bin = await binWithoutDnf('bin-dnf5');
    const calls = join(work, 'dnf5-calls');
    await writeFile(join(bin, 'dnf5'), `#!/bin/sh\necho "$@" >> ${calls}\nexit 1\n`, { mode: 0o755 });
    await symlink('dnf5', join(bin, 'dnf'));
    const gen = await runCli(['hash', 'generate', '--root', dnfRoot], { env: { PATH: bin } });
    assert.equal(gen.code, 0, gen.stderr);
    assert.equal(parseLockfile(gen.stdout).headers.manual, undefined);
    assert.match(gen.stderr, /dnf5, which pinget does not drive yet/);
    const root = await freshRoot('dnf5-root');
    const res = await install(root, { PATH: bin });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /dnf5, which pinget does not drive yet.*NOT set/);
    await assert.rejects(readFile(calls), { code: 'ENOENT' }, 'dnf5 was never run');
  });
});

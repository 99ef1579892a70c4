/**
 * Real package databases (testdata/real-db, other projects' public test data) read by pinget and by each distro's
 * own tool, which must agree; the roots are read as chroots (etc/os-release is an absolute symlink) and reading
 * changes nothing in them, also when the root is mounted read-only.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectDistro } from '../distros/index.js';
import { queryInstalled } from '../distros/fedora/rpmdb.js';
import { formatEpochs, kojiPath } from '../distros/fedora/nevra.js';
import { formatLockfile, makeLockfile } from '../src/lockfile.js';
import { runCli } from './helpers/cli.js';
import { DB_FILE, makeRoot, treeFingerprint, type RootKind } from './helpers/real-db.js';

const tmp = await mkdtemp(join(tmpdir(), 'pinget-real-db-'));
const mounts: string[] = [];
after(async () => {
  for (const m of mounts.reverse()) execFileSync('umount', [m]);
  await rm(tmp, { recursive: true, force: true });
});

let n = 0;
async function root(kind: RootKind): Promise<string> {
  const dir = join(tmp, `${kind}-${n++}`);
  await makeRoot(kind, dir);
  return dir;
}

// stderr: rpm warns about the index files a copied Packages lacks, dpkg-query about trivy's record without Description
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'ignore'] });
const lines = (text: string) => text.split('\n').filter(Boolean).sort();
const refs = (pkgs: { name: string; version: string; arch: string }[]) => pkgs.map((p) => `${p.name} ${p.version} ${p.arch}`).sort();

/** dpkg-query's installed packages (configured, or with triggers pending or awaited) of an admin dir. */
function dpkgQuery(admindir: string): string[] {
  const out = sh('dpkg-query', [`--admindir=${admindir}`, '-W', '-f', '${db:Status-Want} ${db:Status-Eflag} ${db:Status-Status}|${Package} ${Version} ${Architecture}\n']);
  return lines(out)
    .filter((l) => /^\S+ ok (installed|triggers-pending|triggers-awaited)\|/.test(l))
    .map((l) => l.slice(l.indexOf('|') + 1))
    .sort();
}

/** rpm's own listing of a database directory (a copy: rpm would leave sqlite's -shm in it). */
async function rpmQuery(dbFile: string, backend: string): Promise<string[]> {
  const dir = join(tmp, `rpmq-${n++}`);
  await mkdir(dir);
  await copyFile(dbFile, join(dir, backend === 'sqlite' ? 'rpmdb.sqlite' : 'Packages'));
  const out = sh('rpm', ['--dbpath', dir, '--define', `_db_backend ${backend}`, '-qa', '--qf', '%{NAME} %{EPOCHNUM} %{VERSION} %{RELEASE} %{ARCH}\n']);
  return lines(out).filter((l) => !l.startsWith('gpg-pubkey '));
}

test('dpkg status of an Ubuntu 18.04 image (trivy): pinget lists what dpkg-query lists; os-release is the root\'s, not the host\'s', async () => {
  const r = await root('dpkg');
  const { adapter, info } = await detectDistro(r);
  assert.equal(info.osId, 'ubuntu', 'etc/os-release -> /usr/lib/os-release is followed inside the root');
  assert.equal(info.codename, 'bionic');
  const ours = refs(await adapter.installed(r, info));
  assert.equal(ours.length, 90);
  assert.deepEqual(ours, dpkgQuery(join(r, 'var/lib/dpkg')));
});

test('dpkg: packages in triggers-pending and triggers-awaited are installed, as dpkg-query counts them', async () => {
  const r = await root('dpkg');
  const file = join(r, DB_FILE.dpkg);
  const text = (await readFile(file, 'utf8'))
    .replace(/(Package: bash\n(?:Essential: yes\n)?)Status: install ok installed\n/, '$1Status: install ok triggers-pending\nTriggers-Pending: ldconfig\n')
    .replace(/(Package: apt\n)Status: install ok installed\n/, '$1Status: install ok triggers-awaited\nTriggers-Awaited: libc-bin\n');
  assert.match(text, /triggers-pending[\s\S]*triggers-awaited|triggers-awaited[\s\S]*triggers-pending/);
  await writeFile(file, text);
  const { adapter, info } = await detectDistro(r);
  const ours = refs(await adapter.installed(r, info));
  const theirs = dpkgQuery(join(r, 'var/lib/dpkg'));
  assert.ok(theirs.some((l) => l.startsWith('bash ')) && theirs.some((l) => l.startsWith('apt ')));
  assert.deepEqual(ours, theirs);
});

test('distroless status.d (syft): one record per file, no Status: field; dpkg-query agrees on the same records', async () => {
  const r = await root('distroless');
  const { adapter, info } = await detectDistro(r);
  assert.equal(adapter.id, 'debian');
  const ours = refs(await adapter.installed(r, info));
  assert.deepEqual(ours, ['libsqlite3-0 3.34.1-3 arm64']);
  // dpkg-query reads a status file: the same record with the Status distroless leaves out
  const adm = join(tmp, `adm-${n++}`);
  await mkdir(join(adm, 'updates'), { recursive: true });
  const rec = await readFile(join(r, DB_FILE.distroless), 'utf8');
  await writeFile(join(adm, 'status'), `${rec.replace(/^(Package: .*\n)/, '$1Status: install ok installed\n').trimEnd()}\n\n`);
  assert.deepEqual(ours, dpkgQuery(adm));
  assert.equal(info.arch, 'arm64', 'the architecture comes from the status.d records');
});

test('apk installed db (syft, Alpine; apko, Wolfi behind a merged-/usr lib link): pinget reads what the db says field by field', async () => {
  for (const [kind, count] of [['apk', 14], ['wolfi', 15]] as const) {
    const r = await root(kind);
    const { adapter, info } = await detectDistro(r);
    assert.equal(adapter.id, 'alpine', kind);
    assert.equal(info.osId, kind === 'apk' ? 'alpine' : 'wolfi');
    const ours = refs(await adapter.installed(r, info));
    // awk reads the P:, V:, A: lines of each blank-line-ended record, independently of pinget's parser
    const theirs = lines(sh('awk', ['-F', ':', '/^P:/{p=substr($0,3)} /^V:/{v=substr($0,3)} /^A:/{a=substr($0,3)} /^$/{if(p!="")print p" "v" "a; p=""}', join(r, DB_FILE[kind])]));
    assert.equal(theirs.length, count);
    assert.deepEqual(ours, theirs);
    if (kind === 'wolfi') {
      // apko's own layout: usr/lib/apk/db/installed with no lib link at all
      await rm(join(r, 'lib'));
      assert.deepEqual(refs(await adapter.installed(r, info)), theirs);
    }
  }
});

test('rpmdb sqlite (go-rpmdb, CBL-Mariner 2.0) and Berkeley DB (CentOS 8): pinget lists what rpm lists, epochs kept', async () => {
  for (const [kind, backend, count] of [['rpm-sqlite', 'sqlite', 129], ['rpm-bdb', 'bdb_ro', 1]] as const) {
    const r = await root(kind);
    const { adapter } = await detectDistro(r);
    assert.equal(adapter.id, 'fedora', kind);
    const ours = (await queryInstalled(r)).map((p) => `${p.name} ${p.epoch || '0'} ${p.version} ${p.release} ${p.arch}`).sort();
    const theirs = await rpmQuery(join(r, DB_FILE[kind]), backend);
    assert.equal(theirs.length, count);
    assert.deepEqual(ours, theirs);
    if (kind === 'rpm-sqlite') assert.equal(ours.filter((l) => l.split(' ')[1] === '1').length, 3, 'the three epoch-1 packages keep their epoch');
  }
});

test('pacman local db (syft, Arch): pinget lists what pacman -Q lists', async () => {
  const r = await root('pacman');
  const { adapter, info } = await detectDistro(r);
  const ours = (await adapter.installed(r, info)).map((p) => `${p.name} ${p.version}`).sort();
  const conf = join(tmp, 'empty-pacman.conf');
  await writeFile(conf, '');
  const theirs = lines(sh('pacman', ['--config', conf, '--root', r, '--dbpath', join(r, 'var/lib/pacman'), '-Q']));
  assert.equal(theirs.length, 4);
  assert.deepEqual(ours, theirs);
});

test('SUSE (sle15 ndb rpmdb): one clear "not supported" line, exit 2, with or without --distro, no advice that fails', async () => {
  const r = await root('ndb');
  const lock = join(tmp, 'suse.lock');
  await writeFile(lock, `${'a'.repeat(64)}  glibc/2.31/150300.41.1/x86_64/glibc-2.31-150300.41.1.x86_64.rpm\n`);
  const plain = await runCli(['hash', 'verify', lock, '--root', r]);
  assert.equal(plain.code, 2, plain.stderr);
  assert.match(plain.stderr, /ID=sles.*SUSE is not supported/);
  assert.doesNotMatch(plain.stderr, /--distro/);
  const forced = await runCli(['hash', 'verify', lock, '--root', r, '--distro', 'fedora']);
  assert.equal(forced.code, 2, forced.stderr);
  assert.match(forced.stderr, /Packages\.db: an ndb rpm database \(SUSE's format\), which pinget does not support/);
  const gen = await runCli(['hash', 'generate', '--root', r, '--distro', 'fedora']);
  assert.equal(gen.code, 2, gen.stderr);
  assert.doesNotMatch(gen.stderr, /drop --distro/, 'no advice to drop --distro where that fails too');
});

test('reading a root changes nothing in it (no sqlite -shm/-wal), also when the root is mounted read-only', async () => {
  for (const [kind, path] of [
    ['rpm-sqlite', 'CBL-Mariner/2.0.20220226/4.cm2/noarch/mariner-release-2.0-4.cm2.noarch.rpm'],
    ['rpm-bdb', 'util-linux/2.32.1/42.el8_8/x86_64/libblkid-2.32.1-42.el8_8.x86_64.rpm'],
    ['dpkg', 'pool/main/b/bash/bash_4.4.18-2ubuntu1_amd64.deb'],
    ['apk', 'v3.16/main/x86_64/musl-1.2.3-r1.apk'],
    ['pacman', 'core/os/x86_64/gmp-6.2.1-2-x86_64.pkg.tar.zst'],
  ] as const) {
    const src = await root(kind);
    const lock = join(tmp, `${kind}.lock`);
    await writeFile(lock, `${'b'.repeat(64)}  ${path}\n`);
    for (const ro of [false, true]) {
      let r = src;
      if (ro) {
        r = join(tmp, `ro-${n++}`);
        await mkdir(r);
        execFileSync('mount', ['--bind', src, r]);
        mounts.push(r);
        execFileSync('mount', ['-o', 'remount,bind,ro', r]);
      }
      const before = await treeFingerprint(src);
      const res = await runCli(['hash', 'verify', lock, '--root', r, '--json']);
      assert.equal(res.code, 1, `${kind}${ro ? ' (read-only)' : ''}: drift expected, the lockfile pins another package set\n${res.stderr}`);
      const drift = JSON.parse(res.stdout).drift as { kind: string }[];
      assert.ok(drift.some((d) => d.kind === 'unpinned'), `${kind}: the database was read`);
      assert.deepEqual(await treeFingerprint(src), before, `${kind}${ro ? ' (read-only)' : ''}: the root is unchanged`);
    }
  }
});

test('rpm epochs (CBL-Mariner, 3 packages with Epoch: 1): hash verify compares E:V-R under the epochs header, shows it, and sees an epoch-only change', async () => {
  const r = await root('rpm-sqlite');
  const installed = await queryInstalled(r);
  const entries = installed.map((p) => ({ sha256: 'd'.repeat(64), path: kojiPath(p, p.sourceRpm)! }));
  const epochs = formatEpochs(installed);
  assert.equal(epochs.split(' ').length, 3);
  const verify = async (headers: Record<string, string>) => {
    const lock = join(tmp, `epochs-${n++}.lock`);
    await writeFile(lock, formatLockfile(makeLockfile(entries, { distro: 'mariner 2.0 x86_64', ...headers })));
    return runCli(['hash', 'verify', lock, '--root', r, '--json']);
  };
  const same = await verify({ epochs });
  assert.equal(same.code, 0, same.stderr);
  // the same V-R at another epoch: drift, shown as rpm shows versions
  const [first] = epochs.split(' ');
  const [nameArch, e] = first.split('=');
  const other = await verify({ epochs: epochs.replace(first, `${nameArch}=${Number(e) + 1}`) });
  assert.equal(other.code, 1, other.stderr);
  const drift = JSON.parse(other.stdout).drift as { kind: string; name: string; pinned: string; installed: string }[];
  assert.equal(drift.length, 1);
  const p = installed.find((i) => `${i.name}.${i.arch}` === nameArch)!;
  assert.deepEqual(drift[0], { kind: 'changed', name: p.name, arch: p.arch, pinned: `${Number(e) + 1}:${p.version}-${p.release}`, installed: `${e}:${p.version}-${p.release}` });
  // a lockfile that records no epochs: the three are pinned at epoch 0, installed at 1
  const none = await verify({ epochs: 'none' });
  assert.equal(none.code, 1);
  assert.equal(JSON.parse(none.stdout).drift.length, 3);
  // a lockfile from before the header: epochs unknown, matched whatever they are
  assert.equal((await verify({})).code, 0);
});

test("dpkg's journal (updates/, an interrupted dpkg) is applied over status, as dpkg-query applies it", async () => {
  const r = await root('dpkg');
  const updates = join(r, 'var/lib/dpkg/updates');
  // bash removed (config files left), and a package installed that status does not know yet
  await writeFile(join(updates, '0000'), 'Package: bash\nStatus: deinstall ok config-files\nPriority: required\nSection: shells\nArchitecture: amd64\nVersion: 4.4.18-2ubuntu1\n\n');
  await writeFile(
    join(updates, '0001'),
    'Package: hello\nStatus: install ok installed\nPriority: optional\nSection: devel\nMaintainer: Someone <someone@localhost>\nArchitecture: amd64\nVersion: 2.10-1build1\nDescription: example package\n\n',
  );
  await writeFile(join(updates, 'tmp.i'), 'not a journal entry: dpkg ignores it\n');
  const { adapter, info } = await detectDistro(r);
  const ours = refs(await adapter.installed(r, info));
  assert.ok(ours.includes('hello 2.10-1build1 amd64') && !ours.some((l) => l.startsWith('bash ')));
  assert.deepEqual(ours, dpkgQuery(join(r, 'var/lib/dpkg')));
});

test('hash verify --deep on an sqlite rpmdb root: rpm -V checks the root\'s files against a copy of the database; the root is unchanged', async () => {
  const r = await root('rpm-sqlite');
  const lock = join(tmp, 'deep.lock');
  await writeFile(lock, `${'e'.repeat(64)}  zlib/1.2.11/5.cm2/x86_64/zlib-1.2.11-5.cm2.x86_64.rpm\n# epochs: none\n`);
  const before = await treeFingerprint(r);
  const res = await runCli(['hash', 'verify', lock, '--root', r, '--deep', '--only-pinned', '--json']);
  assert.equal(res.code, 1, res.stderr);
  const files = JSON.parse(res.stdout).files as { path: string; reason: string }[];
  // the image's files are not in this root (only its database is): rpm -V, run on the root, says so
  assert.ok(files.some((f) => f.path === '/usr/lib/libz.so.1.2.11' && /missing/.test(f.reason)), JSON.stringify(files));
  assert.deepEqual(await treeFingerprint(r), before);
});

test('Azure Linux / CBL-Mariner: hash generate says in one line that tdnf\'s cache is not read (not "run dnf makecache")', async () => {
  const r = await root('rpm-sqlite');
  const res = await runCli(['hash', 'generate', '--root', r]);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /^pinget: .*tdnf's cache \(var\/cache\/tdnf\), which pinget does not read yet: hash verify works on this root/);
  assert.doesNotMatch(res.stderr, /makecache/);
});

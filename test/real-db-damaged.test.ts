/**
 * The real databases of testdata/real-db cut at several offsets and with bytes overwritten: pinget refuses each
 * with exit 2 naming the file (never a shorter list, never exit 70, no stack). Two exceptions, where nothing pinget
 * reads was lost and its list must then be exactly the undamaged one: a flip in a part of a binary rpmdb that holds
 * no package (an index page, free space: rpm and sqlite see the database whole too), and a pacman desc cut after
 * its NAME, VERSION and ARCH lines (each package has its own desc, so no other package can go missing; a dpkg
 * status or apk installed file cut anywhere is refused, since records after the cut would vanish).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectDistro } from '../distros/index.js';
import { queryInstalled } from '../distros/fedora/rpmdb.js';
import { isPingetError } from '../src/errors.js';
import { runCli } from './helpers/cli.js';
import { damage, DB_FILE, makeRoot, REAL, type RootKind } from './helpers/real-db.js';

const tmp = await mkdtemp(join(tmpdir(), 'pinget-real-db-damaged-'));
after(() => rm(tmp, { recursive: true, force: true }));

const KINDS: RootKind[] = ['dpkg', 'distroless', 'apk', 'wolfi', 'rpm-sqlite', 'rpm-bdb', 'pacman'];
const BINARY = new Set<RootKind>(['rpm-sqlite', 'rpm-bdb']);
const CUTS = [0.1, 0.3, 0.5, 0.7, 0.9, 0.999];
const FLIPS = [0.05, 0.25, 0.5, 0.75, 0.95];

async function list(kind: RootKind, root: string): Promise<string[]> {
  if (kind.startsWith('rpm')) return (await queryInstalled(root)).map((p) => `${p.name} ${p.epoch} ${p.version}-${p.release} ${p.arch}`);
  const { adapter, info } = await detectDistro(root);
  return (await adapter.installed(root, info)).map((p) => `${p.name} ${p.version} ${p.arch}`);
}

for (const kind of KINDS) {
  test(`${kind}: cut and flipped copies of a real database are exit 2 naming the file, never a partial list`, async (t) => {
    const root = join(tmp, kind);
    await makeRoot(kind, root);
    const file = join(root, DB_FILE[kind]);
    const original = await readFile(file);
    const whole = await list(kind, root);
    assert.ok(whole.length > 0);
    let refused = 0;
    const variants = [...CUTS.map((f) => ['cut', f] as const), ...FLIPS.map((f) => ['flip', f] as const)];
    for (const [how, fraction] of variants) {
      const offset = Math.floor(original.length * fraction);
      await damage(file, how, offset, original);
      const what = `${kind} ${how} at ${offset} of ${original.length}`;
      try {
        const got = await list(kind, root);
        assert.ok((how === 'flip' && BINARY.has(kind)) || (how === 'cut' && kind === 'pacman'), `${what}: read as ${got.length} packages (of ${whole.length}) instead of refused`);
        assert.deepEqual(got, whole, `${what}: a damaged database read without error must give the whole list`);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        assert.ok(isPingetError(e), `${what}: not a PingetError: ${String(e)}`);
        assert.equal(e.exitCode, 2, `${what}: ${e.message}`);
        assert.ok(e.message.includes(kind === 'pacman' ? 'pacman-6.0.1-5' : DB_FILE[kind].split('/').at(-1)!), `${what}: names the file: ${e.message}`);
        refused++;
      }
    }
    // every cut is refused; so is every flip of a text database (0xff is never UTF-8)
    t.diagnostic(`${refused} of ${variants.length} refused`);
    const mayPass = BINARY.has(kind) ? FLIPS.length - 2 : kind === 'pacman' ? 1 : 0;
    assert.ok(refused >= variants.length - mayPass, `${kind}: ${refused} of ${variants.length} refused`);
    await writeFile(file, original);
  });
}

test('through the CLI: a cut database of each family is one line, exit 2, no stack', async () => {
  const lockFor: Record<string, string> = {
    dpkg: 'pool/main/b/bash/bash_4.4.18-2ubuntu1_amd64.deb',
    apk: 'v3.16/main/x86_64/musl-1.2.3-r1.apk',
    'rpm-sqlite': 'CBL-Mariner/2.0.20220226/4.cm2/noarch/mariner-release-2.0-4.cm2.noarch.rpm',
    pacman: 'core/os/x86_64/gmp-6.2.1-2-x86_64.pkg.tar.zst',
  };
  for (const [kind, path] of Object.entries(lockFor) as [RootKind, string][]) {
    const root = join(tmp, `cli-${kind}`);
    await makeRoot(kind, root);
    const file = join(root, DB_FILE[kind]);
    const original = await readFile(file);
    await damage(file, 'cut', Math.floor(original.length / 2), original);
    const lock = join(tmp, `cli-${kind}.lock`);
    await writeFile(lock, `${'c'.repeat(64)}  ${path}\n`);
    const res = await runCli(['hash', 'verify', lock, '--root', root]);
    assert.equal(res.code, 2, `${kind}: ${res.stderr}`);
    assert.match(res.stderr, /^pinget: /);
    assert.doesNotMatch(res.stderr, /^\s+at /m, `${kind}: no stack`);
    assert.ok(res.stderr.includes(kind === 'pacman' ? 'pacman-6.0.1-5/desc' : DB_FILE[kind]), `${kind}: names the file: ${res.stderr}`);
  }
});

test('a status that lacks packages dpkg has file lists for (cut at a record boundary) is refused', async () => {
  const root = join(tmp, 'dpkg-boundary');
  await makeRoot('dpkg', root);
  const file = join(root, DB_FILE.dpkg);
  const text = await readFile(file, 'utf8');
  const cut = text.indexOf('\n\nPackage: apt\n') + 2;
  await writeFile(file, text.slice(0, cut));
  await writeFile(join(root, 'var/lib/dpkg/info/apt.list'), '/usr/bin/apt\n');
  const { adapter, info } = await detectDistro(root);
  await assert.rejects(adapter.installed(root, info), (e: Error) => isPingetError(e) && e.exitCode === 2 && /no record for apt\b/.test(e.message));
});

test('os-release of Amazon Linux, CBL-Mariner, Wolfi are served; openSUSE gets SUSE\'s line', async () => {
  for (const [name, id] of [['amazon', 'fedora'], ['mariner', 'fedora'], ['wolfi', 'alpine']]) {
    const root = join(tmp, `os-${name}`);
    await makeRoot('pacman', root); // any tree; only os-release is asked
    await writeFile(join(root, 'usr/lib/os-release'), await readFile(join(REAL, 'os-release', name)));
    assert.equal((await detectDistro(root)).adapter.id, id, name);
  }
  const root = join(tmp, 'os-opensuse');
  await makeRoot('pacman', root);
  await writeFile(join(root, 'usr/lib/os-release'), await readFile(join(REAL, 'os-release', 'opensuse-leap')));
  await assert.rejects(detectDistro(root), (e: Error) => isPingetError(e) && e.exitCode === 2 && /SUSE is not supported/.test(e.message) && !/--distro/.test(e.message));
  // named with --distro (a root, or lock's empty system): the same line, not "unknown distro"
  await assert.rejects(detectDistro(root, 'opensuse-leap'), (e: Error) => isPingetError(e) && e.exitCode === 2 && /^--distro opensuse-leap: SUSE is not supported/.test(e.message));
  const lock = await runCli(['lock', 'hello', '--distro', 'sles:15', '-o', join(tmp, 'never')]);
  assert.equal(lock.code, 2, lock.stderr);
  assert.match(lock.stderr, /^pinget: --distro sles: SUSE is not supported/);
  await assert.rejects(readFile(join(tmp, 'never')));
  const typo = await runCli(['lock', 'hello', '--distro', 'debain:bookworm']);
  assert.equal(typo.code, 2, typo.stderr);
  assert.match(typo.stderr, /unknown distro "debain" for --distro; known: .*debian/);
});

/**
 * Arch package signatures at install, with real pacman, repo-add and gpg: hash generate pins each
 * package's signature (`<path>.sig`, the sha256 of the sync db's decoded %PGPSIG%), and install checks
 * every package with it against the root's keyring before pacman -U. A lockfile without .sig lines
 * installs only with --allow-unsigned (or when pacman's LocalFileSigLevel requires signatures).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { runCli } from './helpers/cli.js';
import { buildPackage, makeKey, makeRoot, pacman, pkgFilename, queryInstalled, repoAdd, tempDir, type TestKey, type TestPackage } from './helpers/pacman-repo.js';
import { localFilePackageSigLevel, parsePacmanConf } from '../distros/arch/pacman-conf.js';

const REPO = 'pingettest';
const ARCH = 'x86_64';
const alpha: TestPackage = { name: 'alpha', version: '1.0-1', arch: 'any', builddate: 1_700_000_000 };
const beta: TestPackage = { name: 'beta', version: '0.5-3', arch: 'x86_64', builddate: 1_700_100_000 };

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const lockLines = (text: string) => text.split('\n').filter((l) => /^[0-9a-f]{64}  /.test(l));

describe('arch: package signatures pinned by hash generate and checked by install', () => {
  let work: string;
  let server: TestServer;
  let key: TestKey;
  let built: Map<string, string>;

  before(async () => {
    work = tempDir('arch-sigs');
    key = makeKey(join(work, 'key'));
    built = new Map();
    for (const p of [alpha, beta]) built.set(p.name, buildPackage(p, join(work, 'pool'), key));
    // good/: the honest repository; bad/: the same packages, but alpha's signature is beta's (a valid
    // signature by the trusted key, of another file), in the sync db's %PGPSIG% and on the mirror.
    for (const [dir, alphaSig] of [['good', 'alpha'], ['bad', 'beta']] as const) {
      const repoDir = join(work, 'www', dir, REPO, 'os', ARCH);
      mkdirSync(repoDir, { recursive: true });
      for (const p of [alpha, beta]) copyFileSync(built.get(p.name)!, join(repoDir, pkgFilename(p)));
      copyFileSync(`${built.get(alphaSig)!}.sig`, join(repoDir, `${pkgFilename(alpha)}.sig`));
      copyFileSync(`${built.get('beta')!}.sig`, join(repoDir, `${pkgFilename(beta)}.sig`));
      repoAdd(repoDir, REPO, [alpha, beta].map((p) => join(repoDir, pkgFilename(p))));
    }
    server = await serveDirectory(join(work, 'www'));
  });

  after(async () => {
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A root with alpha and beta installed from good/, its cache emptied, and its sync db taken from `dbFrom`. */
  async function installedRoot(name: string, dbFrom: 'good' | 'bad'): Promise<string> {
    const root = join(work, name);
    makeRoot(root, { repo: REPO, serverUrl: `${server.url}/good`, key });
    await pacman(root, ['-Sy', 'alpha', 'beta']);
    const cacheDir = join(root, 'var/cache/pacman/pkg');
    for (const f of readdirSync(cacheDir)) rmSync(join(cacheDir, f));
    copyFileSync(join(work, 'www', dbFrom, REPO, 'os', ARCH, `${REPO}.db.tar.gz`), join(root, 'var/lib/pacman/sync', `${REPO}.db`));
    return root;
  }

  test('generate writes a .sig line per package: the sha256 of the sync database\'s %PGPSIG%', async () => {
    const root = await installedRoot('root-good', 'good');
    const gen = await runCli(['hash', 'generate', '--root', root]);
    assert.equal(gen.code, 0, gen.stderr);
    const expected = [alpha, beta]
      .flatMap((p) => {
        const path = `${REPO}/os/${ARCH}/${pkgFilename(p)}`;
        return [`${sha(built.get(p.name)!)}  ${path}`, `${sha(`${built.get(p.name)!}.sig`)}  ${path}.sig`];
      })
      .sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
    assert.deepEqual(lockLines(gen.stdout), expected);
    const lockfile = join(work, 'SHA256SUMS-good');
    writeFileSync(lockfile, gen.stdout);
    // hash verify knows the .sig lines are no packages
    const verify = await runCli(['hash', 'verify', lockfile, '--root', root]);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
  });

  test('a %PGPSIG% that signs another file: generate pins it, install into a fresh root is exit 3 naming the package, nothing installed', async () => {
    const root = await installedRoot('root-bad', 'bad');
    const gen = await runCli(['hash', 'generate', '--root', root]);
    assert.equal(gen.code, 0, gen.stderr);
    assert.ok(lockLines(gen.stdout).includes(`${sha(`${built.get('beta')!}.sig`)}  ${REPO}/os/${ARCH}/${pkgFilename(alpha)}.sig`), gen.stdout);
    const lockfile = join(work, 'SHA256SUMS-bad');
    writeFileSync(lockfile, gen.stdout);

    const fresh = join(work, 'fresh-bad');
    makeRoot(fresh, { repo: REPO, key });
    const inst = await runCli(['install', lockfile, '--root', fresh, '--cache', join(work, 'cache-bad'), '--provider', `${server.url}/bad/{{.Name}}`]);
    assert.equal(inst.code, 3, inst.stderr);
    assert.match(inst.stderr, /package alpha 1\.0-1 NOT installed: .*alpha-1\.0-1-any\.pkg\.tar\.zst\.sig: BAD signature/);
    assert.deepEqual(readdirSync(join(fresh, 'var/lib/pacman')).filter((d) => d === 'local'), []);
  });

  test('a lockfile without .sig lines: exit 3 unless --allow-unsigned, which says so', async () => {
    const lockfile = join(work, 'SHA256SUMS-nosig');
    writeFileSync(
      lockfile,
      [alpha, beta].map((p) => `${sha(built.get(p.name)!)}  ${REPO}/os/${ARCH}/${pkgFilename(p)}`).join('\n') + '\n',
    );
    const fresh = join(work, 'fresh-nosig');
    makeRoot(fresh, { repo: REPO, key });
    const args = ['--root', fresh, '--cache', join(work, 'cache-nosig'), '--provider', `${server.url}/good/{{.Name}}`];
    const refused = await runCli(['install', lockfile, ...args]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /no \.sig in the lockfile for alpha 1\.0-1, beta 0\.5-3.*--allow-unsigned/);

    const allowed = await runCli(['install', lockfile, ...args, '--allow-unsigned']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /--allow-unsigned: installing 2 packages the lockfile gives no \.sig for, unchecked: alpha 1\.0-1, beta 0\.5-3/);
    assert.deepEqual(await queryInstalled(fresh), ['alpha 1.0-1', 'beta 0.5-3']);
  });

  test('hash verify --deep: a changed file is exit 1 naming it (pacman -Qkk); another build of the pinned version is caught with the cached package', async () => {
    const root = await installedRoot('root-deep', 'good');
    const gen = await runCli(['hash', 'generate', '--root', root]);
    assert.equal(gen.code, 0, gen.stderr);
    const lockfile = join(work, 'SHA256SUMS-deep');
    writeFileSync(lockfile, gen.stdout);
    const cache = join(work, 'cache-deep');
    // the installed build of alpha in the cache: its payload and .MTREE match what is installed
    mkdirSync(join(cache, 'blobs/sha256'), { recursive: true });
    copyFileSync(built.get('alpha')!, join(cache, 'blobs/sha256', sha(built.get('alpha')!)));
    const ok = await runCli(['hash', 'verify', lockfile, '--root', root, '--deep', '--cache', cache]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);

    writeFileSync(join(root, 'usr/share/pinget-test/beta'), 'tampered\n');
    const deep = await runCli(['hash', 'verify', lockfile, '--root', root, '--deep', '--cache', cache]);
    assert.equal(deep.code, 1, deep.stderr + deep.stdout);
    assert.match(deep.stdout, /^file +beta +\/usr\/share\/pinget-test\/beta: .*SHA256 checksum mismatch/m);
    assert.doesNotMatch(deep.stdout, /Modification time/);

    // alpha 1.0-1 rebuilt with other contents, pinned instead of the installed build, and in the cache
    const rebuilt = buildPackage({ ...alpha, content: 'another build\n' }, join(work, 'rebuilt'));
    copyFileSync(rebuilt, join(cache, 'blobs/sha256', sha(rebuilt)));
    const path = `${REPO}/os/${ARCH}/${pkgFilename(alpha)}`;
    writeFileSync(lockfile, gen.stdout.replace(`${sha(built.get('alpha')!)}  ${path}`, `${sha(rebuilt)}  ${path}`));
    writeFileSync(join(root, 'usr/share/pinget-test/beta'), readFileSync(join(work, 'root-good/usr/share/pinget-test/beta')));
    const other = await runCli(['hash', 'verify', lockfile, '--root', root, '--deep', '--cache', cache]);
    assert.equal(other.code, 1, other.stderr + other.stdout);
    assert.match(other.stdout, /^file +alpha +\/usr\/share\/pinget-test\/alpha: content differs from the pinned package/m);
    assert.doesNotMatch(other.stdout, /beta/);
    // without --deep too: pacman's stored mtree is not the pinned package's .MTREE
    const shallow = await runCli(['hash', 'verify', lockfile, '--root', root, '--cache', cache]);
    assert.equal(shallow.code, 1, shallow.stderr + shallow.stdout);
    assert.match(shallow.stdout, /^rebuilt +alpha:any +1\.0-1 installed, but not the pinned build: pacman's stored mtree/m);
  });

  test("pacman's LocalFileSigLevel for -U: the default Optional, SigLevel then LocalFileSigLevel, Package* tokens", () => {
    const level = (text: string) => localFilePackageSigLevel(parsePacmanConf(text));
    assert.equal(level(''), 'Optional');
    assert.equal(level('[options]\nSigLevel = Required DatabaseOptional\nLocalFileSigLevel = Optional\n'), 'Optional');
    assert.equal(level('[options]\nSigLevel = Required DatabaseOptional\n'), 'Required');
    assert.equal(level('[options]\nSigLevel = Optional\nLocalFileSigLevel = PackageRequired TrustAll\n'), 'Required');
    assert.equal(level('[options]\nSigLevel = Required\nLocalFileSigLevel = DatabaseNever\n'), 'Required');
    assert.equal(level('[options]\nSigLevel = Never\n[core]\nSigLevel = Required\n'), 'Never');
  });
});

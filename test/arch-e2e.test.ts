/**
 * Arch end to end with the real tools: packages built and signed here, a repository made by repo-add
 * and served on 127.0.0.1, pacman --root populating a scratch root, then pinget hash generate on it and
 * pinget install of the lockfile into a fresh root; both roots must hold the same packages.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { runCli } from './helpers/cli.js';
import { buildPackage, makeKey, makeRoot, pacman, pkgFilename, queryInstalled, repoAdd, tempDir, type TestKey, type TestPackage } from './helpers/pacman-repo.js';
import { archAdapter } from '../distros/arch/index.js';
import { silentLogger } from '../src/ui/log.js';

const REPO = 'pingettest';
const ARCH = 'x86_64';
const alpha: TestPackage = { name: 'alpha', version: '1.0-1', arch: 'any', depends: ['beta'], builddate: 1_700_000_000 };
const beta: TestPackage = { name: 'beta', version: '2:0.5-3', arch: 'x86_64', builddate: 1_700_100_000 };
const gamma1: TestPackage = { name: 'gamma', version: '1.0-1', arch: 'any', builddate: 1_700_200_000 };
const gamma2: TestPackage = { name: 'gamma', version: '1.1-1', arch: 'any', builddate: 1_700_300_000 };

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** pacman's gpg may leave a live gpg-agent with its socket in a root's keyring: copying a socket is ERR_FS_CP_SOCKET. */
const copyRoot = (from: string, to: string) => cpSync(from, to, { recursive: true, filter: (src) => !lstatSync(src).isSocket() });

/** Stops the gpg-agents that signing (the test key) and pacman (each root's keyring) started. */
function stopAgents(work: string): void {
  const homes = [join(work, 'key', 'gnupg'), ...readdirSync(work).map((d) => join(work, d, 'etc/pacman.d/gnupg'))];
  for (const home of homes.filter((h) => existsSync(h))) {
    try {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'all'], { stdio: 'ignore' });
    } catch {
      // no agent running there
    }
  }
}

describe('arch: pacman repository -> hash generate -> install', () => {
  let work: string;
  let server: TestServer;
  let key: TestKey;
  let repoDir: string;
  let rootA: string;
  const built = new Map<string, string>();

  before(async () => {
    work = tempDir('arch-e2e');
    key = makeKey(join(work, 'key'));
    const www = join(work, 'www');
    repoDir = join(www, REPO, 'os', ARCH);
    const pool = join(work, 'pool');
    for (const p of [alpha, beta, gamma1, gamma2]) {
      const f = buildPackage(p, pool, key);
      built.set(pkgFilename(p), f);
      // The archive's packages/<l>/<name>/ tree keeps every version, with signatures.
      const dir = join(www, 'packages', p.name[0], p.name);
      mkdirSync(dir, { recursive: true });
      copyFileSync(f, join(dir, pkgFilename(p)));
      copyFileSync(`${f}.sig`, join(dir, `${pkgFilename(p)}.sig`));
    }
    mkdirSync(repoDir, { recursive: true });
    for (const p of [alpha, beta, gamma1]) {
      copyFileSync(built.get(pkgFilename(p))!, join(repoDir, pkgFilename(p)));
      copyFileSync(`${built.get(pkgFilename(p))!}.sig`, join(repoDir, `${pkgFilename(p)}.sig`));
    }
    repoAdd(repoDir, REPO, [alpha, beta, gamma1].map((p) => join(repoDir, pkgFilename(p))));
    server = await serveDirectory(www);

    rootA = join(work, 'rootA');
    makeRoot(rootA, { repo: REPO, serverUrl: server.url, key });
    await pacman(rootA, ['-Sy', 'alpha', 'gamma']);
    // The repository moves on: gamma 1.1 replaces 1.0, and the root refreshes its sync db without upgrading.
    copyFileSync(built.get(pkgFilename(gamma2))!, join(repoDir, pkgFilename(gamma2)));
    repoAdd(repoDir, REPO, [join(repoDir, pkgFilename(gamma2))]);
    await pacman(rootA, ['-Sy']);
  });

  after(async () => {
    await server?.close();
    if (work) stopAgents(work);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const expectedEntries = () =>
    [
      { path: `${REPO}/os/${ARCH}/${pkgFilename(alpha)}`, sha256: sha(built.get(pkgFilename(alpha))!) },
      { path: `${REPO}/os/${ARCH}/${pkgFilename(beta)}`, sha256: sha(built.get(pkgFilename(beta))!) },
      // no longer in the sync db: pinned from pacman's cache dir, in the archive layout
      { path: `g/gamma/${pkgFilename(gamma1)}`, sha256: sha(built.get(pkgFilename(gamma1))!) },
    ]
      // each with its signature: the sync db's %PGPSIG% (alpha, beta), the .sig pacman cached (gamma)
      .flatMap((e) => [e, { path: `${e.path}.sig`, sha256: sha(`${built.get(e.path.slice(e.path.lastIndexOf('/') + 1))!}.sig`) }])
      .sort((a, b) => (a.path < b.path ? -1 : 1));

  test('the adapter joins the local db with the sync db and the cache, and checks signatures', async () => {
    const info = await archAdapter.detect(rootA);
    assert.ok(info);
    assert.equal(info.id, 'arch');
    const res = await archAdapter.generate(rootA, info, { log: silentLogger });
    assert.deepEqual([...res.entries].sort((a, b) => (a.path < b.path ? -1 : 1)), expectedEntries());
    assert.equal(res.headers.distro, 'arch rolling x86_64');
    // newest BUILDDATE in the sync db (gamma 1.1), not the clock
    assert.equal(res.headers.snapshot, '2023-11-18T09:33:20Z');
    const installed = (await archAdapter.installed(rootA, info)).map((r) => `${r.name} ${r.version}`).sort();
    assert.deepEqual(installed, ['alpha 1.0-1', 'beta 2:0.5-3', 'gamma 1.0-1']);
    const specs = await archAdapter.providers(rootA, info, {});
    assert.deepEqual(specs.map((s) => s.template), [`${server.url}/{{.Name}}`]);
  });

  test('hash generate --root, then install --root into a fresh root gives the same packages', async () => {
    const gen = await runCli(['hash', 'generate', '--root', rootA], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(gen.stdout, /^# distro: arch rolling x86_64$/m);
    assert.match(gen.stdout, /^# snapshot: 2023-11-14T22:13:20Z$/m);
    assert.match(gen.stdout, /^# manual: alpha gamma$/m, 'beta came in as a dependency');
    const lines = gen.stdout.split('\n').filter((l) => /^[0-9a-f]{64}  /.test(l));
    assert.deepEqual(lines, expectedEntries().map((e) => `${e.sha256}  ${e.path}`));
    const lockfile = join(work, 'SHA256SUMS-x86_64');
    writeFileSync(lockfile, gen.stdout);

    const rootB = join(work, 'rootB');
    makeRoot(rootB, { repo: REPO, key });
    const cache = join(work, 'cache');
    const inst = await runCli(['install', lockfile, '--root', rootB, '--cache', cache, '--provider', `${server.url}/{{.Name}}`, '--provider', `arch-archive+${server.url}`]);
    assert.equal(inst.code, 0, inst.stderr);
    assert.deepEqual(await queryInstalled(rootB), await queryInstalled(rootA));
    assert.equal(await pacman(rootB, ['-Qdq']), await pacman(rootA, ['-Qdq']), 'the install reasons are restored');
    assert.equal(readFileSync(join(rootB, 'usr/share/pinget-test/beta'), 'utf8'), 'beta 2:0.5-3\n');
    // gamma came from the archive's packages/ tree
    assert.ok(server.requests.includes(`packages/g/gamma/${pkgFilename(gamma1)}`), server.requests.join(' '));

    // Again: everything is at the pinned version, pacman is not run and nothing changes.
    const again = await runCli(['install', lockfile, '--root', rootB, '--cache', cache, '--provider', `${server.url}/{{.Name}}`]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await queryInstalled(rootB), await queryInstalled(rootA));
  });

  test("a repro-get lockfile (archive layout with .sig lines) installs as it is; a bad .sig there is exit 3", async () => {
    const line = (p: TestPackage, sig = false) => {
      const f = built.get(pkgFilename(p))!;
      return `${sha(sig ? `${f}.sig` : f)}  ${p.name[0]}/${p.name}/${pkgFilename(p)}${sig ? '.sig' : ''}`;
    };
    const lockfile = join(work, 'SHA256SUMS-repro-get');
    writeFileSync(lockfile, [alpha, beta].flatMap((p) => [line(p), line(p, true)]).join('\n') + '\n');
    const rootF = join(work, 'rootF');
    makeRoot(rootF, { repo: REPO, key });
    const args = ['--root', rootF, '--cache', join(work, 'cache-f'), '--provider', `${server.url}/packages/{{.Name}}`];
    const ok = await runCli(['install', lockfile, ...args]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await queryInstalled(rootF), ['alpha 1.0-1', 'beta 2:0.5-3']);

    // alpha's .sig replaced by beta's (its hash updated, so only the signature check can catch it)
    const badSig = join(work, 'www', 'packages', 'a', 'alpha', `${pkgFilename(alpha)}.sig`);
    const keep = readFileSync(badSig);
    copyFileSync(`${built.get(pkgFilename(beta))!}.sig`, badSig);
    try {
      const lines = [line(alpha), `${sha(badSig)}  a/alpha/${pkgFilename(alpha)}.sig`, line(beta), line(beta, true)];
      writeFileSync(lockfile, lines.join('\n') + '\n');
      const rootG = join(work, 'rootG');
      makeRoot(rootG, { repo: REPO, key });
      const bad = await runCli(['install', lockfile, '--root', rootG, '--cache', join(work, 'cache-g'), '--provider', `${server.url}/packages/{{.Name}}`]);
      assert.equal(bad.code, 3, bad.stderr);
      assert.match(bad.stderr, /alpha-1\.0-1-any\.pkg\.tar\.zst\.sig: BAD signature/);
      const info = (await archAdapter.detect(rootG))!;
      assert.deepEqual(await archAdapter.installed(rootG, info), []);
    } finally {
      writeFileSync(badSig, keep);
    }
  });

  test('a bad detached signature is exit 3 (sync db %PGPSIG% and a .sig in the cache)', async () => {
    // 1) a cache .sig that signs other bytes
    const rootC = join(work, 'rootC');
    copyRoot(rootA, rootC);
    const cacheDir = join(rootC, 'var/cache/pacman/pkg');
    copyFileSync(`${built.get(pkgFilename(alpha))!}.sig`, join(cacheDir, `${pkgFilename(gamma1)}.sig`));
    const bad = await runCli(['hash', 'generate', '--root', rootC]);
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /gamma-1\.0-1-any\.pkg\.tar\.zst: BAD signature/);
    const skipped = await runCli(['hash', 'generate', '--root', rootC, '--allow-unsigned']);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /unsigned|signature/i);

    // 2) a sync db whose %PGPSIG% for alpha is beta's signature
    const rootD = join(work, 'rootD');
    copyRoot(rootA, rootD);
    const dbWork = join(work, 'baddb');
    mkdirSync(dbWork);
    for (const p of [alpha, beta]) copyFileSync(built.get(pkgFilename(p))!, join(dbWork, pkgFilename(p)));
    copyFileSync(`${built.get(pkgFilename(beta))!}.sig`, join(dbWork, `${pkgFilename(alpha)}.sig`));
    repoAdd(dbWork, REPO, [alpha, beta].map((p) => join(dbWork, pkgFilename(p))));
    copyFileSync(join(dbWork, `${REPO}.db.tar.gz`), join(rootD, 'var/lib/pacman/sync', `${REPO}.db`));
    const bad2 = await runCli(['hash', 'generate', '--root', rootD]);
    assert.equal(bad2.code, 3, bad2.stderr);
    assert.match(bad2.stderr, /alpha-1\.0-1-any\.pkg\.tar\.zst: BAD signature/);
  });

  test('an installed version in no sync db and not in the cache is exit 2 naming it', async () => {
    const rootE = join(work, 'rootE');
    copyRoot(rootA, rootE);
    const cacheDir = join(rootE, 'var/cache/pacman/pkg');
    for (const f of readdirSync(cacheDir)) if (f.startsWith('gamma-')) rmSync(join(cacheDir, f));
    const res = await runCli(['hash', 'generate', '--root', rootE, '--offline']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /gamma 1\.0-1/);
  });
});

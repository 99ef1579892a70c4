/**
 * The Debian path end to end through the CLI, as a user runs it: a real apt repository on 127.0.0.1,
 * a root populated by real apt and dpkg, hash generate / verify / update, install into fresh roots
 * (and reproducibly with --normalize), and the single-file bundle with no node_modules beside it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAptRepo, makeAptRoot, type AptRepo, type AptRoot } from './helpers/apt-repo.js';
import { runCli, REPO_ROOT } from './helpers/cli.js';
import { serveDirectory } from './helpers/http-server.js';
import { run } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';

let repo: AptRepo;
let source: AptRoot;
let tmp: string;
const EPOCH = '1700000000';

before(async () => {
  repo = await buildAptRepo();
  source = await makeAptRoot(repo.url, repo.keyFile, { install: ['pinget-app'] });
  tmp = await mkdtemp(join(tmpdir(), 'pinget-debian-cli-'));
});

after(async () => {
  await source?.close();
  await repo?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function freshRoot(name: string): Promise<string> {
  const root = join(tmp, name);
  await mkdir(join(root, 'etc'), { recursive: true });
  await copyFile(join(source.root, 'etc/os-release'), join(root, 'etc/os-release'));
  return root;
}

async function dpkgList(root: string): Promise<string> {
  const res = await run('dpkg-query', ['--root', root, '-W', '-f', '${Package}:${Architecture}=${Version}\n']);
  assert.equal(res.code, 0, res.stderr);
  return res.stdout.split('\n').filter(Boolean).sort().join('\n');
}

/** One line per file under dir: path, type, mode, owner, mtime, content hash or link target. */
async function treeManifest(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const p = join(rel, name);
    const st = await lstat(join(dir, p));
    const meta = `${p} mode=${st.mode.toString(8)} owner=${st.uid}:${st.gid} mtime=${Math.floor(st.mtimeMs / 1000)}`;
    if (st.isDirectory()) out.push(`${meta} dir`, ...(await treeManifest(dir, p)));
    else if (st.isSymbolicLink()) out.push(`${meta} -> ${await readlink(join(dir, p))}`);
    else out.push(`${meta} sha256=${createHash('sha256').update(await readFile(join(dir, p))).digest('hex')}`);
  }
  return out;
}

test('hash generate --root pins exactly the installed packages, deterministically', async () => {
  const out = join(tmp, 'SHA256SUMS');
  const gen = await runCli(['hash', 'generate', '--root', source.root, '-o', out], { env: { SOURCE_DATE_EPOCH: EPOCH } });
  assert.equal(gen.code, 0, gen.stderr);
  const text = await readFile(out, 'utf8');
  const again = await runCli(['hash', 'generate', '--root', source.root], { env: { SOURCE_DATE_EPOCH: EPOCH } });
  assert.equal(again.stdout, text, 'same system, same bytes');
  const lock = parseLockfile(text);
  assert.equal(lock.headers.snapshot, '2023-11-14T22:13:20Z');
  const installed = repo.packages.filter((p) => p.name !== 'pinget-extra');
  assert.deepEqual(
    lock.entries,
    installed.map((p) => ({ sha256: p.sha256, path: p.path })).sort((a, b) => (a.path < b.path ? -1 : 1)),
  );
  const verify = await runCli(['hash', 'verify', out, '--root', source.root]);
  assert.equal(verify.code, 0, verify.stderr + verify.stdout);
});

test('install --root into a fresh root gives the same packages and files; hash verify then finds no drift', async () => {
  const lockfile = join(tmp, 'SHA256SUMS');
  const fresh = await freshRoot('fresh');
  const res = await runCli(['install', lockfile, '--root', fresh, '--provider', `${repo.url}/{{.Name}}`, '--cache', join(tmp, 'cache'), '--json']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout).installed.length, 3);
  assert.equal(await dpkgList(fresh), await dpkgList(source.root));
  for (const p of ['pinget-app', 'pinget-lib', 'pinget-data']) {
    const f = `usr/share/pinget-test/${p}/README`;
    assert.deepEqual(await readFile(join(fresh, f)), await readFile(join(source.root, f)));
  }
  const verify = await runCli(['hash', 'verify', lockfile, '--root', fresh]);
  assert.equal(verify.code, 0, verify.stderr + verify.stdout);
  const again = await runCli(['install', lockfile, '--root', fresh, '--provider', 'http://127.0.0.1:9/{{.Name}}', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).skipped.length, 3, 'already installed: nothing fetched, nothing installed');
});

test('hash verify reports drift with exit 1: a package missing, one unpinned', async () => {
  const lock = parseLockfile(await readFile(join(tmp, 'SHA256SUMS'), 'utf8'));
  const data = lock.entries.find((e) => e.path.includes('pinget-data'))!;
  const partial = join(tmp, 'partial.SHA256SUMS');
  await writeFile(partial, lock.entries.filter((e) => e !== data).map((e) => `${e.sha256}  ${e.path}\n`).join('') + `${'c'.repeat(64)}  pool/main/z/zzz/zzz_1.0_all.deb\n`);
  const res = await runCli(['hash', 'verify', partial, '--root', source.root]);
  assert.equal(res.code, 1, res.stderr);
  assert.match(res.stdout, /^missing +zzz:all {2}pinned 1\.0, not installed$/m);
  assert.match(res.stdout, /^unpinned +pinget-data:all {2}installed 1\.0-1, not pinned$/m);
  assert.match(res.stderr, /2 packages differ from/);
  const only = await runCli(['hash', 'verify', partial, '--root', source.root, '--only-pinned', '--json']);
  assert.equal(only.code, 1);
  assert.deepEqual(JSON.parse(only.stdout).drift.map((d: { kind: string }) => d.kind), ['missing']);
});

test('hash update re-pins at the installed versions, keeps headers, prints the diff', async () => {
  const lock = parseLockfile(await readFile(join(tmp, 'SHA256SUMS'), 'utf8'));
  const app = lock.entries.find((e) => e.path.includes('pinget-app_'))!;
  const stale = join(tmp, 'stale.SHA256SUMS');
  const oldPath = app.path.replace('3.1-2', '3.0-1');
  await writeFile(
    stale,
    ['# pinget lockfile v1', '# team: builders', `${'d'.repeat(64)}  ${oldPath}`, ...lock.entries.filter((e) => e !== app).map((e) => `${e.sha256}  ${e.path}`), ''].join('\n'),
  );
  const res = await runCli(['hash', 'update', stale, '--root', source.root], { env: { SOURCE_DATE_EPOCH: EPOCH } });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /upgraded +pinget-app \(\S+\) 3\.0-1 -> 3\.1-2/);
  const updated = parseLockfile(await readFile(stale, 'utf8'));
  assert.equal(updated.headers.team, 'builders');
  assert.deepEqual(updated.entries, lock.entries);
});

test('hash update names the installed packages it leaves unpinned, not those --allow-missing left out', async () => {
  const lock = parseLockfile(await readFile(join(tmp, 'SHA256SUMS'), 'utf8'));
  const data = lock.entries.find((e) => e.path.includes('pinget-data'))!;
  const without = join(tmp, 'without-data.SHA256SUMS');
  const body = lock.entries.filter((e) => e !== data).map((e) => `${e.sha256}  ${e.path}`);
  await writeFile(without, ['# pinget lockfile v1', ...body, ''].join('\n'));
  const res = await runCli(['hash', 'update', without, '--root', source.root, '--dry-run'], { env: { SOURCE_DATE_EPOCH: EPOCH } });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /^pinget: warning: 1 installed package\(s\) are not in \S+ and stay unpinned \(hash generate pins them\): pinget-data$/m);
  await writeFile(without, ['# pinget lockfile v1', '# left-out: pinget-data:all', ...body, ''].join('\n'));
  const leftOut = await runCli(['hash', 'update', without, '--root', source.root, '--dry-run'], { env: { SOURCE_DATE_EPOCH: EPOCH } });
  assert.equal(leftOut.code, 0, leftOut.stderr);
  assert.doesNotMatch(leftOut.stderr, /stay unpinned/);
});

test('install --normalize into two fresh roots gives identical trees', async (t) => {
  const lockfile = join(tmp, 'SHA256SUMS');
  const trees: string[][] = [];
  const plain: string[][] = [];
  for (const n of [1, 2]) {
    const root = await freshRoot(`norm${n}`);
    const res = await runCli(['install', lockfile, '--root', root, '--normalize', '--provider', `${repo.url}/{{.Name}}`, '--cache', join(tmp, `ncache${n}`)], { env: { SOURCE_DATE_EPOCH: EPOCH } });
    assert.equal(res.code, 0, res.stderr);
    trees.push(await treeManifest(root));
    if (n === 2) await new Promise((r) => setTimeout(r, 1100)); // so that the plain installs below land in different seconds
    const plainRoot = await freshRoot(`plain${n}`);
    const p = await runCli(['install', lockfile, '--root', plainRoot, '--provider', `${repo.url}/{{.Name}}`, '--cache', join(tmp, `ncache${n}`)]);
    assert.equal(p.code, 0, p.stderr);
    plain.push(await treeManifest(plainRoot));
  }
  assert.ok(trees[0].length > 10);
  assert.deepEqual(trees[0], trees[1]);
  assert.ok(!trees[0].some((l) => l.startsWith('var/log/dpkg.log')), 'dpkg.log removed');
  const differ = plain[0].filter((l) => !plain[1].includes(l));
  t.diagnostic(`without --normalize, ${differ.length} of ${plain[0].length} entries differ, e.g. ${differ.slice(0, 3).join(' | ')}`);
});

test('the single-file bundle runs hash generate and install with no node_modules beside it', async () => {
  const build = await run('npm', ['run', '--silent', 'bundle'], { cwd: REPO_ROOT });
  assert.equal(build.code, 0, build.stderr);
  const dir = join(tmp, 'bundle');
  await mkdir(dir);
  const bundle = join(dir, 'pinget.mjs');
  await copyFile(join(REPO_ROOT, 'dist', 'pinget.mjs'), bundle);
  const node = (args: string[]) => run(process.execPath, [bundle, ...args], { cwd: dir, env: { ...process.env, NODE_PATH: '' } });
  const gen = await node(['hash', 'generate', '--root', source.root]);
  assert.equal(gen.code, 0, gen.stderr);
  assert.equal(parseLockfile(gen.stdout).entries.length, 3);
  await writeFile(join(dir, 'SHA256SUMS'), gen.stdout);
  const fresh = await freshRoot('bundled');
  const inst = await node(['install', join(dir, 'SHA256SUMS'), '--root', fresh, '--provider', `${repo.url}/{{.Name}}`, '--cache', join(dir, 'cache')]);
  assert.equal(inst.code, 0, inst.stderr);
  assert.equal(await dpkgList(fresh), await dpkgList(source.root));
});

test('install refuses bytes that do not match: exit 3, nothing installed, nothing cached', async () => {
  const liar = await serveDirectory(repo.dir, (_req, res) => {
    res.writeHead(200).end('!<arch>\nnot the pinned package');
    return true;
  });
  try {
    const fresh = await freshRoot('refused');
    const cache = join(tmp, 'refused-cache');
    const res = await runCli(['install', join(tmp, 'SHA256SUMS'), '--root', fresh, '--provider', `${liar.url}/{{.Name}}`, '--cache', cache]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /3 of 3 files could not be fetched \(a provider served bytes that do not match the lockfile\)/);
    assert.deepEqual(await readdir(join(cache, 'blobs', 'sha256')).catch(() => []), []);
    assert.equal(await readFile(join(fresh, 'var/lib/dpkg/status'), 'utf8').catch(() => ''), '');
  } finally {
    await liar.close();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli, REPO_ROOT } from './helpers/cli.js';
import { run } from '../src/exec.js';

const DATA = join(REPO_ROOT, 'testdata', 'diff');

for (const distro of ['debian', 'fedora', 'alpine', 'arch']) {
  test(`diff classifies every change kind in ${distro}'s path layout`, async () => {
    const res = await runCli(['diff', join(DATA, `${distro}-old.SHA256SUMS`), join(DATA, `${distro}-new.SHA256SUMS`), '--format', 'json']);
    assert.equal(res.code, 0, res.stderr);
    const d = JSON.parse(res.stdout);
    const kinds = Object.fromEntries(d.changes.map((c: { name: string; kind: string }) => [c.name, c.kind]));
    assert.deepEqual(kinds, { alpha: 'upgraded', bravo: 'downgraded', charlie: 'removed', delta: 'rebuilt', echo: 'added' });
    const alpha = d.changes.find((c: { name: string }) => c.name === 'alpha');
    assert.match(alpha.oldVersion, /^1\.0/);
    assert.match(alpha.newVersion, /^1\.1/);
    assert.deepEqual(d.alerts.map((a: { kind: string }) => a.kind).sort(), ['downgrade', 'same-path-different-bytes']);
    assert.deepEqual(d.headers.map((h: { key: string }) => h.key), ['snapshot']);
  });
}

test('diff --format markdown matches the recorded PR comment', async () => {
  const res = await runCli(['diff', join(DATA, 'debian-old.SHA256SUMS'), join(DATA, 'debian-new.SHA256SUMS'), '--format', 'markdown']);
  assert.equal(res.code, 0, res.stderr);
  const expected = await readFile(join(DATA, 'debian.md'), 'utf8');
  assert.equal(res.stdout, expected);
});

test('diff --exit-code exits 1 on a difference and 0 on none; stdin and git:REV:PATH sides work', async () => {
  const oldF = join(DATA, 'arch-old.SHA256SUMS');
  const same = await runCli(['diff', oldF, '-', '--exit-code'], { input: await readFile(oldF, 'utf8') });
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /no package changes/);
  const differ = await runCli(['diff', oldF, join(DATA, 'arch-new.SHA256SUMS'), '--exit-code']);
  assert.equal(differ.code, 1);
  assert.match(differ.stdout, /ALERT downgrade: bravo/);
  assert.match(differ.stdout, /ALERT same file name, different bytes: core\/os\/x86_64\/delta-1\.0-1-x86_64\.pkg\.tar\.zst/);

  const repo = await mkdtemp(join(tmpdir(), 'pinget-diff-git-'));
  try {
    const git = (...a: string[]) => run('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a]);
    await git('init', '-q');
    await writeFile(join(repo, 'SHA256SUMS'), await readFile(oldF));
    await git('add', 'SHA256SUMS');
    await git('commit', '-qm', 'old');
    await writeFile(join(repo, 'SHA256SUMS'), await readFile(join(DATA, 'arch-new.SHA256SUMS')));
    const viaGit = await runCli(['diff', 'git:HEAD:SHA256SUMS', 'SHA256SUMS', '--format', 'json'], { cwd: repo });
    assert.equal(viaGit.code, 0, viaGit.stderr);
    assert.equal(JSON.parse(viaGit.stdout).summary.added, 1);
    const bad = await runCli(['diff', 'git:nope:SHA256SUMS', 'SHA256SUMS'], { cwd: repo });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^pinget: git:nope:SHA256SUMS: git cannot show SHA256SUMS at nope/);
  } finally {
    await rm(repo, { recursive: true, force: true });
  }
});

test('rpm epochs from the epochs header: an epoch-only change is an upgrade shown as E:V-R, a lower epoch a downgrade', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-diff-epochs-'));
  try {
    const path = 'foo/1.0/1.fc40/x86_64/foo-1.0-1.fc40.x86_64.rpm';
    const lock = (epochs: string, sha: string) => `# pinget lockfile v1\n# distro: fedora 40 x86_64\n# epochs: ${epochs}\n${sha.repeat(64)}  ${path}\n`;
    await writeFile(join(dir, 'e1'), lock('foo.x86_64=1', 'a'));
    await writeFile(join(dir, 'e2'), lock('foo.x86_64=2', 'b'));
    const up = JSON.parse((await runCli(['diff', join(dir, 'e1'), join(dir, 'e2'), '--format', 'json'])).stdout);
    assert.deepEqual(up.changes.map((c: { kind: string; oldVersion: string; newVersion: string }) => [c.kind, c.oldVersion, c.newVersion]), [['upgraded', '1:1.0-1.fc40', '2:1.0-1.fc40']]);
    const down = JSON.parse((await runCli(['diff', join(dir, 'e2'), join(dir, 'e1'), '--format', 'json'])).stdout);
    assert.equal(down.changes[0].kind, 'downgraded');
    assert.ok(down.alerts.some((a: { kind: string }) => a.kind === 'downgrade'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

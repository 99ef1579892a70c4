/**
 * The pull-request comment as GitHub renders it: the Markdown goes through cmark-gfm (GitHub's own GFM
 * parser, Debian's package) with GitHub's extensions, and the HTML is checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { runCli, REPO_ROOT } from './helpers/cli.js';
import { run } from '../src/exec.js';
import { classifyVersions, fromSecurityArchive, sourceOf } from '../src/diff-origin.js';
import { formatMarkdown, formatText } from '../src/ui/diff-format.js';
import { markDifference } from '../src/ui/diff-markdown.js';
import type { LockfileDiff, PackageChange } from '../src/diff.js';

const DATA = join(REPO_ROOT, 'testdata', 'diff');
const SEC = [join(DATA, 'debian-security-old.SHA256SUMS'), join(DATA, 'debian-security-new.SHA256SUMS')];

async function gfm(markdown: string): Promise<string> {
  const res = await run('cmark-gfm', ['--unsafe', '-e', 'table', '-e', 'strikethrough', '-e', 'autolink', '-e', 'tagfilter', '-e', 'tasklist'], {
    input: markdown,
    missingHint: 'run .ci/setup-test (Debian package cmark-gfm)',
  });
  assert.equal(res.code, 0, res.stderr);
  return res.stdout;
}

const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
/** The text of every code span; a version split for its bold difference (`a`**`b`**) is one. */
const codes = (html: string) => [...html.replace(/<\/code><strong><code>(.*?)<\/code><\/strong>/gs, '$1</code>').replace(/<strong>(<code>.*?<\/code>)<\/strong>/gs, '$1').matchAll(/<code>(.*?)<\/code>/gs)].map((m) => decode(m[1]));

/** Every table: each body row has as many cells as the head. */
function assertTablesIntact(html: string, columns: number) {
  const tables = [...html.matchAll(/<table>(.*?)<\/table>/gs)].map((m) => m[1]);
  for (const t of tables) {
    assert.equal([...t.matchAll(/<th>/g)].length, columns, t.slice(0, 200));
    for (const row of t.split('<tr>').slice(2)) assert.equal([...row.matchAll(/<td>/g)].length, columns, row);
  }
  return tables.length;
}

test('markdown renders on GitHub as written: every version, path and hash in code, no accidental strikethrough, tables intact', async () => {
  const res = await runCli(['diff', ...SEC, '--format', 'markdown', '--title', 'SHA256SUMS-amd64']);
  assert.equal(res.code, 0, res.stderr);
  const html = await gfm(res.stdout);
  assert.doesNotMatch(html, /<del>/);
  assert.equal(assertTablesIntact(html, 5), 2);
  const inCode = new Set(codes(html));
  // the two ~ versions of one paragraph that used to pair into strikethrough
  for (const v of ['3.0.22-1~deb12u2', '3.0.20-1~deb12u2', '590-2.1~deb12u2', '7.88.1-10+deb12u15', '7.88.1-10+deb12u5']) assert.ok(inCode.has(v), v);
  assert.ok(inCode.has('pool/main/l/less/') && inCode.has('pool/updates/main/l/less/'), 'a move names both directories');
  assert.match(html, /^<!-- pinget diff: SHA256SUMS-amd64 -->\n<h3>SHA256SUMS-amd64<\/h3>/);
  // risk first: the alerts, then the risky table, then security updates
  const order = ['Downgrade:', 'Needs a look: 7 of 7 packages', 'Headers changed:', 'Security updates: 1 of 1 package'].map((s) => html.indexOf(s));
  assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), String(order));
  assert.match(html, /<li><code>manual<\/code>: \+<code>hello<\/code> \+<code>jq<\/code> −<code>zip<\/code><\/li>/);
  assert.match(html, /<strong>1 removed, 1 upgraded, 5 downgraded, 1 moved, 1 security update, 5 alerts<\/strong>/);
  assert.match(html, /<a href="https:\/\/[^"/]+\/tracker\/source-package\/openssl">security<\/a>/);
  // openssl's three binaries in one row
  assert.match(html, /<code>libssl-dev<\/code> <code>libssl3<\/code> <code>openssl<\/code> \(<code>openssl<\/code> ×3\)/);
});

const change = (over: Partial<PackageChange>): PackageChange => ({ kind: 'upgraded', name: 'p', arch: 'amd64', oldVersion: '1', newVersion: '2', ...over });
const diffOf = (changes: PackageChange[], over: Partial<LockfileDiff> = {}): LockfileDiff => ({ changes, alerts: [], headers: [], otherAdded: [], otherRemoved: [], cidsAdded: 0, cidsRemoved: 0, ...over });

test('hostile names, versions, paths and titles stay text: no HTML, no emphasis, no strikethrough, no broken table', async () => {
  const nasty = ['a|b', '`tick`', '``x', '~~s~~', '*e*', '<script>x</script>', '[l](javascript:x)', 'a\\|b', '_u_', '&amp;', ' x ', '1:2.0~rc1|<b>'];
  const d = diffOf(
    nasty.map((s, i) => change({ kind: i % 2 ? 'downgraded' : 'upgraded', name: s, oldVersion: `${s}~1`, newVersion: `${s}~2`, oldPath: `pool/${s}`, newPath: `pool/${s}` })),
    {
      alerts: nasty.map((s) => ({ kind: 'downgrade' as const, message: `downgrade: ${s} ~a -> ~b`, name: s, arch: 'amd64', oldVersion: `${s}~1`, newVersion: `${s}~0` })),
      headers: [{ key: 'manual', old: 'a', new: nasty.join(' '), added: nasty.map((s) => s.trim()), removed: ['a'] }, { key: 'note', old: '~x~', new: '<i>~y~</i>' }],
      otherAdded: ['x|y~z~.bin'],
    },
  );
  const md = formatMarkdown(d, { title: '~~<b>title</b>~~ | `x` # *' });
  const html = await gfm(md);
  assert.doesNotMatch(html, /<del>|<em>|<script|<b>|<i>|href="javascript/);
  assertTablesIntact(html, 5);
  const inCode = codes(html);
  for (const s of nasty) assert.ok(inCode.some((c) => c === s || c === `${s}~1` || c.trim() === s.trim()), `${s} not kept verbatim in a code span`);
  assert.match(html, /<h3>~~&lt;b&gt;title&lt;\/b&gt;~~ \| `x` # \*<\/h3>/);
});

test('risk first under the cap: risky rows are never collapsed or cut, the cut comes from the last group, labels count what they show', async () => {
  const routine = Array.from({ length: 3000 }, (_, i) => change({ name: `a-routine-package-with-a-long-name-${String(i).padStart(4, '0')}`, oldVersion: `1.${i}-1`, newVersion: `1.${i}-2`, versionChange: 'revision' }));
  const security = Array.from({ length: 20 }, (_, i) => change({ name: `sec${i}`, security: true, oldPath: 'pool/main/s/x/x.deb', newPath: 'pool/updates/main/s/x/x.deb' }));
  // alphabetically last: the row that an alphabetical cut drops first
  const risky = [change({ kind: 'downgraded', name: 'zz-less', oldVersion: '590-2.1~deb12u2', newVersion: '590-2.1~deb12u1' }), change({ kind: 'removed', name: 'zz-gone', newVersion: undefined })];
  const d = diffOf([...routine, ...security, ...risky].sort((a, b) => (a.name < b.name ? -1 : 1)));
  for (const limit of [65536, 20000]) {
    const md = formatMarkdown(d, { limit });
    assert.ok(md.length <= limit, `${md.length} > ${limit}`);
    const html = await gfm(md);
    assert.doesNotMatch(html, /<del>/);
    assertTablesIntact(html, 5);
    assert.match(html, /<h4>Needs a look: 2 of 2 packages<\/h4>/);
    assert.ok(html.indexOf('zz-less') < html.indexOf('<details>'), 'the downgrade is above anything collapsed');
    assert.match(html, /<summary>Security updates: 20 of 20 packages<\/summary>/);
    const m = /<summary>Other changes: (\d+) of 3000 packages \(cut at the size limit\)<\/summary>/.exec(html);
    assert.ok(m, 'the label of the cut group says how many it shows');
    assert.equal(codes(html).filter((c) => c.startsWith('a-routine')).length, Number(m[1]));
    assert.match(html, new RegExp(`Not shown: ${3000 - Number(m[1])} package changes`));
  }
  // only when the risky rows alone exceed the limit are they cut, and their label says so
  const downgrades = routine.map((c) => ({ ...c, kind: 'downgraded' as const }));
  const huge = formatMarkdown(diffOf([...downgrades, ...security]), { limit: 20000 });
  assert.ok(huge.length <= 20000);
  assert.match(huge, /#### Needs a look: \d+ of 3000 packages \(cut at the size limit\)/);
  assert.match(huge, /<summary>Security updates: 0 of 20 packages \(cut at the size limit\)<\/summary>/);
  // past the limit the routine rows go without links, the risky ones keep theirs
  const linked = formatMarkdown(diffOf([...routine, ...risky].map((c) => ({ ...c, source: c.name })), { distro: 'debian' }), { limit: 20000 });
  const [riskyPart, rest] = linked.split('<details>');
  assert.match(riskyPart, /\| downgraded \| `zz-less` .*\[tracker\]/);
  assert.doesNotMatch(rest, /\[tracker\]/);
  assert.match(formatMarkdown(diffOf(routine.slice(0, 3).map((c) => ({ ...c, source: c.name })), { distro: 'debian' })), /\[tracker\]/);
  const small = formatMarkdown(diffOf(routine.slice(0, 3)));
  assert.doesNotMatch(small, /Not shown|cut at/);
  assert.match(small, /<summary>Other changes: 3 of 3 packages<\/summary>/);
});

test('header changes are deltas in every format', async () => {
  const text = await runCli(['diff', ...SEC]);
  assert.match(text.stdout, /^header manual: \+hello \+jq -zip$/m);
  const json = JSON.parse((await runCli(['diff', ...SEC, '--json'])).stdout);
  const manual = json.headers.find((h: { key: string }) => h.key === 'manual');
  assert.deepEqual([manual.added, manual.removed], [['hello', 'jq'], ['zip']]);
  const snapshot = json.headers.find((h: { key: string }) => h.key === 'snapshot');
  assert.equal(snapshot.added, undefined, 'a one-value header has no delta');
  // a first manual header lists only what it adds, '-' (none) is no name
  const first = formatText(diffOf([], { headers: [{ key: 'manual', new: 'a b', added: ['a', 'b'], removed: [] }] }));
  assert.match(first, /^header manual: \+a \+b$/m);
  const long = formatMarkdown(diffOf([], { headers: [{ key: 'manual', added: Array.from({ length: 2000 }, (_, i) => `name-${i}`), removed: [] }] }));
  assert.match(long, /and \d+ more/);
  assert.ok(long.length < 5000);
});

test('security updates are flagged and counted; moved and rebuilt rows say what moved or what was rebuilt', async () => {
  const json = JSON.parse((await runCli(['diff', ...SEC, '--json'])).stdout);
  assert.equal(json.summary.security, 1);
  assert.equal(json.distro, 'debian');
  const by = Object.fromEntries(json.changes.map((c: PackageChange) => [c.name, c]));
  assert.equal(by['libssl-doc'].security, true);
  assert.equal(by['libssl-doc'].source, 'openssl');
  assert.equal(by['libssl-doc'].versionChange, 'upstream');
  assert.equal(by.curl.versionChange, 'revision');
  assert.equal(by.less.kind, 'moved');
  assert.equal(by['libc-bin'].source, 'glibc');
  const text = (await runCli(['diff', ...SEC])).stdout;
  assert.match(text, /moved +less \(amd64\) .*moved: pool\/main\/l\/less\/ -> pool\/updates\/main\/l\/less\//);
  const rebuilt = (await runCli(['diff', join(DATA, 'debian-old.SHA256SUMS'), join(DATA, 'debian-new.SHA256SUMS')])).stdout;
  assert.match(rebuilt, /rebuilt +delta \(amd64\) 1\.0-1 -> 1\.0-1 +\[rebuild: bytes df31c8f6b806 -> c38d1a324d81\]/);
});

test('versions are classified; the path tells the source package and the security archive', () => {
  const cases: [string, string, string][] = [
    ['1.0-1', '1.0-1+b1', 'rebuild'],
    ['1.2-3', '1.2-3build1', 'rebuild'],
    ['590-2.1~deb12u1', '590-2.1~deb12u2', 'revision'],
    ['3.0.20-1~deb12u2', '3.0.22-1~deb12u2', 'upstream'],
    ['1:1.0-1', '2:1.0-1', 'upstream'],
    ['2.0-r0', '2.0-r1', 'revision'],
    ['1.9-1.fc40', '1.9-2.fc40', 'revision'],
    ['1.0', '1.0+b2', 'rebuild'],
  ];
  for (const [a, b, want] of cases) assert.equal(classifyVersions(a, b), want, `${a} -> ${b}`);
  assert.equal(sourceOf('pool/updates/main/o/openssl/libssl3_3.0.22-1~deb12u2_amd64.deb'), 'openssl');
  assert.equal(sourceOf('bash/5.2.26/1.fc40/x86_64/bash-5.2.26-1.fc40.x86_64.rpm'), 'bash');
  assert.equal(sourceOf('v3.20/main/x86_64/alpha-1.1-r0.apk'), undefined);
  assert.equal(fromSecurityArchive('pool/updates/main/o/openssl/x.deb', 'debian'), true);
  assert.equal(fromSecurityArchive('pool/main/o/openssl/x.deb', 'debian'), false);
  assert.equal(fromSecurityArchive('pool/updates/main/o/openssl/x.deb', 'ubuntu'), false);
  assert.equal(fromSecurityArchive('pool/updatesx/main/o/openssl/x.deb', 'debian'), false);
});

test('links go to the page of the source package, per distro; Ubuntu pool paths are never flagged as security', async (t) => {
  const { packageLinks } = await import('../src/ui/diff-links.js');
  const at = (distro: string, c: Partial<PackageChange>) => packageLinks(distro, change(c)).map((l) => `${l.label} ${new URL(l.url).pathname}${new URL(l.url).search}`);
  assert.deepEqual(at('debian', { name: 'libssl3', source: 'openssl', security: true }), ['tracker /pkg/openssl', 'security /tracker/source-package/openssl']);
  assert.deepEqual(at('ubuntu', { name: 'libssl3', source: 'openssl' }), ['changelog /ubuntu/+source/openssl/+changelog']);
  assert.deepEqual(at('fedora', { name: 'bash', source: 'bash' }), ['package /rpms/bash', 'updates /updates/?packages=bash']);
  assert.deepEqual(at('alpine', { name: 'musl', newPath: 'v3.20/main/x86_64/musl-1.2.5-r0.apk' }), ['package /package/v3.20/main/x86_64/musl']);
  assert.deepEqual(at('arch', { name: 'bash', newPath: 'core/os/x86_64/bash-5.2.026-2-x86_64.pkg.tar.zst' }), ['package /packages/core/x86_64/bash/']);
  assert.deepEqual(at('debian', { name: 'x' }), [], 'no source, no link');
  assert.deepEqual(at('alpine', { name: 'a/../b', newPath: 'v3.20/main/x86_64/b.apk' }), ['package /package/v3.20/main/x86_64/a%2F..%2Fb'], 'a name stays one path segment');

  const dir = await mkdtemp(join(tmpdir(), 'pinget-diff-ubuntu-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const side = async (name: string, lines: string[]) => {
    await writeFile(join(dir, name), ['# pinget lockfile v1', '# distro: ubuntu 24.04 (noble) amd64', ...lines].join('\n') + '\n');
    return join(dir, name);
  };
  const sha = (c: string) => c.repeat(64);
  const oldF = await side('old', [`${sha('a')}  pool/main/o/openssl/libssl3t64_3.0.13-0ubuntu3.4_amd64.deb`]);
  const newF = await side('new', [`${sha('b')}  pool/main/o/openssl/libssl3t64_3.0.13-0ubuntu3.5_amd64.deb`]);
  const json = JSON.parse((await runCli(['diff', oldF, newF, '--json'])).stdout);
  assert.equal(json.distro, 'ubuntu');
  assert.equal(json.summary.security, 0);
  assert.equal(json.changes[0].versionChange, 'revision');
  const md = (await runCli(['diff', oldF, newF, '--format', 'markdown'])).stdout;
  assert.match(md, /\[changelog\]\(https:\/\/[^)]+\/ubuntu\/\+source\/openssl\/\+changelog\)/);
});

test('the part where two versions differ is bold, from the start of the number or word that differs', async () => {
  assert.deepEqual(markDifference('590-2.1~deb12u2', '590-2.1~deb12u1'), ['`590-2.1~deb12u`**`2`**', '`590-2.1~deb12u`**`1`**']);
  assert.deepEqual(markDifference('3.0.20-1~deb12u2', '3.0.22-1~deb12u2'), ['`3.0.`**`20-1~deb12u2`**', '`3.0.`**`22-1~deb12u2`**']);
  assert.deepEqual(markDifference('1.0-1', '1.0-1+b1'), ['`1.0-1`', '`1.0-1`**`+b1`**']);
  assert.deepEqual(markDifference('1.0', '2.0'), ['**`1.0`**', '**`2.0`**']);
  assert.deepEqual(markDifference('1.0', '1.0'), ['`1.0`', '`1.0`']);
  const html = await gfm(`| a | b |\n|---|---|\n| ${markDifference('1:2.3~rc1-1', '1:2.3~rc2-1').join(' | ')} |\n`);
  assert.match(html, /<td><code>1:2\.3~rc<\/code><strong><code>1-1<\/code><\/strong><\/td>/);
  assert.doesNotMatch(html, /<del>/);
});

/**
 * The README and docs/ hold together: every relative link names a file or directory of the repository, every
 * `#anchor` a heading of its page as GitHub slugs it (github-slugger, duplicates numbered), no URL names a real
 * host on the internet (only placeholders and reserved names: `.example`, `.invalid`, `.test`, `.internal`,
 * localhost), and the README stays a door: at most 300 lines, its quick start as it was verified.
 * The Markdown is parsed by cmark-gfm (GitHub's own GFM parser, Debian's package) into its XML tree, so links
 * and headings are what GitHub sees, not what a regex guesses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { readFile, readdir, stat } from 'node:fs/promises';
import GithubSlugger from 'github-slugger';
import { XMLParser } from 'fast-xml-parser';
import { REPO_ROOT } from './helpers/cli.js';
import { run } from '../src/exec.js';

type XmlNode = Record<string, unknown>;
interface Page { file: string; slugs: Set<string>; links: string[]; text: string }

async function markdownTree(markdown: string): Promise<XmlNode[]> {
  const res = await run('cmark-gfm', ['-t', 'xml', '-e', 'table', '-e', 'autolink', '-e', 'strikethrough'], {
    input: markdown,
    missingHint: 'run .ci/setup-test (Debian package cmark-gfm)',
  });
  assert.equal(res.code, 0, res.stderr);
  const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, trimValues: false, attributeNamePrefix: '' });
  return parser.parse(res.stdout) as XmlNode[];
}

const tagOf = (n: XmlNode) => Object.keys(n).find((k) => k !== ':@' && k !== '#text');
const childrenOf = (n: XmlNode) => (n[tagOf(n) ?? ''] as XmlNode[] | undefined) ?? [];
const attrsOf = (n: XmlNode) => (n[':@'] as Record<string, string> | undefined) ?? {};

/** A heading's text as GitHub slugs it: the literal of its text and code nodes, in order. */
function textOf(n: XmlNode): string {
  const tag = tagOf(n);
  if (tag === 'text' || tag === 'code') return childrenOf(n).map((c) => String(c['#text'] ?? '')).join('');
  return childrenOf(n).map(textOf).join('');
}

async function readPage(file: string): Promise<Page> {
  const text = await readFile(join(REPO_ROOT, file), 'utf8');
  const slugger = new GithubSlugger();
  const page: Page = { file, slugs: new Set(), links: [], text };
  const walk = (nodes: XmlNode[]) => {
    for (const n of nodes) {
      const tag = tagOf(n);
      if (tag === 'heading') page.slugs.add(slugger.slug(textOf(n)));
      if (tag === 'link' || tag === 'image') page.links.push(attrsOf(n).destination ?? '');
      if (tag && tag !== 'code_block') walk(childrenOf(n));
    }
  };
  walk(await markdownTree(text));
  return page;
}

async function pages(): Promise<Map<string, Page>> {
  const files = ['README.md', ...(await readdir(join(REPO_ROOT, 'docs'))).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  return new Map(await Promise.all(files.map(async (f) => [f, await readPage(f)] as const)));
}

const RESERVED = /(^|\.)(example|invalid|test|localhost|internal)$|^example\.(com|net|org)$|^(localhost|127\.0\.0\.1|\[::1\])$/;
/** A host a reader fills in (`HOST`, `HOST[:PORT]`, `URL`, `…`) or a reserved name; never a real one. */
function hostAllowed(host: string): boolean {
  const name = host.replace(/:\d+$/, '').toLowerCase();
  return host === '' || !/[a-z]/.test(host) || /[[{$…]/.test(host) || RESERVED.test(name);
}
const URLS = /\b[a-z][a-z0-9+.-]*:\/\/([^/\s`'"()<>]*)/g;

/** Every problem of one page's links, as `file: destination: why`. */
async function linkProblems(page: Page, all: Map<string, Page>): Promise<string[]> {
  const problems: string[] = [];
  for (const dest of page.links) {
    const say = (why: string) => problems.push(`${page.file}: ${dest}: ${why}`);
    if (/^[a-z][a-z0-9+.-]*:/i.test(dest)) {
      const host = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(dest)?.[1];
      if (host === undefined || !hostAllowed(host)) say('a link off this repository (only placeholders and reserved host names)');
      continue;
    }
    const hash = dest.indexOf('#');
    const path = decodeURIComponent(hash < 0 ? dest : dest.slice(0, hash));
    const fragment = hash < 0 ? undefined : decodeURIComponent(dest.slice(hash + 1));
    if (path.startsWith('/')) { say('an absolute path (GitHub reads it from the repository root, a clone from /)'); continue; }
    const target = path === '' ? join(REPO_ROOT, page.file) : resolve(REPO_ROOT, dirname(page.file), path);
    const rel = relative(REPO_ROOT, target);
    if (rel.startsWith('..') || rel.startsWith(sep)) { say('outside the repository'); continue; }
    const st = await stat(target).catch(() => undefined);
    if (!st) { say(`no such file (${rel})`); continue; }
    if (fragment === undefined) continue;
    const linked = all.get(rel.split(sep).join('/'));
    if (!linked) { say(`an anchor into ${rel}, which this test does not read (link to README.md or docs/*.md)`); continue; }
    if (!linked.slugs.has(fragment)) say(`no heading of ${linked.file} has the anchor #${fragment}`);
  }
  for (const m of page.text.matchAll(URLS)) {
    if (!hostAllowed(m[1]!)) problems.push(`${page.file}: ${m[0]}: names a real host (use a placeholder or a reserved name)`);
  }
  return problems;
}

test('every link of README.md and docs/*.md resolves: files exist, anchors are headings, no real hosts', async () => {
  const all = await pages();
  assert.ok(all.size >= 10, `README.md and the docs/ pages: ${[...all.keys()].join(', ')}`);
  const problems = (await Promise.all([...all.values()].map((p) => linkProblems(p, all)))).flat();
  assert.deepEqual(problems, []);
  // the README is the door to docs/: each page is linked from it
  const fromReadme = new Set(all.get('README.md')!.links.map((d) => d.split('#')[0]));
  assert.deepEqual([...all.keys()].filter((f) => f !== 'README.md' && !fromReadme.has(f)), [], 'docs pages the README does not link');
});

test('the link check fails on what it must catch', async () => {
  const page: Page = {
    file: 'docs/commands.md',
    slugs: new Set(),
    text: 'see https://real-host.org/x and oci://HOST/REPO and https://mirror.example/debian',
    links: ['missing.md', 'lockfile.md#no-such-heading', 'lockfile.md#the-snapshot-header', '../../etc/passwd', '/README.md',
      'https://real-host.org/', 'http://127.0.0.1:8080/', '../examples/github-actions/', '#', '../src/cli.ts#L1'],
  };
  const all = await pages();
  const problems = await linkProblems(page, all);
  assert.deepEqual(problems.map((p) => p.replace(/: [^:]*$/, '')), [
    'docs/commands.md: missing.md',
    'docs/commands.md: lockfile.md#no-such-heading',
    'docs/commands.md: ../../etc/passwd',
    'docs/commands.md: /README.md',
    'docs/commands.md: https://real-host.org/',
    'docs/commands.md: #',
    'docs/commands.md: ../src/cli.ts#L1',
    'docs/commands.md: https://real-host.org',
  ]);
});

test('headings slug as GitHub slugs them (code spans, punctuation, duplicates)', async () => {
  const md = '# A `lock` on Arch: pacman decides\n\n## Drift by content: `hash verify --deep`\n\n## Dup\n\n## Dup\n\n```\n# not a heading\n```\n';
  const slugger = new GithubSlugger();
  const tree = await markdownTree(md);
  const headings = (tree.find((n) => tagOf(n) === 'document') ? childrenOf(tree.find((n) => tagOf(n) === 'document')!) : [])
    .filter((n) => tagOf(n) === 'heading').map((n) => slugger.slug(textOf(n)));
  assert.deepEqual(headings, ['a-lock-on-arch-pacman-decides', 'drift-by-content-hash-verify---deep', 'dup', 'dup-1']);
});

test('the README is a door: at most 300 lines, the quick start as verified on a fresh machine', async () => {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n').length - 1;
  assert.ok(lines <= 300, `README.md has ${lines} lines; the reference belongs in docs/`);
  for (const command of [
    'npm ci && npx pinget lock hello curl -o /tmp/pinget-example.SHA256SUMS && npx pinget download /tmp/pinget-example.SHA256SUMS -o /tmp/pinget-example',
    'npm ci && npm run setup:test && npm test',
  ]) assert.ok(readme.includes(`\n${command}\n`), `the quick start's command is on a line of its own: ${command}`);
  for (const heading of ['## Install', '## Quick start', '## Everyday use', '## Documentation', '## Architecture']) {
    assert.ok(readme.includes(`\n${heading}\n`), `README has ${heading}`);
  }
});

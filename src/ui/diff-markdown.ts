/**
 * A lockfile diff as a pull-request comment, risk first: the alerts, the risky rows (never collapsed and
 * cut only when they alone exceed the limit), the header changes, security updates, then the rest, collapsed. Every version,
 * path and hash is a code span, so GitHub renders it as written. Never longer than `limit` characters:
 * rows are cut from the last group shown, and each group's label says how many of its packages it shows.
 */
import type { Alert, HeaderChange, LockfileDiff, PackageChange } from '../diff.js';
import { changeNote, groupRows, headerDelta, mainArch, NEUTRAL_ARCH, summaryLine, type Row, type RowGroup } from './diff-groups.js';
import { packageLinks } from './diff-links.js';
import { code, hiddenMarker, link, tableRow, text } from './markdown.js';

/** GitHub refuses comment bodies longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65536;
/** A security group longer than this is collapsed; the risky group never is, the rest always is. */
const COLLAPSE_AFTER = 15;
/** Characters of one header's line (a first `manual` header lists every name). */
const HEADER_LINE_MAX = 2000;

export interface MarkdownOptions {
  title?: string;
  /** Characters the whole comment may take (default: GitHub's limit). */
  limit?: number;
}

/** The hidden first line that identifies a comment for a lockfile, so a workflow can update it in place. */
export function commentMarker(title: string): string {
  return hiddenMarker(`pinget diff: ${title}`);
}

const arrow = (a: string, b: string) => `${a} → ${b}`;
const hash12 = (s: string | undefined) => code((s ?? '').slice(0, 12));

function alertLine(a: Alert): string {
  const pkg = a.name ? `${code(a.name)}${a.arch ? ` (${code(a.arch)})` : ''}` : '';
  switch (a.kind) {
    case 'downgrade':
      if (a.name && a.oldVersion && a.newVersion) return `**Downgrade:** ${pkg} ${arrow(code(a.oldVersion), code(a.newVersion))}`;
      break;
    case 'same-path-different-bytes':
      if (a.path && a.oldSha256 && a.newSha256) return `**Same file name, different bytes:** ${code(a.path)} (${arrow(hash12(a.oldSha256), hash12(a.newSha256))})`;
      break;
    case 'same-version-different-bytes':
      if (a.name && a.newVersion) return `**Same version, different bytes:** ${pkg} ${code(a.newVersion)}${a.oldSha256 && a.newSha256 ? ` (${arrow(hash12(a.oldSha256), hash12(a.newSha256))})` : ''}`;
      break;
  }
  return text(a.message);
}

function headerLine(h: HeaderChange): string {
  const delta = headerDelta(h, '−');
  let body: string;
  if (delta) {
    const shown: string[] = [];
    let used = 0;
    for (const t of delta) {
      const item = `${t[0]}${code(t.slice(1))}`;
      if (used + item.length > HEADER_LINE_MAX) break;
      shown.push(item);
      used += item.length + 1;
    }
    body = shown.join(' ') + (shown.length < delta.length ? ` and ${delta.length - shown.length} more` : '');
  } else {
    const v = (s: string | undefined) => (s === undefined ? '(none)' : code(s.length > HEADER_LINE_MAX / 2 ? `${s.slice(0, HEADER_LINE_MAX / 2)}…` : s));
    body = arrow(v(h.old), v(h.new));
  }
  return `- ${code(h.key)}: ${body}`;
}

/** A table row: one package, or the packages of one source with the same change ("openssl ×3"). */
interface TableRow {
  line: string;
  packages: number;
}

/** `compact`: without links, for routine rows that would not all fit otherwise. */
function tableRows(rows: Row[], d: LockfileDiff, arch: string | undefined, compact = false): TableRow[] {
  const out: TableRow[] = [];
  const bySig = new Map<string, PackageChange[]>();
  const order: (PackageChange[] | Row)[] = [];
  for (const r of rows) {
    if ('file' in r || !r.change.source) {
      order.push(r);
      continue;
    }
    const c = r.change;
    const sig = [c.kind, c.source, c.oldVersion, c.newVersion, c.security, c.versionChange, c.oldPath === c.newPath].join('\u0000');
    const same = bySig.get(sig);
    if (same && c.kind !== 'moved' && c.kind !== 'rebuilt') same.push(c);
    else {
      const list = [c];
      bySig.set(sig, list);
      order.push(list);
    }
  }
  const name = (c: PackageChange) => code(c.arch === arch || NEUTRAL_ARCH.has(c.arch) ? c.name : `${c.name}:${c.arch}`);
  const ver = (v: string | undefined) => (v === undefined ? '—' : code(v));
  for (const item of order) {
    if (!Array.isArray(item) && 'file' in item) {
      out.push({ line: tableRow([item.kind, code(item.file), '—', '—', 'not a package']), packages: 1 });
      continue;
    }
    const cs = Array.isArray(item) ? item : [item.change];
    const c = cs[0];
    const names = cs.map(name).join(' ') + (cs.length > 1 && c.source ? ` (${code(c.source)} ×${cs.length})` : '');
    const links = compact ? [] : packageLinks(d.distro, c).map((l) => link(l.label, l.url));
    // a source package grouped with its binaries brings what only it has: its tarballs that came and went
    const note = changeNote(cs.find((x) => x.sourceFiles) ?? c, (h) => code(h), (p) => code(p)).replace(/ -> /g, ' → ');
    const details = [note, ...links].filter(Boolean).join(' · ');
    const [o, n] = c.oldVersion !== undefined && c.newVersion !== undefined ? markDifference(c.oldVersion, c.newVersion) : [ver(c.oldVersion), ver(c.newVersion)];
    out.push({ line: tableRow([c.kind, names, o, n, details]), packages: cs.length });
  }
  return out;
}

/**
 * Two versions as code, the part where they differ in bold (`590-2.1~deb12u`**`2`**): the split falls at the
 * start of the number or word where they first differ, so 3.0.20 -> 3.0.22 marks 20 and 22.
 */
export function markDifference(a: string, b: string): [string, string] {
  if (a === b) return [code(a), code(b)];
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  const kind = (ch: string | undefined) => (ch === undefined ? '' : /\d/.test(ch) ? 'digit' : /[A-Za-z]/.test(ch) ? 'letter' : '');
  const at = kind(a[p]) || kind(b[p]);
  while (p > 0 && at && kind(a[p - 1]) === at) p--;
  const mark = (v: string) => (p > 0 ? code(v.slice(0, p)) : '') + (p < v.length ? `**${code(v.slice(p))}**` : '');
  return [mark(a), mark(b)];
}

const TABLE_HEAD = ['| Change | Package | Old | New | Details |', '|---|---|---|---|---|'];

function groupLines(g: RowGroup, rows: TableRow[], kept: number): string[] {
  const total = rows.reduce((n, r) => n + r.packages, 0);
  const shown = rows.slice(0, kept).reduce((n, r) => n + r.packages, 0);
  const label = `${g.title}: ${shown} of ${total} package${total === 1 ? '' : 's'}${shown < total ? ' (cut at the size limit)' : ''}`;
  const table = kept > 0 ? [...TABLE_HEAD, ...rows.slice(0, kept).map((r) => r.line)] : [];
  const collapse = g.id === 'other' || (g.id === 'security' && rows.length > COLLAPSE_AFTER);
  if (collapse) return [`<details><summary>${label}</summary>`, '', ...table, ...(table.length ? [''] : []), '</details>', ''];
  return [`#### ${label}`, '', ...table, ...(table.length ? [''] : [])];
}

export function formatMarkdown(d: LockfileDiff, opts: MarkdownOptions = {}): string {
  const limit = opts.limit ?? GITHUB_COMMENT_LIMIT;
  const title = opts.title ?? 'Lockfile changes';
  const arch = mainArch(d);
  const head = [commentMarker(title), `### ${text(title)}`, '', `**${text(summaryLine(d))}**${arch ? ` · architecture ${code(arch)} unless a row names another` : ''}`, ''];
  const alerts = d.alerts.map((a) => `> - ${alertLine(a)}`);
  const headers = d.headers.map(headerLine);
  const tail = d.cidsAdded || d.cidsRemoved ? [`IPFS: ${d.cidsAdded} CIDs added, ${d.cidsRemoved} removed.`, ''] : [];
  const groups = groupRows(d).map((g) => ({ group: g, rows: tableRows(g.rows, d, arch) }));
  // when everything would not fit, the routine rows go without links: twice as many of them are shown
  const other = groups.find((g) => g.group.id === 'other');
  if (other && groups.reduce((n, g) => n + g.rows.reduce((m, r) => m + r.line.length + 1, 0), 0) > limit) other.rows = tableRows(other.group.rows, d, arch, true);

  const render = (keptAlerts: number, keptHeaders: number, kept: number[]) => {
    const out = [...head];
    if (keptAlerts) out.push('> [!CAUTION]', ...alerts.slice(0, keptAlerts), '');
    // the headers after the risky rows, before the routine ones
    const headerLines = keptHeaders ? ['Headers changed:', '', ...headers.slice(0, keptHeaders), ''] : [];
    if (groups[0]?.group.id !== 'risky') out.push(...headerLines);
    groups.forEach((g, i) => {
      out.push(...groupLines(g.group, g.rows, kept[i]));
      if (g.group.id === 'risky') out.push(...headerLines);
    });
    const rowsCut = groups.reduce((n, g, i) => n + g.rows.slice(kept[i]).reduce((m, r) => m + r.packages, 0), 0);
    const cut = [
      [alerts.length - keptAlerts, 'alerts'],
      [headers.length - keptHeaders, 'header changes'],
      [rowsCut, 'package changes'],
    ].filter(([n]) => (n as number) > 0);
    if (cut.length) {
      out.push(
        `**Not shown: ${cut.map(([n, what]) => `${n} ${what}`).join(', ')}** (a comment may have at most ${limit.toLocaleString('en-US')} characters); run \`pinget diff\` on the two lockfiles for the full list.`,
        '',
      );
    }
    out.push(...tail);
    return out.join('\n');
  };

  // What is left once the frame is drawn (labels at their longest), then alerts, headers and rows in reading order.
  // per group: its table's head and a blank line once it has rows, and its label's counts at their longest
  let room = limit - render(0, 0, groups.map(() => 0)).length - groups.length * (TABLE_HEAD.join('\n').length + 2 + 40) - 60;
  const take = (lines: string[], cap: number) => {
    let n = 0;
    let used = 0;
    while (n < lines.length && used + lines[n].length + 1 <= Math.min(cap, room)) used += lines[n++].length + 1;
    room -= used;
    return n;
  };
  const chars = (lines: string[]) => lines.reduce((n, l) => n + l.length + 1, 0);
  const keptHeaders = take(headers, room * 0.1);
  // Alerts take up to 30%, less when the risky rows need it (each alert is also a risky row), never under 10%.
  const risky = groups.find((g) => g.group.id === 'risky')?.rows.map((r) => r.line) ?? [];
  const keptAlerts = take(alerts, Math.max(room * 0.1, Math.min(room * 0.3, room - chars(risky))));
  const kept = groups.map(() => 0);
  // Reading order: once a row does not fit, nothing after it is shown; only the last group shown is cut.
  for (let i = 0; i < groups.length; i++) {
    const lines = groups[i].rows.map((r) => r.line);
    kept[i] = take(lines, room);
    if (kept[i] < lines.length) break;
  }
  let out = render(keptAlerts, keptHeaders, kept);
  // The room above is counted with a margin; should it ever be short, rows go from the end until the comment fits.
  for (let i = groups.length - 1; out.length > limit && i >= 0; ) {
    if (kept[i] === 0) i--;
    else out = render(keptAlerts, keptHeaders, ((kept[i] -= 1), kept));
  }
  return out;
}

/** Renders a lockfile diff for people (text, markdown for PR comments) and machines (json). */
import { summaryCounts, type LockfileDiff, type PackageChange } from '../diff.js';

const SIGN: Record<PackageChange['kind'], string> = { added: '+', removed: '-', upgraded: '↑', downgraded: '↓', rebuilt: '~', moved: '>' };
/** Rows above which the markdown table is collapsed into <details>. */
const COLLAPSE_AFTER = 15;

export function summaryLine(d: LockfileDiff): string {
  const c = summaryCounts(d);
  const parts = (Object.keys(c) as (keyof typeof c)[]).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
  if (d.otherAdded.length) parts.push(`${d.otherAdded.length} other files added`);
  if (d.otherRemoved.length) parts.push(`${d.otherRemoved.length} other files removed`);
  if (d.alerts.length) parts.push(`${d.alerts.length} alert${d.alerts.length === 1 ? '' : 's'}`);
  return parts.length ? parts.join(', ') : 'no package changes';
}

export function formatText(d: LockfileDiff): string {
  const out: string[] = [summaryLine(d)];
  for (const a of d.alerts) out.push(`ALERT ${a.message}`);
  for (const h of d.headers) out.push(`header ${h.key}: ${h.old ?? '(none)'} -> ${h.new ?? '(none)'}`);
  for (const c of d.changes) {
    const versions = c.kind === 'added' ? c.newVersion : c.kind === 'removed' ? c.oldVersion : `${c.oldVersion} -> ${c.newVersion}`;
    out.push(`${SIGN[c.kind]} ${c.kind.padEnd(10)} ${c.name} (${c.arch}) ${versions}`);
  }
  for (const p of d.otherAdded) out.push(`+ file       ${p}`);
  for (const p of d.otherRemoved) out.push(`- file       ${p}`);
  if (d.cidsAdded || d.cidsRemoved) out.push(`ipfs: ${d.cidsAdded} CIDs added, ${d.cidsRemoved} removed`);
  return out.join('\n') + '\n';
}

const cell = (s: string | undefined) => (s ?? '').replace(/\|/g, '\\|');

/** GitHub refuses comment bodies longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65536;

export interface MarkdownOptions {
  title?: string;
  /** Characters the whole comment may take (default: GitHub's limit). */
  limit?: number;
}

/**
 * A pull-request comment: summary, alerts, headers, a table of changes (collapsed when long). When it
 * would exceed `limit`, alerts and rows are cut and a note says how many were left out.
 */
export function formatMarkdown(d: LockfileDiff, opts: MarkdownOptions = {}): string {
  const limit = opts.limit ?? GITHUB_COMMENT_LIMIT;
  const head: string[] = [`### ${opts.title ?? 'Lockfile changes'}`, '', `**${summaryLine(d)}**`, ''];
  const alerts = d.alerts.map((a) => `> ${cell(a.message)}`);
  const headers = d.headers.map((h) => `| ${cell(h.key)} | ${cell(h.old) || '—'} | ${cell(h.new) || '—'} |`);
  const rows = d.changes.map((c) => `| ${c.kind} | \`${cell(c.name)}\` | ${cell(c.arch)} | ${cell(c.oldVersion) || '—'} | ${cell(c.newVersion) || '—'} |`);
  for (const p of d.otherAdded) rows.push(`| added file | \`${cell(p)}\` | | | |`);
  for (const p of d.otherRemoved) rows.push(`| removed file | \`${cell(p)}\` | | | |`);
  const tail = d.cidsAdded || d.cidsRemoved ? [`IPFS: ${d.cidsAdded} CIDs added, ${d.cidsRemoved} removed.`, ''] : [];

  // Room for the fixed parts and the note about what was cut, then lines are taken while they fit.
  let budget = limit - [...head, ...tail].join('\n').length - 600;
  const take = (lines: string[], share: number): string[] => {
    const kept: string[] = [];
    let room = Math.floor(budget * share);
    for (const l of lines) {
      if (l.length + 1 > room) break;
      kept.push(l);
      room -= l.length + 1;
    }
    budget -= kept.reduce((n, l) => n + l.length + 1, 0);
    return kept;
  };
  const keptAlerts = take(alerts, 0.3);
  const keptHeaders = take(headers, 0.1);
  const keptRows = take(rows, 1);

  const out = [...head];
  if (keptAlerts.length) out.push('> [!CAUTION]', ...keptAlerts, '');
  if (keptHeaders.length) out.push('| Header | Old | New |', '|---|---|---|', ...keptHeaders, '');
  if (keptRows.length) {
    const table = ['| Change | Package | Arch | Old | New |', '|---|---|---|---|---|', ...keptRows];
    if (keptRows.length > COLLAPSE_AFTER) out.push(`<details><summary>${rows.length} changes</summary>`, '', ...table, '', '</details>');
    else out.push(...table);
    out.push('');
  }
  const cut = [
    [alerts.length - keptAlerts.length, 'alerts'],
    [headers.length - keptHeaders.length, 'header changes'],
    [rows.length - keptRows.length, 'changes'],
  ].filter(([n]) => (n as number) > 0);
  if (cut.length) {
    out.push(
      `**Not shown: ${cut.map(([n, what]) => `${n} ${what}`).join(', ')}** (a comment may have at most ${limit.toLocaleString('en-US')} characters); run \`pinget diff\` on the two lockfiles for the full list.`,
      '',
    );
  }
  out.push(...tail);
  return out.join('\n');
}

export function formatJson(d: LockfileDiff): string {
  return JSON.stringify({ schema: 1, summary: summaryCounts(d), ...d }, null, 2) + '\n';
}

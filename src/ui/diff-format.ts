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

export function formatMarkdown(d: LockfileDiff, title = 'Lockfile changes'): string {
  const out: string[] = [`### ${title}`, '', `**${summaryLine(d)}**`, ''];
  if (d.alerts.length) {
    out.push('> [!CAUTION]');
    for (const a of d.alerts) out.push(`> ${cell(a.message)}`);
    out.push('');
  }
  if (d.headers.length) {
    out.push('| Header | Old | New |', '|---|---|---|');
    for (const h of d.headers) out.push(`| ${cell(h.key)} | ${cell(h.old) || '—'} | ${cell(h.new) || '—'} |`);
    out.push('');
  }
  const rows = d.changes.map((c) => `| ${c.kind} | \`${cell(c.name)}\` | ${cell(c.arch)} | ${cell(c.oldVersion) || '—'} | ${cell(c.newVersion) || '—'} |`);
  for (const p of d.otherAdded) rows.push(`| added file | \`${cell(p)}\` | | | |`);
  for (const p of d.otherRemoved) rows.push(`| removed file | \`${cell(p)}\` | | | |`);
  if (rows.length) {
    const table = ['| Change | Package | Arch | Old | New |', '|---|---|---|---|---|', ...rows];
    if (rows.length > COLLAPSE_AFTER) out.push(`<details><summary>${rows.length} changes</summary>`, '', ...table, '', '</details>');
    else out.push(...table);
    out.push('');
  }
  if (d.cidsAdded || d.cidsRemoved) out.push(`IPFS: ${d.cidsAdded} CIDs added, ${d.cidsRemoved} removed.`, '');
  return out.join('\n');
}

export function formatJson(d: LockfileDiff): string {
  return JSON.stringify({ summary: summaryCounts(d), ...d }, null, 2) + '\n';
}

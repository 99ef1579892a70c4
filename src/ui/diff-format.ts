/** Renders a lockfile diff for people (text; markdown for PR comments in diff-markdown.ts) and machines (json). */
import { securityCount, summaryCounts, type LockfileDiff, type PackageChange } from '../diff.js';
import { changeNote, groupRows, headerDelta, summaryLine, type Row } from './diff-groups.js';

export { summaryLine } from './diff-groups.js';
export { formatMarkdown, GITHUB_COMMENT_LIMIT, type MarkdownOptions } from './diff-markdown.js';

const SIGN: Record<PackageChange['kind'], string> = { added: '+', removed: '-', upgraded: '↑', downgraded: '↓', rebuilt: '~', moved: '>' };

function textRow(r: Row): string {
  if ('file' in r) return `${r.kind === 'added file' ? '+' : '-'} file       ${r.file}`;
  const c = r.change;
  const versions = c.kind === 'added' ? c.newVersion : c.kind === 'removed' ? c.oldVersion : `${c.oldVersion} -> ${c.newVersion}`;
  const note = changeNote(c);
  return `${SIGN[c.kind]} ${c.kind.padEnd(10)} ${c.name} (${c.arch}) ${versions}${note ? `  [${note}]` : ''}`;
}

export function formatText(d: LockfileDiff): string {
  const out: string[] = [summaryLine(d)];
  for (const a of d.alerts) out.push(`ALERT ${a.message}`);
  for (const h of d.headers) out.push(`header ${h.key}: ${headerDelta(h)?.join(' ') ?? `${h.old ?? '(none)'} -> ${h.new ?? '(none)'}`}`);
  const groups = groupRows(d);
  for (const g of groups) {
    if (groups.length > 1) out.push(`${g.title.toLowerCase()} (${g.rows.length}):`);
    for (const r of g.rows) out.push(textRow(r));
  }
  if (d.cidsAdded || d.cidsRemoved) out.push(`ipfs: ${d.cidsAdded} CIDs added, ${d.cidsRemoved} removed`);
  return out.join('\n') + '\n';
}

export function formatJson(d: LockfileDiff): string {
  return JSON.stringify({ schema: 1, summary: { ...summaryCounts(d), security: securityCount(d) }, ...d }, null, 2) + '\n';
}

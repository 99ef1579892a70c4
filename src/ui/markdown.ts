/** Markdown primitives that render as written on GitHub (GFM), whatever the text holds. */

/**
 * A code span: nothing inside is read as Markdown (Debian's `~` would otherwise pair into strikethrough).
 * A fence longer than any backtick run inside, padded when the text starts or ends with a backtick or space.
 */
export function code(text: string): string {
  // the usual case (a version, a path, a name): nothing to pad or fence around
  if (!/[`\r\n]|^ | $|^$/.test(text)) return `\`${text}\``;
  const flat = text.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || (flat.startsWith(' ') && flat.endsWith(' ') && flat.trim()) ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Plain text: the characters that open emphasis, strikethrough, links, HTML, code or entities backslash-escaped (CommonMark reads `\~` as `~`). */
export function text(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>()#!|~&]/g, (c) => `\\${c}`);
}

/** A link whose label is already Markdown; the URL percent-encodes what would end it. */
export function link(label: string, url: string): string {
  return `[${label}](${url.replace(/[()<> |\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)})`;
}

/** An HTML comment GitHub does not show, holding `text` safely (no `--`, no `>`). */
export function hiddenMarker(s: string): string {
  return `<!-- ${s.replace(/-{2,}/g, '-').replace(/[<>\r\n]/g, '_')} -->`;
}

/**
 * A table row. GFM's table parser takes every `|` after a backslash as part of the cell and drops that one
 * backslash, before any inline parsing and inside code spans too; so each `|` of a cell gets one.
 */
export function tableRow(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

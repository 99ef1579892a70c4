/**
 * RFC822-style control paragraphs as Debian writes them (deb-control(5), deb822(5)): `Field: value` lines,
 * continuation lines starting with a space or tab, paragraphs separated by blank lines. Tolerates CRLF,
 * a missing trailing newline, and (where `comments` is set, as in .sources files) `#` comment lines. Pure.
 */
export interface Paragraph {
  /** Field names lowercased (field names are case-insensitive); values with the first line trimmed, continuation lines joined by '\n'. */
  fields: Map<string, string>;
  /** 1-based line where the paragraph starts, for messages. */
  line: number;
}

export function parseParagraphs(text: string, opts: { comments?: boolean } = {}): Paragraph[] {
  const out: Paragraph[] = [];
  let cur: Paragraph | undefined;
  let last: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (opts.comments && line.startsWith('#')) continue;
    if (line.trim() === '') {
      if (cur) out.push(cur);
      cur = undefined;
      last = undefined;
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (!cur || last === undefined) throw new Error(`line ${i + 1}: continuation line outside a field`);
      const prev = cur.fields.get(last) ?? '';
      cur.fields.set(last, prev === '' ? line.trim() : `${prev}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`line ${i + 1}: expected "Field: value", got ${JSON.stringify(line.slice(0, 40))}`);
    cur ??= { fields: new Map(), line: i + 1 };
    last = line.slice(0, colon).trim().toLowerCase();
    cur.fields.set(last, line.slice(colon + 1).trim());
  }
  if (cur) out.push(cur);
  return out;
}

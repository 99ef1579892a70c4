/**
 * The apk database text format, shared by /lib/apk/db/installed and the APKINDEX inside APKINDEX.tar.gz:
 * one package per paragraph, `X:value` lines with single-letter keys (P name, V version, A arch,
 * C identity `Q1<base64 sha1>`); in `installed`, F/R/a/M/Z lines repeat per directory and file. Pure.
 */
export interface ApkRecord {
  name: string;
  version: string;
  arch?: string;
  /** The `C:` identity: `Q1` + base64 SHA-1 of the control gzip member. */
  identity?: string;
  /** Build time (`t:`), seconds since the epoch. */
  buildTime?: number;
  /** Line number where the record starts (1-based), for messages. */
  line: number;
}

export function parseApkDb(text: string, file: string): ApkRecord[] {
  const out: ApkRecord[] = [];
  let cur: Partial<ApkRecord> & { line?: number } = {};
  const flush = (lineNo: number) => {
    if (cur.line === undefined) return;
    if (!cur.name || !cur.version) {
      throw new Error(`${file}:${cur.line}: package record without ${cur.name ? 'V:' : 'P:'} (ends at line ${lineNo})`);
    }
    out.push(cur as ApkRecord);
    cur = {};
  };
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line === '') return flush(i + 1);
    if (line.length < 2 || line[1] !== ':') throw new Error(`${file}:${i + 1}: expected "X:value", got ${JSON.stringify(line.slice(0, 40))}`);
    cur.line ??= i + 1;
    const value = line.slice(2);
    switch (line[0]) {
      case 'P':
        cur.name = value;
        break;
      case 'V':
        cur.version = value;
        break;
      case 'A':
        cur.arch = value;
        break;
      case 'C':
        cur.identity = value;
        break;
      case 't':
        cur.buildTime = Number(value);
        break;
    }
  });
  flush(lines.length);
  return out;
}

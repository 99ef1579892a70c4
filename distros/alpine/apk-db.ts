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
  /** The licence as the package declares it (`L:`). */
  licence?: string;
  /** The origin: the APKBUILD (source package) it was built from (`o:`). */
  origin?: string;
  /** Line number where the record starts (1-based), for messages. */
  line: number;
}

/**
 * Parses the records; with `keep`, only those whose name it accepts are built (an APKINDEX lists every
 * package of a repository, a root installs a few hundred), though every record is still checked. Lines
 * are scanned in place, never split into one array of the whole text.
 */
export function parseApkDb(text: string, file: string, keep?: (name: string) => boolean): ApkRecord[] {
  const out: ApkRecord[] = [];
  let cur: Partial<ApkRecord> & { line?: number } = {};
  const flush = (lineNo: number) => {
    if (cur.line === undefined) return;
    if (!cur.name || !cur.version) {
      throw new Error(`${file}:${cur.line}: package record without ${cur.name ? 'V:' : 'P:'} (ends at line ${lineNo})`);
    }
    if (!keep || keep(cur.name)) out.push(cur as ApkRecord);
    cur = {};
  };
  let lineNo = 0;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.charCodeAt(end - 1) === 13 && end > start ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    if (line === '') {
      flush(lineNo);
      continue;
    }
    if (line.length < 2 || line[1] !== ':') throw new Error(`${file}:${lineNo}: expected "X:value", got ${JSON.stringify(line.slice(0, 40))}`);
    cur.line ??= lineNo;
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
      case 'L':
        cur.licence = value;
        break;
      case 'o':
        cur.origin = value;
        break;
    }
  }
  flush(lineNo);
  return out;
}

// apk's syntax for names, versions (apk-package(5), version.c) and identities; a flipped byte shows here.
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;
const VERSION_RE = /^[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*(~[0-9a-f]+)?(-r[0-9]+)?$/;
const ARCH_RE = /^[a-z0-9_]+$/;
const IDENTITY_RE = /^(Q1[A-Za-z0-9+/]{27}=|Q2[A-Za-z0-9+/]{43}=)$/;

/**
 * The installed database as apk writes it: every record ended by a blank line, every record's name, version,
 * architecture and identity well-formed. A file cut short, or a corrupted field, is an error naming the line.
 */
export function checkInstalledDb(text: string, records: ApkRecord[], file: string): void {
  if (text !== '' && !/\n\n$/.test(text)) {
    const last = records.at(-1)?.line ?? 1;
    throw new Error(`${file}:${last}: the file ends inside a package record (truncated?); apk ends every record with a blank line`);
  }
  for (const r of records) {
    const what = !NAME_RE.test(r.name)
      ? `bad package name P:${r.name}`
      : !VERSION_RE.test(r.version)
        ? `${r.name}: bad version V:${r.version}`
        : r.arch !== undefined && !ARCH_RE.test(r.arch)
          ? `${r.name}: bad architecture A:${r.arch}`
          : r.identity !== undefined && !IDENTITY_RE.test(r.identity)
            ? `${r.name}: bad identity C:${r.identity}`
            : undefined;
    if (what) throw new Error(`${file}:${r.line}: ${what.slice(0, 160)}`);
  }
}

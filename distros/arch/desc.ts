/**
 * pacman's `desc` records (the local database's `local/<name>-<ver>/desc` and each entry of a sync
 * database): blocks of `%KEY%` followed by one value per line, ended by a blank line.
 * (libalpm be_local.c / be_sync.c read the same layout; see alpm-db-desc(5).)
 */
export type DescRecord = Record<string, string[]>;

/** `%KEY%` with KEY of A-Z, 0-9 and _ (as /^%([A-Z0-9_]+)%$/, without a match object per line). */
function isKeyLine(line: string): boolean {
  const n = line.length;
  if (n < 3 || line.charCodeAt(0) !== 37 || line.charCodeAt(n - 1) !== 37) return false;
  for (let i = 1; i < n - 1; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95)) return false;
  }
  return true;
}

/** Parses one desc file. Values keep their order; CRLF and a missing final newline are accepted. */
export function parseDesc(text: string): DescRecord {
  const out: DescRecord = {};
  let values: string[] | undefined;
  // Lines scanned in place: a sync database has thousands of these files.
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    start = end + 1;
    if (isKeyLine(line)) values = out[line.slice(1, -1)] ??= [];
    else if (line === '') values = undefined;
    else values?.push(line);
  }
  return out;
}

/** The 1-based line of the first non-blank line that belongs to no %KEY% block, or undefined. */
export function strayLine(text: string): number | undefined {
  let inBlock = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (/^%[A-Z0-9_]+%$/.test(line)) inBlock = true;
    else if (line === '') inBlock = false;
    else if (!inBlock) return i + 1;
  }
  return undefined;
}

/** The first value of a key, or undefined. */
export function descValue(rec: DescRecord, key: string): string | undefined {
  return rec[key]?.[0];
}

export interface PacmanPackage {
  name: string;
  /** `[epoch:]pkgver-pkgrel`, as pacman prints it. */
  version: string;
  arch: string;
  filename?: string;
  sha256?: string;
  /** Base64 detached signature from the sync database, when the repository carries one. */
  pgpsig?: string;
  builddate?: number;
  /** %LICENSE%: one licence per line. */
  licences?: string[];
  /** %BASE%: the pkgbase (the PKGBUILD, source package) it was built from. */
  base?: string;
}

/** The fields pinget uses; undefined when NAME or VERSION is missing (not a package record). */
export function packageOf(rec: DescRecord): PacmanPackage | undefined {
  const name = descValue(rec, 'NAME');
  const version = descValue(rec, 'VERSION');
  if (!name || !version) return undefined;
  const builddate = Number(descValue(rec, 'BUILDDATE'));
  return {
    name,
    version,
    arch: descValue(rec, 'ARCH') ?? 'any',
    filename: descValue(rec, 'FILENAME'),
    sha256: descValue(rec, 'SHA256SUM')?.toLowerCase(),
    pgpsig: rec.PGPSIG?.join(''),
    builddate: Number.isFinite(builddate) && builddate > 0 ? builddate : undefined,
    licences: rec.LICENSE,
    base: descValue(rec, 'BASE'),
  };
}

/**
 * pacman's `desc` records (the local database's `local/<name>-<ver>/desc` and each entry of a sync
 * database): blocks of `%KEY%` followed by one value per line, ended by a blank line.
 * (libalpm be_local.c / be_sync.c read the same layout; see alpm-db-desc(5).)
 */
export type DescRecord = Record<string, string[]>;

/** Parses one desc file. Values keep their order; CRLF and a missing final newline are accepted. */
export function parseDesc(text: string): DescRecord {
  const out: DescRecord = {};
  let key: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const header = /^%([A-Z0-9_]+)%$/.exec(line);
    if (header) {
      key = header[1];
      out[key] ??= [];
      continue;
    }
    if (line === '') {
      key = undefined;
      continue;
    }
    if (key) out[key].push(line);
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

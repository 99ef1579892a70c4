/**
 * The file lists of /lib/apk/db/installed: per package paragraph, `F:` names a directory (relative to the
 * root) and the `R:` lines after it its files, each followed by its `Z:` checksum — `Q1` + base64 SHA-1 of
 * the file's content (of the target for a symlink), or `Q2` + base64 SHA-256 (apk-tools 3). `a:`/`M:` lines
 * carry ownership and modes and are not read here. (apk-tools src/database.c apk_db_fdb_read.) Pure.
 */
export interface InstalledFile {
  /** Path relative to the root, without a leading slash. */
  path: string;
  /** `Q1...` or `Q2...`, when the db records one. */
  checksum?: string;
}

/** Package name -> its files, in database order. */
export function parseInstalledFiles(text: string): Map<string, InstalledFile[]> {
  const out = new Map<string, InstalledFile[]>();
  let name: string | undefined;
  let dir = '';
  let files: InstalledFile[] = [];
  let last: InstalledFile | undefined;
  const flush = () => {
    if (name !== undefined) out.set(name, [...(out.get(name) ?? []), ...files]);
    name = undefined;
    dir = '';
    files = [];
    last = undefined;
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '') {
      flush();
      continue;
    }
    const value = line.slice(2);
    switch (line.slice(0, 2)) {
      case 'P:':
        name = value;
        break;
      case 'F:':
        dir = value;
        last = undefined;
        break;
      case 'R:':
        last = { path: dir ? `${dir}/${value}` : value };
        files.push(last);
        break;
      case 'Z:':
        if (last) last.checksum = value;
        break;
    }
  }
  flush();
  return out;
}

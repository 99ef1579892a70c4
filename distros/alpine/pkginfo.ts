/** `.PKGINFO` of an apk's control segment: `key = value` lines, `#` comments, repeated keys (depend). Pure. */
export type PkgInfo = Map<string, string[]>;

export function parsePkgInfo(text: string): PkgInfo {
  const out: PkgInfo = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf(' = ');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const list = out.get(key) ?? [];
    list.push(line.slice(eq + 3));
    out.set(key, list);
  }
  return out;
}

export function pkgInfoValue(info: PkgInfo, key: string): string | undefined {
  return info.get(key)?.[0];
}

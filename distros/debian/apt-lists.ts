/**
 * apt's downloaded indexes in <root>/var/lib/apt/lists: which `Packages` files there are, which release file
 * covers each, and a fast scan of a Packages index for the records of installed packages.
 */
import { readdir } from 'node:fs/promises';

export interface PackagesRecord {
  name: string;
  version: string;
  arch: string;
  /** Pool path relative to the repository root, e.g. `pool/main/h/hello/hello_2.10-2_amd64.deb`. */
  filename: string;
  sha256: string;
}

export interface ListFile {
  /** File name inside the lists directory. */
  name: string;
  /** The release file's name prefix (`<prefix>_InRelease`), when one covers this index. */
  releasePrefix?: string;
  /** Path of the index inside the suite, uncompressed (e.g. `main/binary-amd64/Packages`). */
  relPath: string;
  /** The stored compression extension, with its dot ('' when plain). */
  ext: string;
}

const PACKAGES = /_Packages(\.(?:gz|xz|lz4|zst|bz2))?$/;

/** The Packages indexes in a lists directory, sorted by name, each linked to the nearest release file. */
export async function findPackagesLists(listsDir: string): Promise<ListFile[]> {
  const names = (await readdir(listsDir).catch(() => [] as string[])).sort();
  return planLists(names);
}

export function planLists(names: string[]): ListFile[] {
  const releases = new Set<string>();
  for (const n of names) {
    if (n.endsWith('_InRelease')) releases.add(n.slice(0, -'_InRelease'.length));
    else if (n.endsWith('_Release')) releases.add(n.slice(0, -'_Release'.length));
  }
  const out: ListFile[] = [];
  for (const name of names) {
    const m = PACKAGES.exec(name);
    if (!m) continue;
    const ext = m[1] ?? '';
    const base = name.slice(0, name.length - ext.length);
    let prefix: string | undefined;
    for (let k = base.lastIndexOf('_'); k > 0; k = base.lastIndexOf('_', k - 1)) {
      if (releases.has(base.slice(0, k))) {
        prefix = base.slice(0, k);
        break;
      }
    }
    const rest = prefix ? base.slice(prefix.length + 1) : 'Packages';
    out.push({ name, releasePrefix: prefix, relPath: decodeURIComponent(rest.replace(/_/g, '/')), ext });
  }
  return out;
}

/** The value of `name` (with its colon) in text[start, end), or undefined. */
function field(text: string, start: number, end: number, name: string): string | undefined {
  let i: number;
  if (text.startsWith(name, start)) i = start + name.length;
  else {
    i = text.indexOf(`\n${name}`, start);
    if (i < 0 || i >= end) return undefined;
    i += name.length + 1;
  }
  let e = text.indexOf('\n', i);
  if (e < 0 || e > end) e = end;
  return text.slice(i, e).trim();
}

/**
 * Scans a Packages index (decompressed) and returns the records whose `name\0version\0arch` key is in `want`
 * (all records when `want` is undefined). Works on a latin1 view of the bytes with indexOf, looking past a
 * record's first line only when its name is wanted, so a full Debian main index (~50 MB, 60k records) takes a
 * fraction of a second. The fields read are ASCII.
 */
export function scanPackages(data: Uint8Array, want?: Set<string>): PackagesRecord[] {
  let text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  if (text.includes('\r\n')) text = text.replace(/\r\n/g, '\n');
  const names = want ? new Set([...want].map((k) => k.slice(0, k.indexOf('\0')))) : undefined;
  const out: PackagesRecord[] = [];
  let pos = 0;
  while (pos < text.length) {
    while (text.charCodeAt(pos) === 10) pos++;
    if (pos >= text.length) break;
    let end = text.indexOf('\n\n', pos);
    if (end < 0) end = text.length;
    const start = pos;
    pos = end + 2;
    const name = field(text, start, end, 'Package:');
    if (!name || (names && !names.has(name))) continue;
    const version = field(text, start, end, 'Version:');
    const arch = field(text, start, end, 'Architecture:');
    if (!version || !arch) continue;
    if (want && !want.has(`${name}\0${version}\0${arch}`)) continue;
    const filename = field(text, start, end, 'Filename:');
    const sha256 = field(text, start, end, 'SHA256:');
    if (!filename || !sha256) continue;
    out.push({ name, version, arch, filename, sha256: sha256.toLowerCase() });
  }
  return out;
}

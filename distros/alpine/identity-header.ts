/**
 * The `apk-identity` lockfile header: the `C:` identity of each pinned package, so that `install` can
 * accept a re-signed file (new whole-file sha256, same control and data members). The lockfile keeps one
 * value per header key, so it is one compact map: `<basename>=<Q1...>` pairs separated by spaces, sorted
 * by path (paths of one lockfile share `<branch>/<repo>/<arch>`, and apk names hold no spaces or `=`).
 * A basename that two paths share is written as its full path instead. Pure.
 */
import { basename } from '../../src/lockfile.js';
import { IDENTITY } from './apk-file.js';

export const IDENTITY_HEADER = 'apk-identity';

export function formatIdentityHeader(byPath: Map<string, string>): string {
  const paths = [...byPath.keys()].sort();
  const count = new Map<string, number>();
  for (const p of paths) count.set(basename(p), (count.get(basename(p)) ?? 0) + 1);
  return paths.map((p) => `${count.get(basename(p))! > 1 ? p : basename(p)}=${byPath.get(p)}`).join(' ');
}

/** Key (basename or full path) -> identity. Malformed pairs are errors naming the header. */
export function parseIdentityHeader(value: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (value ?? '').split(/\s+/).filter(Boolean)) {
    const eq = pair.lastIndexOf('=Q1');
    const id = eq > 0 ? pair.slice(eq + 1) : '';
    if (!IDENTITY.test(id)) throw new Error(`# ${IDENTITY_HEADER}: ${JSON.stringify(pair)} is not <file>=Q1<base64 SHA-1>`);
    out.set(pair.slice(0, eq), id);
  }
  return out;
}

/** The pinned identity of a lockfile path, from the parsed header. */
export function identityFor(map: Map<string, string>, path: string): string | undefined {
  return map.get(path) ?? map.get(basename(path));
}

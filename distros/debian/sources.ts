/**
 * apt's sources: one-line `.list` files (sources.list(5) "ONE-LINE-STYLE FORMAT") and deb822 `.sources` files
 * ("DEB822-STYLE FORMAT"), with options such as [arch=amd64 signed-by=/path]. Pure parsers plus one reader.
 */
import { readdir, readFile } from 'node:fs/promises';
import { parseParagraphs } from './deb822.js';
import { resolveInRoot } from '../../src/root-path.js';

export interface SourceEntry {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  /** Options, keys lowercased (arch, signed-by, trusted, ...). Deb822 fields other than the core ones land here too. */
  options: Record<string, string>;
  /** Signed-By: file paths / fingerprints (comma or space separated), or an inline armored key block. */
  signedBy?: string;
  /** Where it was read from, `file:line`. */
  origin: string;
}

const CORE = new Set(['types', 'uris', 'suites', 'components', 'enabled']);

function words(v: string | undefined): string[] {
  return (v ?? '').split(/\s+/).filter(Boolean);
}

export function parseOneLineSources(text: string, file = 'sources.list'): SourceEntry[] {
  const out: SourceEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    let line = raw.replace(/\r$/, '');
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    line = line.trim();
    if (!line) return;
    const m = /^(\S+)\s*(?:\[([^\]]*)\])?\s*(.*)$/.exec(line);
    if (!m) return;
    const type = m[1];
    const options: Record<string, string> = {};
    for (const opt of words(m[2])) {
      const eq = opt.indexOf('=');
      if (eq <= 0) continue;
      // `arch+=x` / `arch-=x` adjust defaults; keep the plain key with the value.
      const key = opt.slice(0, eq).replace(/[+-]$/, '').toLowerCase();
      options[key] = opt.slice(eq + 1);
    }
    const [uri, suite, ...components] = words(m[3]);
    if (!uri || !suite) throw new Error(`${file}:${i + 1}: malformed source line (expected "${type} [options] URI SUITE [COMPONENT...]")`);
    out.push({
      types: [type],
      uris: [uri],
      suites: [suite],
      components,
      options,
      signedBy: options['signed-by']?.replace(/,/g, ' '),
      origin: `${file}:${i + 1}`,
    });
  });
  return out;
}

export function parseDeb822Sources(text: string, file = 'x.sources'): SourceEntry[] {
  let paragraphs;
  try {
    paragraphs = parseParagraphs(text, { comments: true });
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const out: SourceEntry[] = [];
  for (const p of paragraphs) {
    const f = p.fields;
    if ((f.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const options: Record<string, string> = {};
    for (const [k, v] of f) if (!CORE.has(k)) options[k] = v;
    const entry: SourceEntry = {
      types: words(f.get('types')),
      uris: words(f.get('uris')),
      suites: words(f.get('suites')),
      components: words(f.get('components')),
      options,
      origin: `${file}:${p.line}`,
    };
    const signedBy = f.get('signed-by');
    if (signedBy) {
      // An inline key keeps its lines; a deb822 continuation line holding only "." stands for an empty line.
      entry.signedBy = signedBy.includes('-----BEGIN PGP') ? signedBy.split('\n').map((l) => (l === '.' ? '' : l)).join('\n') : signedBy.replace(/,/g, ' ');
    }
    if (entry.types.length === 0 || entry.uris.length === 0 || entry.suites.length === 0) {
      throw new Error(`${file}:${p.line}: source paragraph needs Types, URIs and Suites`);
    }
    out.push(entry);
  }
  return out;
}

/** All sources of a root, in apt's order: etc/apt/sources.list, then sources.list.d/ sorted by name. */
export async function readSources(root: string, onError?: (file: string, reason: string) => void): Promise<SourceEntry[]> {
  const out: SourceEntry[] = [];
  const files: string[] = ['sources.list'];
  try {
    for (const n of (await readdir(resolveInRoot(root, 'etc/apt/sources.list.d'))).sort()) {
      if (n.endsWith('.list') || n.endsWith('.sources')) files.push(`sources.list.d/${n}`);
    }
  } catch {
    // no sources.list.d
  }
  for (const rel of files) {
    let text: string;
    try {
      text = await readFile(resolveInRoot(root, `etc/apt/${rel}`), 'utf8');
    } catch {
      continue;
    }
    const name = `etc/apt/${rel}`;
    try {
      out.push(...(rel.endsWith('.sources') ? parseDeb822Sources(text, name) : parseOneLineSources(text, name)));
    } catch (e) {
      onError?.(name, (e as Error).message);
    }
  }
  return out;
}

/** The `deb` mirrors' base URIs, deduplicated, in order. */
export function debMirrors(entries: SourceEntry[]): string[] {
  const seen = new Set<string>();
  for (const e of entries) {
    if (!e.types.includes('deb')) continue;
    for (const u of e.uris) seen.add(u.replace(/\/+$/, ''));
  }
  return [...seen];
}

/**
 * apt's URItoFileName (apt-pkg/contrib/strutl.cc): scheme and user:password dropped, some characters
 * %-quoted, '/' turned into '_'. This is how files in var/lib/apt/lists are named.
 */
export function uriToListName(uri: string): string {
  let u = uri.replace(/^[A-Za-z][A-Za-z0-9+.-]*:(\/\/)?/, '');
  const slash = u.indexOf('/');
  const at = u.lastIndexOf('@', slash < 0 ? u.length : slash);
  if (at >= 0) u = u.slice(at + 1);
  let q = '';
  for (const ch of Buffer.from(u, 'utf8')) {
    const c = String.fromCharCode(ch);
    q += ch <= 0x20 || ch >= 0x7f || '\\|{}[]<>"^~_=!@#$%^&*'.includes(c) ? `%${ch.toString(16).padStart(2, '0')}` : c;
  }
  return q.replace(/\//g, '_');
}

/** The list-name prefix of a source's (uri, suite): `<host>_<path>_dists_<suite>`, or the flat repository's directory. */
export function listPrefix(uri: string, suite: string): string {
  const base = uri.endsWith('/') ? uri : `${uri}/`;
  if (suite.endsWith('/')) {
    const flat = suite === './' ? base : `${base}${suite}`;
    return uriToListName(flat).replace(/_+$/, '');
  }
  return uriToListName(`${base}dists/${suite}`);
}

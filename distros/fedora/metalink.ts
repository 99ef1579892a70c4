/**
 * Mirror lists for a `.repo`'s `metalink=` and `mirrorlist=` (pure: text -> repository base URLs).
 *
 * Metalink is MirrorManager's Metalink 3.0 document (namespace http://www.metalinker.org/, with
 * `mm0:` extensions): `<metalink><files><file name="repomd.xml">` holds the current repomd.xml's
 * checksums and `<resources><url protocol type location preference>` one per mirror, each URL
 * pointing at `<base>/repodata/repomd.xml`. A mirrorlist is plain text, one base URL per line,
 * `#` comments. Only http(s) mirrors are returned (the metalink also lists rsync and ftp).
 */
import { xmlParser } from './xml.js';
import { PingetError } from '../../src/errors.js';

export interface MetalinkMirror {
  /** The repository's base URL, ending in `/`. */
  base: string;
  preference: number;
  location?: string;
}

const parser = xmlParser(['file', 'url']);

type Node = Record<string, unknown>;

const REPOMD_SUFFIX = /\/?repodata\/repomd\.xml$/;

function isHttp(url: string): boolean {
  return /^https?:\/\/[^/\s]+/i.test(url);
}

function withSlash(url: string): string {
  return url.replace(/\/*$/, '/');
}

/** True when a downloaded "mirrorlist" is really a metalink (EPEL's repo files did this; dnf detects it too). */
export function looksLikeMetalink(text: string): boolean {
  return /<metalink[\s>]/.test(text.slice(0, 4096));
}

/**
 * The http(s) mirrors of the metalink's repomd.xml, by preference (highest first), then URL, duplicates
 * dropped. `source` names the document in errors.
 */
export function parseMetalink(xml: string, source: string): MetalinkMirror[] {
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch (e) {
    throw new PingetError('UNAVAILABLE', `${source}: not a metalink document (${(e as Error).message})`, { cause: e });
  }
  const metalink = doc.metalink as Node | undefined;
  if (!metalink || typeof metalink !== 'object') throw new PingetError('UNAVAILABLE', `${source}: not a metalink document (no <metalink> element)`);
  const files = ((metalink.files as Node | undefined)?.file ?? []) as Node[];
  const file = files.find((f) => f['@name'] === 'repomd.xml');
  if (!file) return [];
  const urls = ((file.resources as Node | undefined)?.url ?? []) as unknown[];
  const seen = new Set<string>();
  const out: MetalinkMirror[] = [];
  for (const u of urls) {
    const node = (typeof u === 'object' && u !== null ? u : { '#text': u }) as Node;
    const url = String(node['#text'] ?? '').trim();
    if (!isHttp(url) || !REPOMD_SUFFIX.test(url)) continue;
    const protocol = node['@protocol'] === undefined ? undefined : String(node['@protocol']).toLowerCase();
    if (protocol !== undefined && protocol !== 'http' && protocol !== 'https') continue;
    const base = withSlash(url.replace(REPOMD_SUFFIX, ''));
    if (seen.has(base)) continue;
    seen.add(base);
    const pref = Number(node['@preference']);
    const location = node['@location'] === undefined ? undefined : String(node['@location']);
    out.push({ base, preference: Number.isFinite(pref) ? pref : 0, ...(location ? { location } : {}) });
  }
  return out.sort((a, b) => b.preference - a.preference || (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
}

/** The http(s) base URLs of a plain-text mirrorlist, in the order listed, duplicates dropped. */
export function parseMirrorlist(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || !isHttp(line)) continue;
    const base = withSlash(line);
    if (!out.includes(base)) out.push(base);
  }
  return out;
}

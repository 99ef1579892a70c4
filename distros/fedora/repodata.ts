/**
 * rpm-md repository metadata (pure): `repomd.xml` (the signed index of the metadata files, with their
 * checksums) and `primary.xml` (one <package> per rpm: name, arch, version, the file's checksum, its
 * location and source rpm), as createrepo_c writes them and dnf caches them.
 */
import { xmlParser } from './xml.js';
import { PingetError } from '../../src/errors.js';

export interface RepomdData {
  type: string;
  href: string;
  checksumType: string;
  checksum: string;
  openChecksumType?: string;
  openChecksum?: string;
  timestamp?: number;
}

export interface Repomd {
  revision?: string;
  data: RepomdData[];
}

export interface PrimaryPackage {
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
  checksumType: string;
  checksum: string;
  /** Relative to the repository's base URL. */
  href: string;
  sourceRpm: string;
}

const parser = xmlParser(['data']);

type Node = Record<string, unknown>;

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return String((v as Node)['#text'] ?? '').trim();
  return String(v).trim();
}

function attr(v: unknown, name: string): string | undefined {
  if (v && typeof v === 'object') {
    const a = (v as Node)[`@${name}`];
    return a === undefined ? undefined : String(a);
  }
  return undefined;
}

export function parseRepomd(xml: string, what: string): Repomd {
  let doc: Node;
  try {
    doc = parser.parse(xml, true) as Node;
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${what}: not valid XML (${(e as Error).message.split('\n')[0]}); run dnf makecache`, { cause: e });
  }
  const repomd = doc.repomd as Node | undefined;
  if (!repomd || typeof repomd !== 'object') throw new PingetError('BAD_INPUT', `${what}: no <repomd> element; run dnf makecache`);
  const data = ((repomd.data as Node[] | undefined) ?? []).map((d) => {
    const ts = Number(text(d.timestamp));
    return {
      type: attr(d, 'type') ?? '',
      href: attr(d.location, 'href') ?? '',
      checksumType: attr(d.checksum, 'type') ?? '',
      checksum: text(d.checksum).toLowerCase(),
      openChecksumType: attr(d['open-checksum'], 'type'),
      openChecksum: d['open-checksum'] === undefined ? undefined : text(d['open-checksum']).toLowerCase(),
      timestamp: Number.isFinite(ts) && ts > 0 ? ts : undefined,
    };
  });
  return { revision: text(repomd.revision) || undefined, data };
}

const PACKAGE_BLOCK = /<package\b[^>]*>[\s\S]*?<\/package>/g;

const NAME = /<name>([^<]*)<\/name>/;

/**
 * Parses primary.xml one <package> block at a time, so a Fedora-sized file (tens of MB) never becomes
 * one giant object tree. With `wanted`, blocks of other package names are skipped before any XML parsing
 * (a <package>'s only <name> element is its own name; dependencies carry names as attributes).
 */
export function parsePrimary(xml: string, what: string, wanted?: (name: string) => boolean): PrimaryPackage[] {
  if (!/<metadata\b/.test(xml.slice(0, 4096))) {
    throw new PingetError('BAD_INPUT', `${what}: not a primary.xml (no <metadata> element); run dnf makecache`);
  }
  const out: PrimaryPackage[] = [];
  for (const m of xml.matchAll(PACKAGE_BLOCK)) {
    const block = m[0];
    if (wanted) {
      const name = NAME.exec(block)?.[1].trim();
      if (name !== undefined && !wanted(name)) continue;
    }
    // The requires/provides lists are the bulk of each block and are not needed.
    const slim = block.replace(/<rpm:(requires|provides|conflicts|obsoletes|recommends|suggests|supplements|enhances)>[\s\S]*?<\/rpm:\1>/g, '').replace(/<file\b[^>]*>[^<]*<\/file>/g, '');
    let p: Node;
    try {
      p = (parser.parse(slim, true) as Node).package as Node;
    } catch (e) {
      throw new PingetError('BAD_INPUT', `${what}: a <package> element is not valid XML (${(e as Error).message.split('\n')[0]})`, { cause: e });
    }
    if (attr(p, 'type') !== 'rpm') continue;
    const v = p.version;
    const format = (p.format ?? {}) as Node;
    out.push({
      name: text(p.name),
      arch: text(p.arch),
      epoch: attr(v, 'epoch') && attr(v, 'epoch') !== '0' ? attr(v, 'epoch')! : '',
      version: attr(v, 'ver') ?? '',
      release: attr(v, 'rel') ?? '',
      checksumType: attr(p.checksum, 'type') ?? '',
      checksum: text(p.checksum).toLowerCase(),
      href: attr(p.location, 'href') ?? '',
      sourceRpm: text(format.sourcerpm),
    });
  }
  return out;
}

/**
 * `lock`: the indexes apt resolves against, fetched by pinget and laid out as apt's lists. Each suite's InRelease
 * comes from the source's URI and is verified with the base's keys (as `hash generate` checks the lists apt
 * fetched); the Packages index of each component for the architecture is then fetched by the hash that signed
 * text names, through the fetch chain (the cache first). apt only ever reads files pinget verified.
 * Format: https://wiki.debian.org/DebianRepository/Format (Release fields, index paths).
 */
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import type { IndexFetcher } from '../../src/distro/types.js';
import type { Logger } from '../../src/ui/log.js';
import { verifyCleartext, type PublicKey } from '../../src/verify/openpgp.js';
import { parseParagraphs } from './deb822.js';
import type { LockSource } from './lock-sources.js';
import { parseRelease, stripClearsign } from './release.js';
import { listPrefix } from './sources.js';

const RELEASE_MAX = 16 << 20;
// gzip first: zlib decompresses it natively, several times faster than xz in JavaScript. apt itself must be
// handed plain lists: it seeks in them, and a seek in an xz list decompresses it again from the start.
const COMPRESSED = ['.gz', '.xz', ''];

export interface SuiteIndexes {
  source: LockSource;
  /** The verified release's Date, for the snapshot header. */
  date?: Date;
  release: { codename?: string; version?: string };
}

/** The fields of a (verified) release text that lock needs beyond the index hashes. */
function releaseFields(text: string, where: string): { architectures: string[]; allInArch: boolean; byHash: boolean; version?: string } {
  const [p] = parseParagraphs(text);
  if (!p) throw new PingetError('BAD_INPUT', `${where}: empty release file`);
  const words = (k: string) => (p.fields.get(k) ?? '').split(/\s+/).filter(Boolean);
  return { architectures: words('architectures'), allInArch: words('no-support-for-architecture-all').includes('Packages'), byHash: /^yes$/i.test(p.fields.get('acquire-by-hash') ?? ''), version: p.fields.get('version') };
}

/** The index to fetch for `relDir/Packages`: the first compressed form the release lists. */
function pickIndex(hashes: Map<string, { sha256: string; size: number }>, relDir: string): { rel: string; sha256: string; plain?: { sha256: string; compression: string } } | undefined {
  const plain = hashes.get(`${relDir}/Packages`);
  for (const ext of COMPRESSED) {
    const rel = `${relDir}/Packages${ext}`;
    const h = hashes.get(rel);
    if (h) return { rel, sha256: h.sha256, plain: ext && plain ? { sha256: plain.sha256, compression: ext.slice(1) } : undefined };
  }
  return undefined;
}

export interface FetchIndexesOptions {
  arch: string;
  fetcher: IndexFetcher;
  keysFor(source: LockSource): Promise<PublicKey[] | undefined>;
  listsDir: string;
  log: Logger;
}

/**
 * Fetches, verifies and lays out the indexes of every source into `listsDir` under apt's own file names
 * (`<prefix>_InRelease`, `<prefix>_<component>_binary-<arch>_Packages.xz`).
 */
export async function fetchIndexes(sources: LockSource[], o: FetchIndexesOptions): Promise<SuiteIndexes[]> {
  const suites = await Promise.all(
    sources.map(async (source) => {
      const url = `${source.uri}/dists/${source.suite}/InRelease`;
      const { data } = await o.fetcher.document([url], RELEASE_MAX);
      const text = data.toString('utf8');
      const keys = await o.keysFor(source);
      const signed = keys ? await verifyCleartext(text, keys, url) : await stripClearsign(text, url);
      const release = parseRelease(signed, url);
      const fields = releaseFields(signed, url);
      if (fields.architectures.length && !fields.architectures.includes(o.arch)) {
        throw new PingetError('USAGE', `${source.uri} ${source.suite} does not serve architecture ${o.arch} (it serves ${fields.architectures.join(', ')})`);
      }
      const wanted: { rel: string; sha256: string; list: string; plain?: { sha256: string; compression: string } }[] = [];
      const prefix = listPrefix(source.uri, source.suite);
      for (const component of source.components) {
        // binary-all only where the release lists `all` among its architectures and does not fold it into each arch's lists.
        const allIndex = !fields.allInArch && (fields.architectures.length === 0 || fields.architectures.includes('all'));
        const dirs = [`${component}/binary-${o.arch}`, ...(allIndex ? [`${component}/binary-all`] : [])];
        for (const dir of dirs) {
          const idx = pickIndex(release.sha256, dir);
          if (!idx) {
            if (dir.endsWith(`binary-${o.arch}`)) throw new PingetError('USAGE', `${url} lists no ${dir}/Packages: ${source.suite} has no component ${component} for ${o.arch}`);
            continue;
          }
          const plainRel = idx.plain ? idx.rel.slice(0, idx.rel.lastIndexOf('.')) : idx.rel;
          wanted.push({ ...idx, list: `${prefix}_${plainRel.replace(/\//g, '_')}` });
        }
      }
      return { source, date: release.date, text, prefix, wanted, byHash: fields.byHash, release: { codename: release.codename, version: fields.version } };
    }),
  );
  // By hash where the archive offers it (Acquire-By-Hash): a mirror updated between the InRelease and the index
  // still serves the index that InRelease names, as apt fetches it.
  const indexPath = (s: (typeof suites)[number], w: { rel: string; sha256: string }) =>
    s.byHash ? `dists/${s.source.suite}/${w.rel.slice(0, w.rel.lastIndexOf('/'))}/by-hash/SHA256/${w.sha256}` : `dists/${s.source.suite}/${w.rel}`;
  const targets = suites.flatMap((s) => s.wanted.map((w) => ({ path: indexPath(s, w), sha256: w.sha256, bases: [s.source.uri], plain: w.plain })));
  const files = await o.fetcher.files(targets);
  let i = 0;
  for (const s of suites) {
    await writeFile(join(o.listsDir, `${s.prefix}_InRelease`), s.text);
    for (const w of s.wanted) await symlink(files[i++], join(o.listsDir, w.list));
  }
  o.log.verbose(`lock: ${targets.length} index(es) of ${suites.length} suite(s) verified for ${o.arch}`);
  return suites.map((s) => ({ source: s.source, date: s.date, release: s.release }));
}

/**
 * `lock`: the indexes apt resolves against, fetched by pinget and laid out as apt's lists. Each suite's InRelease
 * comes from the source's URI and is verified with the base's keys (as `hash generate` checks the lists apt
 * fetched); the Packages index of each component for the architecture is then fetched by the hash that signed
 * text names, through the fetch chain (the cache first). apt only ever reads files pinget verified.
 * Format: https://wiki.debian.org/DebianRepository/Format (Release fields, index paths).
 */
import { mkdir, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/fs-atomic.js';
import { sha256Bytes } from '../../src/verify/sha256.js';
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
  log: Logger;
}

/** One file of apt's lists directory: a release file's text, or a verified index (a file in the cache). */
export interface ListEntry {
  name: string;
  text?: string;
  file?: string;
  /** What the entry holds, for keying the package manager's caches. */
  sha256: string;
}

/**
 * Lays the lists out in `dir`, changing only what differs: apt keys its own caches (pkgcache.bin) on the lists'
 * sizes and modification times, so lists that stay put let a later run reuse them.
 */
export async function layoutLists(dir: string, lists: ListEntry[]): Promise<void> {
  await mkdir(join(dir, 'partial'), { recursive: true });
  const wanted = new Set(lists.map((l) => l.name));
  for (const n of await readdir(dir)) if (n !== 'partial' && !wanted.has(n)) await rm(join(dir, n), { force: true });
  for (const l of lists) {
    const path = join(dir, l.name);
    if (l.text !== undefined) {
      if ((await readFile(path, 'utf8').catch(() => undefined)) !== l.text) await writeFileAtomic(path, l.text);
    } else if ((await readlink(path).catch(() => undefined)) !== l.file) {
      await rm(path, { force: true });
      await symlink(l.file!, path);
    }
  }
}

/**
 * Fetches and verifies the indexes of every source, named as apt names them in its lists directory
 * (`<prefix>_InRelease`, `<prefix>_<component>_binary-<arch>_Packages`).
 */
export async function fetchIndexes(sources: LockSource[], o: FetchIndexesOptions): Promise<{ suites: SuiteIndexes[]; lists: ListEntry[] }> {
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
  const lists: ListEntry[] = [];
  let i = 0;
  for (const s of suites) {
    lists.push({ name: `${s.prefix}_InRelease`, text: s.text, sha256: sha256Bytes(Buffer.from(s.text)) });
    for (const w of s.wanted) lists.push({ name: w.list, file: files[i++], sha256: w.plain?.sha256 ?? w.sha256 });
  }
  o.log.verbose(`lock: ${targets.length} index(es) of ${suites.length} suite(s) verified for ${o.arch}`);
  return { suites: suites.map((s) => ({ source: s.source, date: s.date, release: s.release })), lists };
}

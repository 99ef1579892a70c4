/**
 * `--sources` for Debian/Ubuntu: the files of the source package each pinned binary was built from (its
 * `.dsc` and the tarballs and diffs the `.dsc` names), from the `Sources` index of the root's configured
 * mirrors, taken only when it matches the suite's signed InRelease (the same checks as the Packages indexes:
 * dated-trees.ts). A source package no index lists is an error naming the indexes that could not be read:
 * never a lockfile without the sources that were asked for.
 */
import { readFile } from 'node:fs/promises';
import { decompress, sniffCompression } from '../../src/decompress.js';
import { PingetError } from '../../src/errors.js';
import type { PoliteOptions } from '../../src/fetch/archives/polite.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import { unsafePathReason, type LockEntry } from '../../src/lockfile.js';
import type { IndexFetcher, PackageRef, SourcesRequest } from '../../src/distro/types.js';
import type { SourcePackage } from '../../src/distro/sbom-types.js';
import { parseParagraphs } from './deb822.js';
import { DatedTrees, describe } from './dated-trees.js';
import { readStatus } from './dpkg-status.js';
import { KeyResolver } from './keys.js';
import { inspectDebPath, stripEpoch } from './pool-path.js';
import { readSources, type SourceEntry } from './sources.js';
import { baseSources, emptyBaseSources, onSnapshot } from './lock-sources.js';
import { nativeArch } from './native-arch.js';
import { readOsRelease } from '../../src/distro/os-release.js';

const key = (s: SourcePackage) => `${s.name}\0${s.version}`;

/** The files a Sources stanza lists (Checksums-Sha256), as lockfile entries under its Directory. */
export function sourceEntries(st: Map<string, string>, where: string): LockEntry[] {
  const dir = st.get('directory');
  if (!dir || !dir.startsWith('pool/') || unsafePathReason(dir)) throw new PingetError('INTEGRITY', `${where}: a stanza with no usable Directory (${JSON.stringify(dir)})`);
  const out: LockEntry[] = [];
  for (const line of (st.get('checksums-sha256') ?? '').split('\n')) {
    const [sha256, size, name] = line.trim().split(/\s+/);
    if (!sha256 || !size || !name) continue;
    const path = `${dir}/${name}`;
    if (!/^[0-9a-f]{64}$/.test(sha256) || name.includes('/') || unsafePathReason(path)) throw new PingetError('INTEGRITY', `${where}: a bad Checksums-Sha256 line: ${JSON.stringify(line)}`);
    out.push({ sha256, path });
  }
  if (!out.some((e) => e.path.endsWith('.dsc'))) throw new PingetError('INTEGRITY', `${where}: source ${st.get('package')} ${st.get('version')} lists no .dsc`);
  return out;
}

/** The stanzas of these source packages in a Sources index, in one pass over it: name -> field maps. */
export function stanzasByName(text: string, names: Set<string>): Map<string, Map<string, string>[]> {
  const out = new Map<string, Map<string, string>[]>();
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n\n', start);
    if (end < 0) end = text.length;
    const m = /^Package: (\S+)/m.exec(text.slice(start, Math.min(end, start + 4096)));
    if (m && names.has(m[1])) {
      try {
        const [p] = parseParagraphs(text.slice(start, end));
        if (p) (out.get(m[1]) ?? out.set(m[1], []).get(m[1])!).push(p.fields);
      } catch {
        // a malformed stanza pins nothing
      }
    }
    start = end + 2;
  }
  return out;
}

/** A Packages stanza's source package: its Source field (`name` or `name (version)`), else the binary itself; undefined when unreadable. */
export function sourceOfStanza(st: Map<string, string>): SourcePackage | undefined {
  const name = st.get('package');
  const version = st.get('version');
  if (!name || !version) return undefined;
  const field = st.get('source')?.trim();
  if (!field) return { name, version };
  // a Source field pinget cannot read names no source for certain: unknown, never guessed
  const m = /^([a-z0-9][a-z0-9+.-]*)(?:\s+\(([^)\s]+)\))?$/.exec(field);
  return m ? { name: m[1], version: m[2] ?? version } : undefined;
}

/**
 * `lock --sources`: the source package of each chosen binary, from the verified Packages indexes apt chose from
 * (plain or compressed files): one pass over each index for all the names.
 */
export async function sourcesFromIndexes(files: string[], refs: PackageRef[]): Promise<(SourcePackage | undefined)[]> {
  const out: (SourcePackage | undefined)[] = refs.map(() => undefined);
  const names = new Set(refs.map((r) => r.name));
  for (const file of files) {
    if (out.every(Boolean)) break;
    const bytes = await readFile(file);
    const kind = sniffCompression(bytes);
    const text = (kind ? await decompress(bytes, kind) : bytes).toString('latin1');
    const stanzas = stanzasByName(text, names);
    refs.forEach((r, i) => {
      if (out[i]) return;
      const st = stanzas.get(r.name)?.find((f) => f.get('architecture') === r.arch && stripEpoch(f.get('version') ?? '') === stripEpoch(r.version));
      if (st) out[i] = sourceOfStanza(st);
    });
  }
  return out;
}

/** Each binary's source package: given by the caller (lock's resolver), else the root's dpkg database. */
async function sourcesOf(req: SourcesRequest): Promise<SourcePackage[]> {
  const installed = req.root ? await readStatus(req.root) : [];
  const unknown: string[] = [];
  const out = new Map<string, SourcePackage>();
  req.binaries.forEach((e, i) => {
    const ref = inspectDebPath(e.path);
    if (!ref) return;
    const given = req.sources?.[i];
    const p = given ? undefined : installed.find((d) => d.name === ref.name && d.arch === ref.arch && stripEpoch(d.version) === stripEpoch(ref.version));
    const src = given ?? (p && { name: p.source, version: p.sourceVersion });
    if (!src?.version) unknown.push(`${ref.name}:${ref.arch}=${ref.version}`);
    else out.set(key(src), src);
  });
  if (unknown.length) {
    throw new PingetError('BAD_INPUT', `--sources: the source package of ${unknown.length} pinned package(s) is unknown (not installed in ${req.root ?? 'the root'}): ${unknown.slice(0, 10).join(', ')}`);
  }
  return [...out.values()];
}

/**
 * The apt sources whose suites' Sources indexes are read: the root's own; for `lock` from an empty base, the ones
 * its resolution read (lock-sources.ts); with `lock --snapshot`, those on the snapshot archive's dated tree.
 */
async function sourcesToRead(req: SourcesRequest, root: string): Promise<SourceEntry[]> {
  const warn = (m: string) => req.log.warn(m);
  if (!req.empty && !req.snapshot) return (await readSources(root, (file, reason) => warn(`ignoring ${file}: ${reason}`))).filter((s) => s.types.includes('deb') || s.types.includes('deb-src'));
  const arch = req.info.arch ?? (await nativeArch(root));
  if (!arch) throw new PingetError('INTERNAL', 'pinDebianSources: no architecture for the lock sources');
  let read = req.empty ? await emptyBaseSources(req.empty, arch, warn) : await baseSources(root, arch, warn);
  if (req.snapshot) {
    const osId = req.empty?.osId ?? ((await readOsRelease(root))?.ID ?? 'debian').toLowerCase();
    read = onSnapshot(read, osId, req.snapshot, req.archive.archiveUrls ?? {});
  }
  return read.map((s) => ({ types: ['deb'], uris: [s.uri], suites: [s.suite], components: s.components, options: {}, signedBy: s.signedBy, origin: s.origin }));
}

// gzip first: zlib is native, xz in JavaScript several times slower on a 50 MB Sources
const CACHED_EXTS = ['.gz', '.xz', ''];

/**
 * A Sources index the signed release names, through the fetch chain and its cache: the plain form is cached under
 * the sha256 the release gives it, so a later run neither downloads nor decompresses it. Undefined when the
 * release lists no form of it.
 */
async function cachedIndex(fetcher: IndexFetcher, dir: string, hashes: Map<string, { sha256: string; size: number }>, relPath: string): Promise<string | undefined> {
  const ext = CACHED_EXTS.find((x) => hashes.has(`${relPath}${x}`));
  if (ext === undefined) return undefined;
  const plain = ext ? hashes.get(relPath) : undefined;
  const [file] = await fetcher.files([{ path: `${relPath}${ext}`, sha256: hashes.get(`${relPath}${ext}`)!.sha256, bases: [dir], ...(plain ? { plain: { sha256: plain.sha256, compression: ext.slice(1) } } : {}) }]);
  const bytes = await readFile(file);
  const text = (ext && !plain ? await decompress(bytes, `${relPath}${ext}`) : bytes).toString('latin1');
  return text.includes('\r\n') ? text.replace(/\r\n/g, '\n') : text;
}

export async function pinDebianSources(req: SourcesRequest): Promise<LockEntry[]> {
  const wanted = await sourcesOf(req);
  if (wanted.length === 0) return [];
  const root = req.root ?? '/';
  const sources = await sourcesToRead(req, root);
  const keys = new KeyResolver(root, req.log);
  const http: PoliteOptions = { timeoutMs: req.archive.timeoutMs, retries: req.archive.retries };
  const found = new Map<string, LockEntry[]>();
  const unreadable: string[] = [];
  for (const s of sources) {
    for (const uri of s.uris) {
      const base = uri.replace(/\/+$/, '');
      const trees = new DatedTrees(() => base, http, { sources, keys });
      for (const suite of s.suites) {
        if (found.size === wanted.length) break;
        const dir = trees.dir('', '', suite);
        let rel;
        try {
          rel = await trees.release('', '', suite);
        } catch (e) {
          if (e instanceof PingetError && e.code === 'INTEGRITY') throw e;
          unreadable.push(`${redactUrl(dir)}/InRelease: ${describe(e)}`);
          continue;
        }
        if (!rel) {
          unreadable.push(`${redactUrl(dir)}/InRelease: not found`);
          continue;
        }
        for (const component of s.components) {
          const relPath = `${component}/source/Sources`;
          let text: string | undefined;
          try {
            text = req.fetcher ? await cachedIndex(req.fetcher, dir, rel.release.sha256, relPath) : await trees.index(dir, rel, relPath);
          } catch (e) {
            if (e instanceof PingetError && e.code === 'INTEGRITY') throw e;
            unreadable.push(`${redactUrl(dir)}/${relPath}: ${describe(e)}`);
            continue;
          }
          if (text === undefined) {
            unreadable.push(`${redactUrl(dir)}/${relPath}: not listed in the signed ${rel.where}`);
            continue;
          }
          const stanzas = stanzasByName(text, new Set(wanted.filter((w) => !found.has(key(w))).map((w) => w.name)));
          for (const src of wanted) {
            if (found.has(key(src))) continue;
            const st = stanzas.get(src.name)?.find((f) => f.get('version') === src.version);
            if (st) {
              found.set(key(src), sourceEntries(st, `${rel.where} ${relPath}`));
              req.log.verbose(`source ${src.name} ${src.version}: from ${rel.where} (${relPath})`);
            }
          }
        }
      }
    }
  }
  const missing = wanted.filter((s) => !found.has(key(s))).map((s) => `${s.name} ${s.version}`);
  if (missing.length) {
    const what = `--sources: no signed Sources index lists ${missing.length} source package(s): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}`;
    if (unreadable.length) throw new PingetError('UNAVAILABLE', `${what}; these source indexes could not be read`, { details: unreadable });
    throw new PingetError('BAD_INPUT', `${what} (every configured suite's Sources was read)`);
  }
  return [...found.values()].flat();
}

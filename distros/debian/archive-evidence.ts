/**
 * Signed evidence, from the Debian snapshot archive, for installed packages whose version the live apt
 * lists no longer carry (the mirrors moved on). For each such package:
 *  1. `mr/binary/<name>/<version>/binfiles?fileinfo=1` names its file by SHA-1, with the archive it was
 *     seen in (debian, debian-security) and its `first_seen` import (the JSON is described, and parsed, in
 *     src/fetch/archives/debian-snapshot-api.ts);
 *  2. the dated tree `archive/<archive>/<first_seen>/dists/<suite>/InRelease` is verified with the root's
 *     own keys (keys.ts: the sources' Signed-By, else apt's trusted keyrings), as the live lists are;
 *  3. a Packages index of that tree (xz, gz or plain) must match the signed Release; its stanza with the
 *     installed Package, Version and Architecture gives the SHA256 and Filename that are pinned. The
 *     stanza's SHA1 (Debian's indexes dropped that field; other repositories keep it), else its Size, must
 *     agree with the file the API named: another build of the same version is not the installed one.
 * `first_seen` is when the file reached the pool, not when a suite listed it (metasnap.debian.net, "How
 * does it work?"): at that import a stable update is listed in <codename>-proposed-updates or -security,
 * a release's original version in unstable; so those suites are tried beside the root's own.
 * What no signed index lists is not pinned.
 */
import pLimit from 'p-limit';
import { PingetError } from '../../src/errors.js';
import { decompress } from '../../src/decompress.js';
import { archiveBase } from '../../src/fetch/archives/index.js';
import { DEBIAN_SNAPSHOT_NAME } from '../../src/fetch/archives/debian-snapshot.js';
import { parseBinfiles } from '../../src/fetch/archives/debian-snapshot-api.js';
import { politeBytes, politeJson, type PoliteOptions } from '../../src/fetch/archives/polite.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import { encodePath, encodeSegment } from '../../src/fetch/template.js';
import type { ProviderContext } from '../../src/fetch/types.js';
import { unsafePathReason, type LockEntry } from '../../src/lockfile.js';
import type { Logger } from '../../src/ui/log.js';
import { verifyCleartext, verifyDetached, type PublicKey } from '../../src/verify/openpgp.js';
import { sha256Bytes } from '../../src/verify/sha256.js';
import type { UnpinnedKind } from '../missing.js';
import { parseParagraphs } from './deb822.js';
import type { InstalledDeb } from './dpkg-status.js';
import type { KeyResolver } from './keys.js';
import { parseRelease, type ReleaseFile } from './release.js';
import type { SourceEntry } from './sources.js';

export interface Unpinned {
  pkg: InstalledDeb;
  kind: UnpinnedKind;
  reason: string;
}

export interface ArchiveEvidence {
  pinned: Array<{ pkg: InstalledDeb; entry: LockEntry }>;
  unpinned: Unpinned[];
}

export interface EvidenceOptions {
  codename?: string;
  /** dpkg's native architecture: where `Architecture: all` packages are listed. */
  nativeArch?: string;
  sources: SourceEntry[];
  keys: KeyResolver;
  archive: ProviderContext;
  log: Logger;
  signal?: AbortSignal;
}

const ARCHIVES = ['debian', 'debian-security'];
const RELEASE_MAX = 16 << 20;
const INDEX_EXTS = ['.xz', '.gz', ''];
const SUITE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9._-]+)*$/;

/** The suites to look for a package in, per archive: the root's own first, then the codename's usual ones. */
export function suitesFor(archive: string, codename: string | undefined, sources: SourceEntry[]): string[] {
  const listed = sources.filter((s) => s.types.includes('deb')).flatMap((s) => s.suites);
  // unstable last: a version first seen there (before it migrated to testing, later a release) is listed
  // nowhere else at its first import.
  const extra = [...(codename ? [codename, `${codename}-updates`, `${codename}-proposed-updates`, `${codename}-security`] : []), 'unstable'];
  const security = (s: string) => /-security$|\/updates$/.test(s);
  return [...new Set([...listed, ...extra])].filter((s) => SUITE.test(s) && !s.includes('..') && (archive === 'debian-security') === security(s));
}

/** The stanzas of `name` in a decompressed Packages index, as field maps (lowercased names). */
export function findStanzas(text: string, name: string): Map<string, string>[] {
  const needle = `Package: ${name}\n`;
  const out: Map<string, string>[] = [];
  let i = text.startsWith(needle) ? 0 : text.indexOf(`\n${needle}`) + 1;
  while (i > 0 || (i === 0 && text.startsWith(needle))) {
    let end = text.indexOf('\n\n', i);
    if (end < 0) end = text.length;
    try {
      const [p] = parseParagraphs(text.slice(i, end));
      if (p) out.push(p.fields);
    } catch {
      // a malformed stanza is no evidence
    }
    const next = text.indexOf(`\n${needle}`, end);
    if (next < 0) break;
    i = next + 1;
  }
  return out;
}

interface Pending {
  pkg: InstalledDeb;
  /** SHA-1 of each file the API names for this architecture -> its size when given. */
  files: Map<string, number | undefined>;
  notes: string[];
  kind?: UnpinnedKind;
  entry?: LockEntry;
}

/** The stanza's entry, or why it is not evidence for this package's file. */
export function judgeStanza(st: Map<string, string>, files: Map<string, number | undefined>, where: string): LockEntry | string {
  const sha256 = st.get('sha256')?.toLowerCase();
  const filename = st.get('filename');
  if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256) || !filename || !filename.startsWith('pool/') || unsafePathReason(filename)) {
    return `${where}: its stanza has no usable SHA256 and Filename`;
  }
  const sha1 = st.get('sha1')?.toLowerCase();
  if (sha1) {
    if (!files.has(sha1)) return `${where} lists SHA1 ${sha1}, the archive's file is ${[...files.keys()].join(' or ')}: another build`;
  } else {
    const sizes = [...files.values()].filter((s): s is number => s !== undefined);
    const size = Number(st.get('size'));
    if (sizes.length > 0 && !sizes.includes(size)) return `${where} lists Size ${st.get('size')}, the archive's file has ${sizes.join(' or ')}: another build`;
  }
  return { sha256, path: filename };
}

/** Dated trees of one run: release files and the key sets to check them, fetched once each. */
class DatedTrees {
  private readonly releases = new Map<string, Promise<{ release: ReleaseFile; where: string } | undefined>>();
  private readonly keySets = new Map<string, Promise<PublicKey[]>>();

  constructor(
    readonly base: string,
    private readonly http: PoliteOptions,
    private readonly o: EvidenceOptions,
  ) {}

  dir(archive: string, ts: string, suite: string): string {
    return `${this.base}/archive/${encodeSegment(archive)}/${ts}/dists/${encodePath(suite)}`;
  }

  /** The keys apt would use for a suite: its sources' Signed-By; for a suite no source names, all of the root's. */
  private keysFor(suite: string): Promise<PublicKey[]> {
    let p = this.keySets.get(suite);
    if (!p) {
      p = (async () => {
        const debs = this.o.sources.filter((s) => s.types.includes('deb'));
        const own = debs.filter((s) => s.suites.includes(suite));
        const sets = await Promise.all(
          [...(own.length ? own : debs).map((s) => ({ signedBy: s.signedBy, origin: s.origin })), ...(own.length ? [] : [{ signedBy: undefined, origin: '' }])].map(
            (s) => this.o.keys.keysFor(s.signedBy, s.origin).catch(() => [] as PublicKey[]),
          ),
        );
        const byFp = new Map(sets.flat().map((k) => [k.getFingerprint(), k]));
        return [...byFp.values()];
      })();
      this.keySets.set(suite, p);
    }
    return p;
  }

  /** The verified release file of a dated suite; undefined when the archive has no such suite then. */
  release(archive: string, ts: string, suite: string): Promise<{ release: ReleaseFile; where: string } | undefined> {
    const dir = this.dir(archive, ts, suite);
    let p = this.releases.get(dir);
    if (!p) {
      p = (async () => {
        const keys = await this.keysFor(suite);
        const inRelease = await this.get(`${dir}/InRelease`, RELEASE_MAX);
        if (inRelease) {
          const where = redactUrl(`${dir}/InRelease`);
          return { release: parseRelease(await verifyCleartext(inRelease.toString('utf8'), keys, where), where), where };
        }
        const release = await this.get(`${dir}/Release`, RELEASE_MAX);
        if (!release) return undefined;
        const where = redactUrl(`${dir}/Release`);
        const sig = await this.get(`${dir}/Release.gpg`, 1 << 20);
        if (!sig) throw new PingetError('INTEGRITY', `${where}: no InRelease nor Release.gpg, so it is unsigned`);
        await verifyDetached(release, sig, keys, `${where}.gpg`);
        return { release: parseRelease(release.toString('utf8'), where), where };
      })();
      this.releases.set(dir, p);
    }
    return p;
  }

  /** A Packages index of a verified release, decompressed, as text; undefined when the release lists none. */
  async index(dir: string, rel: { release: ReleaseFile; where: string }, relPath: string): Promise<string | undefined> {
    for (const ext of INDEX_EXTS) {
      const e = rel.release.sha256.get(`${relPath}${ext}`);
      if (!e) continue;
      const url = `${dir}/${relPath}${ext}`;
      let bytes: Buffer | undefined;
      try {
        bytes = await this.get(url, e.size);
      } catch (err) {
        // Longer than the signed size: altered, say so as such.
        if (err instanceof PingetError && err.code === 'INTEGRITY') throw new PingetError('INTEGRITY', `${redactUrl(url)}: more than the ${e.size} bytes the signed ${rel.where} lists`);
        throw err;
      }
      if (!bytes) continue;
      if (bytes.length !== e.size || sha256Bytes(bytes) !== e.sha256) {
        throw new PingetError('INTEGRITY', `${redactUrl(url)} does not match ${relPath}${ext} in the signed ${rel.where}`);
      }
      const text = (await decompress(bytes, `${relPath}${ext}`)).toString('latin1');
      return text.includes('\r\n') ? text.replace(/\r\n/g, '\n') : text;
    }
    return undefined;
  }

  private async get(url: string, max: number): Promise<Buffer | undefined> {
    try {
      return await politeBytes(url, max, this.http);
    } catch (e) {
      if (e instanceof PingetError && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }
}

/** The plain index paths (`main/binary-amd64/Packages`) a release has for an architecture, `first` component first. */
function indexPaths(release: ReleaseFile, arch: string, first: string): string[] {
  const re = new RegExp(`^(.+)/binary-${arch.replace(/[^a-z0-9-]/g, '')}/Packages(?:\\.xz|\\.gz)?$`);
  const comps = [...new Set([...release.sha256.keys()].map((k) => re.exec(k)?.[1]).filter((c): c is string => !!c))];
  comps.sort((a, b) => Number(b === first || b.endsWith(`/${first}`)) - Number(a === first || a.endsWith(`/${first}`)));
  return comps.map((c) => `${c}/binary-${arch}/Packages`);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Looks the packages up in the snapshot archive and pins those with signed evidence. */
export async function pinFromSnapshot(missing: InstalledDeb[], o: EvidenceOptions): Promise<ArchiveEvidence> {
  const base = archiveBase('debian', DEBIAN_SNAPSHOT_NAME, o.archive.archiveUrls);
  const http: PoliteOptions = { timeoutMs: o.archive.timeoutMs, retries: o.archive.retries, signal: o.signal };
  const trees = new DatedTrees(base, http, o);
  o.log.info(`${missing.length} installed package(s) are in no apt list; looking them up in the Debian snapshot archive ${redactUrl(base)}`);

  const pending: Pending[] = missing.map((pkg) => ({ pkg, files: new Map(), notes: [] }));
  /** `archive ts` -> the packages whose file was first seen in that import. */
  const imports = new Map<string, Pending[]>();
  const limit = pLimit(4);
  await Promise.all(
    pending.map((item) =>
      limit(async () => {
        const { name, version, arch } = item.pkg;
        const url = `${base}/mr/binary/${encodeSegment(name)}/${encodeSegment(version)}/binfiles?fileinfo=1`;
        let json: unknown;
        try {
          json = await politeJson(url, http);
        } catch (e) {
          const absent = e instanceof PingetError && e.code === 'NOT_FOUND';
          item.kind = absent ? 'absent' : 'unavailable';
          item.notes.push(absent ? 'not in the snapshot archive' : `snapshot archive lookup failed: ${describe(e)}`);
          return;
        }
        const files = parseBinfiles(json).filter((f) => f.architecture === arch);
        if (files.length === 0) {
          item.kind = 'absent';
          item.notes.push(`the snapshot archive has no ${arch} file of this version`);
          return;
        }
        for (const f of files) {
          item.files.set(f.sha1, f.size ?? item.files.get(f.sha1));
          if (!f.firstSeen || !ARCHIVES.includes(f.archive)) continue;
          const key = `${f.archive} ${f.firstSeen}`;
          const list = imports.get(key) ?? [];
          if (!list.includes(item)) list.push(item);
          imports.set(key, list);
        }
      }),
    ),
  );

  const keys = [...imports.keys()].sort();
  for (const archive of ARCHIVES) {
    const mine = keys.filter((k) => k.startsWith(`${archive} `));
    if (mine.length === 0) continue;
    const count = new Set(mine.flatMap((k) => imports.get(k)!)).size;
    o.log.info(`snapshot archive ${archive}: ${mine.length} dated import(s) for ${count} package(s)`);
    for (const key of mine) await checkImport(trees, archive, key.slice(archive.length + 1), imports.get(key)!, o);
  }

  const out: ArchiveEvidence = { pinned: [], unpinned: [] };
  for (const item of pending) {
    if (item.entry) {
      out.pinned.push({ pkg: item.pkg, entry: item.entry });
      continue;
    }
    if (!item.kind && item.notes.length === 0) item.notes.push('the snapshot archive names no dated import of its file in debian or debian-security');
    out.unpinned.push({ pkg: item.pkg, kind: item.kind ?? 'unlisted', reason: item.notes.join('; ') });
  }
  if (out.pinned.length) o.log.info(`snapshot archive: pinned ${out.pinned.length} of ${missing.length} package(s) from signed dated indexes`);
  return out;
}

/** The size of the form of an index that would be fetched (the first of INDEX_EXTS the release lists). */
function fetchSize(release: ReleaseFile, relPath: string): number {
  for (const ext of INDEX_EXTS) {
    const e = release.sha256.get(`${relPath}${ext}`);
    if (e) return e.size;
  }
  return Number.MAX_SAFE_INTEGER;
}

/**
 * One dated import: every candidate suite's release first (small files), then, per package, the indexes
 * that could list it from the smallest up: a stable update is in the small -proposed-updates or -security
 * index at its import, and a whole suite's index is many times larger.
 */
async function checkImport(trees: DatedTrees, archive: string, ts: string, items: Pending[], o: EvidenceOptions): Promise<void> {
  const releases = await Promise.all(
    suitesFor(archive, o.codename, o.sources).map(async (suite) => {
      try {
        const rel = await trees.release(archive, ts, suite);
        return rel ? { suite, rel } : undefined;
      } catch (e) {
        for (const i of items) if (!i.entry) fail(i, e);
        return undefined;
      }
    }),
  );
  const found = releases.filter((r): r is NonNullable<typeof r> => r !== undefined);
  const texts = new Map<string, Promise<string | undefined>>();
  for (const item of items) {
    if (item.entry) continue;
    const arch = item.pkg.arch === 'all' ? (o.nativeArch ?? 'all') : item.pkg.arch;
    const candidates = found
      .flatMap(({ suite, rel }) => indexPaths(rel.release, arch, item.pkg.component).map((relPath) => ({ suite, rel, relPath, size: fetchSize(rel.release, relPath) })))
      .sort((a, b) => a.size - b.size);
    for (const { suite, rel, relPath } of candidates) {
      const dir = trees.dir(archive, ts, suite);
      let text: string | undefined;
      try {
        let p = texts.get(`${dir}/${relPath}`);
        if (!p) texts.set(`${dir}/${relPath}`, (p = trees.index(dir, rel, relPath)));
        text = await p;
      } catch (e) {
        fail(item, e);
        continue;
      }
      const st = text ? findStanzas(text, item.pkg.name).find((f) => f.get('version') === item.pkg.version && f.get('architecture') === item.pkg.arch) : undefined;
      if (!st) continue;
      const verdict = judgeStanza(st, item.files, `${rel.where} ${relPath}`);
      if (typeof verdict === 'string') {
        item.kind = 'tampered';
        item.notes.push(verdict);
      } else {
        item.entry = verdict;
        o.log.verbose(`${item.pkg.name}=${item.pkg.version}: pinned from ${rel.where} (${relPath})`);
      }
      break;
    }
  }
  const tried = found.map((r) => r.suite).join(', ') || 'none';
  for (const i of items) {
    if (i.entry || i.kind === 'tampered' || i.kind === 'unavailable') continue;
    i.kind = 'unlisted';
    i.notes.push(`no signed index of ${archive} at ${ts} lists it (suites with a release then: ${tried})`);
  }
}

function fail(item: Pending, e: unknown): void {
  const integrity = e instanceof PingetError && (e.code === 'INTEGRITY' || e.code === 'BAD_INPUT');
  if (integrity) item.kind = 'tampered';
  else if (item.kind !== 'tampered') item.kind = 'unavailable';
  item.notes.push(describe(e));
}
